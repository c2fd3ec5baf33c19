"""The reports replica's own RocksDB of the worker's `reports` changelog: windows and signals as last
written, expired ones gone, the stores of a region and no other, a record that does not read back
refused whole; the databases killed replicas left behind removed, and no open one."""

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from pydantic import ValidationError

from services.analytics.domain.windows import Granularity, OpenSignals, Window, signals_key, window_key
from services.analytics.reports.store import PREFIX, ReportWindows, remove_abandoned
from services.shared.events.signals import LossPreventionSignal
from tests.support.builders import example

DAY = datetime(2026, 11, 30, 22, tzinfo=UTC)  # a local midnight in Helsinki
KOT, KOT_X = ("kymi", "kot"), ("kymi", "kot-x")  # one store's name the start of another's
ELSEWHERE = ("kymi-north", "kouvola")  # a region whose name starts with another's


@pytest.fixture
def windows():
    kept = ReportWindows()
    with kept.kept():
        yield kept


def record(key: bytes, value: bytes | None) -> SimpleNamespace:
    return SimpleNamespace(key=key, value=value)  # all a changelog record is to the store


def window(complaints: float) -> Window:
    return Window(counters={"complaints_filed_total|quality|web": complaints}, staffed_seconds=3600)


def put(windows: ReportWindows, store: tuple[str, str], at: datetime, value: Window | None) -> None:
    windows.apply(record(window_key(*store, Granularity.day, at), None if value is None else value.model_dump_json().encode()))


def test_a_store_s_windows_read_back_as_last_written_and_an_expired_one_is_gone(windows):
    days = [DAY + timedelta(days=n) for n in range(4)]
    for n, at in enumerate(days):
        put(windows, KOT, at, window(n))
    put(windows, KOT, days[1], window(10))  # written again
    put(windows, KOT, days[0], None)  # expired
    expected = [(days[1], window(10)), (days[2], window(2)), (days[3], window(3))]
    assert windows.found([KOT], Granularity.day, days) == {"kot": expected}
    assert windows.found([KOT, KOT_X], Granularity.day, days[2:3]) == {"kot": [(days[2], window(2))], "kot-x": []}
    assert windows.found([KOT], Granularity.hour, days) == {"kot": []}  # the same starts, other windows
    assert windows.found([KOT], Granularity.day, []) == {"kot": []}


def test_only_the_windows_that_start_at_the_starts_asked_for_are_found(windows):
    hours = [DAY + timedelta(hours=n) for n in range(6)]
    for at in hours:
        windows.apply(record(window_key(*KOT, Granularity.hour, at), window(at.hour).model_dump_json().encode()))
    put(windows, KOT_X, DAY, window(1))  # a key of another store right after the store's own
    asked = [hours[1], hours[3], hours[4]]
    assert windows.found([KOT], Granularity.hour, asked) == {"kot": [(at, window(at.hour)) for at in asked]}


def test_the_stores_of_a_region_are_its_own_and_only_its_own(windows):
    for store in (KOT_X, ELSEWHERE, KOT):
        put(windows, store, DAY, window(1))
    assert windows.stores("kymi", None) == [KOT, KOT_X]
    assert windows.stores("kymi", "kot") == [KOT]
    assert windows.stores(None, None) == sorted([KOT, KOT_X, ELSEWHERE])
    assert windows.stores("kymi-north", "kot") == []
    assert windows.stores("savo", None) == []


def test_open_signals_read_back_and_a_store_with_only_signals_is_a_store_of_its_region(windows):
    signals = OpenSignals(signals=[example(LossPreventionSignal, region_id="kymi", store_id="kot")])
    windows.apply(record(signals_key(*KOT), signals.model_dump_json().encode()))
    assert windows.signals(KOT) == signals and windows.stores("kymi", None) == [KOT]
    windows.apply(record(signals_key(*KOT), None))  # none open any more
    assert windows.signals(KOT) is None


def test_a_record_that_does_not_read_back_is_refused_and_keeps_nothing(windows):
    put(windows, KOT, DAY, window(1))
    with pytest.raises(ValidationError):
        windows.apply(record(window_key(*KOT, Granularity.day, DAY), b'{"counters": "many"}'))
    with pytest.raises(ValidationError):
        windows.apply(record(window_key(*KOT_X, Granularity.day, DAY), b"{not json"))
    with pytest.raises(ValueError):
        windows.apply(record(b"kymi|kot|fortnight|2026-11-30T22:00Z", window(1).model_dump_json().encode()))
    assert windows.found([KOT], Granularity.day, [DAY]) == {"kot": [(DAY, window(1))]}
    assert windows.stores(None, None) == [KOT]


def test_each_opening_starts_empty_and_a_closed_store_is_not_read():
    windows = ReportWindows()
    with windows.kept():
        put(windows, KOT, DAY, window(1))
    with windows.kept():
        assert windows.stores(None, None) == []
    with pytest.raises(RuntimeError, match="not open"):
        windows.stores(None, None)


def _replica_process(parent: Path, exits: bool) -> subprocess.Popen:
    """A process that opens a reports database under `parent` as a replica does, says so, and then
    either exits without removing it (as a killed replica leaves it) or keeps it open until killed."""
    script = (
        "import sys, tempfile, pathlib\n"
        "from rocksdict import Rdict\n"
        f"db = Rdict(str(pathlib.Path(tempfile.mkdtemp(prefix={PREFIX!r}, dir=sys.argv[1])) / 'windows'))\n"
        "print('open', flush=True)\n"
        "if sys.argv[2] == 'exits':\n    import os; os._exit(0)\n"
        "sys.stdin.read()\n"
    )
    child = subprocess.Popen([sys.executable, "-c", script, str(parent), "exits" if exits else "stays"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline() == "open\n"
    return child


def test_the_databases_replicas_left_behind_are_removed_and_the_open_ones_kept(tmp_path):
    abandoned = _replica_process(tmp_path, exits=True)
    abandoned.wait()
    live = _replica_process(tmp_path, exits=False)
    being_made = tmp_path / f"{PREFIX}new"  # its database not yet open: no lock file to go by
    being_made.mkdir()
    try:
        assert len(list(tmp_path.glob(f"{PREFIX}*"))) == 3
        windows = ReportWindows()
        with windows.kept(tmp_path):
            put(windows, KOT, DAY, window(1))
            remaining = set(tmp_path.glob(f"{PREFIX}*"))
            assert len(remaining) == 3 and being_made in remaining  # the abandoned one went; the live, the new and ours stay
            remove_abandoned(tmp_path)  # as another replica starting now would
            assert set(tmp_path.glob(f"{PREFIX}*")) == remaining
            assert windows.found([KOT], Granularity.day, [DAY]) == {"kot": [(DAY, window(1))]}
        assert len(list(tmp_path.glob(f"{PREFIX}*"))) == 2  # ours removed as it closed
    finally:
        live.kill()
        live.wait()
    remove_abandoned(tmp_path)  # the live one's process has ended
    assert list(tmp_path.glob(f"{PREFIX}*")) == [being_made]
