"""The worker keeps only the stores it counted last decoded, so that its memory does not grow with its
stores: a store read again, from the table or from what the batch made of it, counts exactly as one
kept decoded would, to the byte. What a store keeps decoded is kept small, in the same JSON."""

import itertools
from uuid import uuid4

from services.analytics.domain.signals import SignalRules
from services.analytics.domain.totals import StoreTotals
from services.analytics.domain.windows import WindowRules
from services.analytics.handlers import Counted, Received, StoreTally
from services.shared.events import returns as r
from services.shared.events.envelope import encode
from tests.support.builders import example
from tests.support.tallies import AT, KAMPPI, REGION, SELLO, filed, received, returns_by_staff, written

ITIS = "hel-itis"


def counted_in_batches(events: list[Received[int]], decoded: int) -> tuple[list[tuple[dict, dict, list[bytes]]], StoreTally]:
    """What each batch of seven wrote and published, written to the tables as the worker does; the
    third batch is read twice (a replay after a crash)."""
    totals: dict[bytes, bytes] = {}
    reports: dict[bytes, bytes] = {}
    tally = StoreTally(totals, reports, SignalRules(), WindowRules(), decoded)
    batches = [events[n:n + 7] for n in range(0, len(events), 7)]
    outputs = []
    for batch in [*batches[:3], batches[2], *batches[3:]]:
        counted: Counted[int] = tally.count(batch)
        outputs.append((dict(counted.totals), dict(counted.reports), [encode(signal) for signal in counted.signals]))
        written(reports, counted.reports)
        written(totals, counted.totals)
    return outputs, tally


def interleaved() -> list[Received[int]]:
    """Complaints at three stores, one after the other, among the returns that raise a signal at Kamppi."""
    complaints = [filed(store) for store in itertools.islice(itertools.cycle((KAMPPI, SELLO, ITIS)), 40)]
    returns = returns_by_staff()
    declined = [example(r.ReturnRejected, store_id=SELLO, region_id=REGION, return_id=uuid4(), at=AT)]
    mixed = [event for pair in itertools.zip_longest(complaints, returns) for event in pair if event is not None]
    return received([*mixed, *declined], "complaints")


def test_stores_read_again_count_to_the_same_bytes_as_stores_kept_decoded():
    events = interleaved()
    kept, _ = counted_in_batches(events, decoded=64)
    read_again, _ = counted_in_batches(events, decoded=1)
    assert any(signals for _, _, signals in kept)
    assert read_again == kept


def test_only_the_stores_counted_last_stay_decoded():
    _, tally = counted_in_batches(interleaved(), decoded=2)
    assert len(tally.decoded) == 2


def test_open_complaints_read_and_write_the_json_they_were_written_in():
    one = '{"filed_at":"2026-11-23T09:15:00Z","acknowledged":true}'
    written = StoreTotals().model_dump_json().replace('"open":{}', f'"open":{{"c-1":{one}}}')
    totals = StoreTotals.model_validate_json(written)
    assert (totals.open["c-1"].filed_at, totals.open["c-1"].acknowledged) == (AT, True)
    assert totals.model_dump_json() == written


def test_a_batch_of_more_stores_than_are_kept_decoded_is_written_a_run_of_stores_at_a_time():
    events = interleaved()
    whole: tuple[dict[bytes, bytes], dict[bytes, bytes]] = {}, {}
    counted = StoreTally(*whole, SignalRules(), WindowRules()).count(events)
    written(whole[0], counted.totals)
    written(whole[1], counted.reports)

    by_runs: tuple[dict[bytes, bytes], dict[bytes, bytes]] = {}, {}
    tally = StoreTally(*by_runs, SignalRules(), WindowRules(), decoded=2)
    runs = list(tally.runs(events))
    assert [event for run in runs for event in run] == events
    assert len(runs) > 1 and all(len({event.envelope.data.store_id for event in run}) <= 2 for run in runs)
    for run in runs:
        counted = tally.count(run)
        written(by_runs[1], counted.reports)
        written(by_runs[0], counted.totals)
    assert by_runs == whole
