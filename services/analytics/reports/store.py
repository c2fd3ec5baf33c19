"""What a reports replica keeps of the analytics worker's `reports` table (its compacted changelog):
every store's hourly and daily windows and open loss-prevention signals, in a RocksDB of the replica's
own on disk, so its memory stays the same however many stores and days of windows the chain keeps.
The replica reads the changelog from the start into a fresh database whenever it starts; replicas
share nothing and need no coordination. Records are kept as they came and decoded when a report
asks for them."""

import fcntl
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import structlog
from aiokafka import ConsumerRecord
from pydantic import BaseModel
from rocksdict import BlockBasedOptions, Cache, Options, Rdict

from services.analytics.domain.windows import Granularity, OpenSignals, Window, parse_window_key, signals_key, start_text

log = structlog.get_logger()
MIB = 2**20
PREFIX = "analytics-reports-"
_open: set[Path] = set()  # this process's own databases: its own POSIX locks do not keep it out of them
# Keys: a window's or a store's signals' changelog key behind a prefix of its kind, and every store
# seen in the index (the stores of a region are then one range of keys).
WINDOW, SIGNALS, STORE = b"w", b"s", b"i"
Found = dict[str, list[tuple[datetime, Window]]]  # store → its windows in a period, each with its start


class ReportWindows:
    """The windows and open signals of every store, as the worker last wrote them; open while `kept()`
    runs."""

    def __init__(self) -> None:
        self._db: Rdict | None = None

    @contextmanager
    def kept(self, parent: Path | None = None) -> Iterator[None]:
        """Opens an empty database in a temporary directory (under `parent`, by default TMPDIR), removed
        when this ends; first removes those that replicas killed before they could remove theirs left."""
        parent = Path(parent or tempfile.gettempdir())
        remove_abandoned(parent)
        with tempfile.TemporaryDirectory(prefix=PREFIX, dir=parent) as directory:
            self._db = Rdict(str(Path(directory) / "windows"), _options())
            _open.add(Path(directory))
            try:
                yield
            finally:
                _open.discard(Path(directory))
                self._db.close()
                self._db = None

    @property
    def db(self) -> Rdict:
        if self._db is None:
            raise RuntimeError("the report windows are not open")
        return self._db

    def apply(self, record: ConsumerRecord) -> None:
        """Keeps the record as it came, once it is known to read back: one that does not raises here,
        and the follower skips it, rather than failing every report that would read it."""
        if record.key.endswith(b"|signals"):
            region, store, _ = record.key.decode().split("|")
            self._put(SIGNALS + record.key, (region, store), OpenSignals, record.value)
        else:
            region, store, _, _ = parse_window_key(record.key)
            self._put(WINDOW + record.key, (region, store), Window, record.value)

    def _put(self, key: bytes, store: tuple[str, str], model: type[BaseModel], value: bytes | None) -> None:
        if value is None:  # an expired window, or no signal open any more
            self.db.delete(key)
            return
        model.model_validate_json(value)
        self.db[key] = value
        self.db[_store_key(*store)] = b""

    def stores(self, region: str | None, store: str | None) -> list[tuple[str, str]]:
        """The stores seen (with windows or signals) in the region, or all of them, or the one store."""
        prefix = STORE + (f"{region}|".encode() if region is not None else b"")
        found = []
        for key in self.db.keys(from_key=prefix):
            if not key.startswith(prefix):
                break
            seen = tuple(key[len(STORE):].decode().split("|"))
            if store in (None, seen[1]):
                found.append(seen)
        return sorted(found)

    def found(self, stores: list[tuple[str, str]], granularity: Granularity, starts: list[datetime]) -> Found:
        """Each store's windows that start at `starts`, each with its start: one range of keys a store."""
        wanted = {start_text(at).encode(): at for at in starts}
        found: Found = {store: [] for _, store in stores}
        if not wanted:
            return found
        first, last = min(wanted), max(wanted)
        for region, store in stores:
            kept = found[store]
            prefix = WINDOW + f"{region}|{store}|{granularity}|".encode()
            at = self.db.iter()
            at.seek(prefix + first)
            while at.valid() and (key := at.key()) <= prefix + last:
                if (start := wanted.get(key[len(prefix):])) is not None:
                    kept.append((start, Window.model_validate_json(at.value())))
                at.next()
        return found

    def signals(self, store: tuple[str, str]) -> OpenSignals | None:
        value = self.db.get(SIGNALS + signals_key(*store))
        return None if value is None else OpenSignals.model_validate_json(value)


def remove_abandoned(parent: Path) -> None:
    """Removes the databases in `parent` that no process has open: RocksDB holds a lock on its LOCK file
    while a database is open, which the system lets go of when the process ends, however it ends. Without
    this a replica restarted again and again in the same pod (its /tmp an emptyDir) would fill the disk."""
    for directory in parent.glob(f"{PREFIX}*"):
        lock = directory / "windows" / "LOCK"
        if directory in _open or not lock.exists():  # this process's own, or one still being made
            continue
        try:
            with lock.open("rb+") as file:
                fcntl.lockf(file, fcntl.LOCK_EX | fcntl.LOCK_NB)  # the lock RocksDB takes (fcntl F_SETLK)
        except OSError:
            continue  # held: another replica's
        shutil.rmtree(directory, ignore_errors=True)
        log.info("removed an abandoned reports database", directory=str(directory))


def _store_key(region: str, store: str) -> bytes:
    return STORE + f"{region}|{store}".encode()


def _options() -> Options:
    """Small, fixed buffers: the windows are read back a few at a time and the operating system's page
    cache keeps what is read often."""
    options = Options(raw_mode=True)
    options.create_if_missing(True)
    options.set_write_buffer_size(4 * MIB)
    options.set_max_write_buffer_number(2)
    table = BlockBasedOptions()
    table.set_block_cache(Cache(8 * MIB))
    options.set_block_based_table_factory(table)
    return options
