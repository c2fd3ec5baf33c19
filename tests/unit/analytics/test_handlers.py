"""What the analytics worker makes of a batch of events, without Kafka: each changed store's totals
written once, replays changing nothing, expired windows deleted, loss-prevention signals with ids
derived from the event that raised them, and the regions' coordination totals."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

from services.analytics.domain.totals import StoreTotals
from services.analytics.domain.windows import Granularity, OpenSignals, Window, signals_key, window_key
from services.analytics.handlers import Received, count_regions
from services.analytics.topics import signal_id
from services.shared.events import coordination as co
from services.shared.events import returns as r
from services.shared.events.envelope import wrap
from services.shared.events.signals import LossPreventionSignal
from tests.support.builders import example
from tests.support.tallies import AT, KAMPPI, REGION, SELLO, filed, received, returns_by_staff, tally, written

def filed_count(raw: bytes) -> float:
    totals = StoreTotals.model_validate_json(raw)
    return sum(s.value for s in totals.series.values() if s.metric == "retail_complaints_filed")


# ---- a batch of store events -------------------------------------------------------------------


def test_a_batch_with_events_of_two_stores_writes_each_stores_totals_once_with_its_last_event():
    batch = received([filed(KAMPPI), filed(SELLO), filed(KAMPPI)], "complaints")
    counted = tally({}, {}).count(batch)
    assert {key: origin for key, (_, origin) in counted.totals.items()} == {KAMPPI.encode(): 2, SELLO.encode(): 1}
    assert filed_count(counted.totals[KAMPPI.encode()][0]) == 2
    assert filed_count(counted.totals[SELLO.encode()][0]) == 1


def test_a_batch_writes_each_window_once_with_every_event_of_its_hour_and_day():
    counted = tally({}, {}).count(received([filed(KAMPPI), filed(KAMPPI)], "complaints"))
    hour = window_key(REGION, KAMPPI, Granularity.hour, AT.replace(minute=0))
    day = window_key(REGION, KAMPPI, Granularity.day, datetime(2026, 11, 22, 22, tzinfo=UTC))  # Helsinki midnight
    assert set(counted.reports) == {hour, day}
    assert all(origin == 1 for _, origin in counted.reports.values())
    assert sum(Window.model_validate_json(counted.reports[hour][0]).counters.values()) == 2


def test_totals_and_windows_that_do_not_read_back_are_counted_afresh():
    """A worker restored on a new disk from changelogs holding garbage goes on counting."""
    hour = window_key(REGION, KAMPPI, Granularity.hour, AT.replace(minute=0))
    garbage = b"\xff\x00 not a value"
    counted = tally({KAMPPI.encode(): garbage}, {hour: garbage}).count(received([filed(KAMPPI)], "complaints"))
    assert filed_count(counted.totals[KAMPPI.encode()][0]) == 1
    assert sum(Window.model_validate_json(counted.reports[hour][0]).counters.values()) == 1
    regions = count_regions({REGION.encode(): garbage}, received([example(co.ProblemDetected)], "coordination"))
    assert set(regions) == {REGION.encode()}


def test_totals_carried_over_from_an_earlier_batch_are_added_to():
    worker, totals = tally({}, {}), {}
    written(totals, worker.count(received([filed(KAMPPI)], "complaints")).totals)
    counted = worker.count(received([filed(KAMPPI)], "complaints", first_offset=1))
    assert filed_count(counted.totals[KAMPPI.encode()][0]) == 2


def test_a_worker_that_lost_its_partitions_reads_the_totals_again_from_the_table():
    totals: dict[bytes, bytes] = {}
    worker = tally(totals, {})
    worker.count(received([filed(KAMPPI)], "complaints"))  # never written: the batch was not finished
    worker.forget()
    counted = worker.count(received([filed(KAMPPI)], "complaints", first_offset=1))
    assert filed_count(counted.totals[KAMPPI.encode()][0]) == 1


def values(changes: dict[bytes, tuple[bytes | None, int]]) -> dict[bytes, bytes | None]:
    return {key: value for key, (value, _) in changes.items()}


def test_an_event_read_again_at_the_same_offset_changes_nothing_and_writes_it_all_again():
    """The local store is written before its changelog: after a crash in between, what a replayed event
    counted may be on this disk only, so it is written again, unchanged, for a worker on a new disk."""
    totals, reports = {}, {}
    batch = received([filed(KAMPPI), filed(SELLO)], "complaints")
    worker = tally(totals, reports)
    first = worker.count(batch)
    written(totals, first.totals), written(reports, first.reports)
    for again in (worker.count(batch), tally(totals, reports).count(batch)):  # and after a restart
        assert (values(again.totals), values(again.reports), again.signals) == (totals, reports, [])


def test_after_a_crash_between_the_windows_and_the_totals_the_events_count_again_into_the_totals_only():
    totals, reports = {}, {}
    batch = received([filed(KAMPPI)], "complaints")
    written(reports, tally(totals, reports).count(batch).reports)  # the totals were never written
    again = tally(totals, reports).count(batch)
    assert filed_count(again.totals[KAMPPI.encode()][0]) == 1
    assert values(again.reports) == reports  # the windows knew the offset: written again, as they were


def test_a_window_the_stores_latest_event_leaves_behind_is_deleted():
    totals, reports = {}, {}
    worker = tally(totals, reports)
    first = worker.count(received([filed(KAMPPI)], "complaints"))
    written(totals, first.totals), written(reports, first.reports)
    later = AT + timedelta(days=15)  # hourly windows are kept 14 days, daily ones 400
    counted = worker.count(received([filed(KAMPPI, filed_at=later)], "complaints", first_offset=1, at=later))
    old_hour = window_key(REGION, KAMPPI, Granularity.hour, AT.replace(minute=0))
    old_day = window_key(REGION, KAMPPI, Granularity.day, datetime(2026, 11, 22, 22, tzinfo=UTC))
    assert counted.reports[old_hour] == (None, 1)
    assert old_day not in counted.reports
    assert window_key(REGION, KAMPPI, Granularity.hour, later.replace(minute=0)) in counted.reports


def test_an_event_too_old_for_any_kept_hour_is_counted_in_the_totals_and_its_day_only():
    worker = tally({}, {})
    worker.count(received([filed(KAMPPI)], "complaints"))
    late = AT - timedelta(days=20)
    counted = worker.count(received([filed(KAMPPI, filed_at=late)], "complaints", first_offset=1, at=late))
    assert filed_count(counted.totals[KAMPPI.encode()][0]) == 2
    assert set(counted.reports) == {window_key(REGION, KAMPPI, Granularity.day, datetime(2026, 11, 2, 22, tzinfo=UTC))}


# ---- loss-prevention signals -------------------------------------------------------------------


def test_a_return_that_makes_a_rate_stand_out_publishes_a_signal_with_an_id_derived_from_it():
    batch = received(returns_by_staff(), "returns")
    counted = tally({}, {}).count(batch)
    [published] = counted.signals
    signal = published.data
    assert isinstance(signal, LossPreventionSignal)
    assert (signal.store_id, signal.staff_id, signal.metric) == (KAMPPI, "emp-7004", "policy_exception_rate")
    assert (signal.value, signal.peer_median, signal.robust_z) == (0.2, 0.0, 4.0)  # 2 of 10, peers at 0, 0.1 and 0
    raised_by = [e.envelope for e in batch if isinstance(e.envelope.data, r.ReturnExceptionGranted)
                 and e.envelope.data.requested_by == "emp-7004"][1]  # its second exception
    assert published.id == signal.signal_id == signal_id(raised_by.id, "emp-7004", "policy_exception_rate")


def test_the_same_events_counted_again_from_the_same_tables_raise_the_same_signal_ids():
    batch = received(returns_by_staff(), "returns")
    first, again = tally({}, {}).count(batch), tally({}, {}).count(batch)  # a replay after a crash before the totals
    assert [e.id for e in first.signals] == [e.id for e in again.signals] != []


def test_a_signal_raised_is_kept_open_for_the_reports_and_raised_once():
    totals, reports = {}, {}
    worker = tally(totals, reports)
    batch = received(returns_by_staff(), "returns")
    counted = worker.count(batch)
    open_now = OpenSignals.model_validate_json(counted.reports[signals_key(REGION, KAMPPI)][0])
    assert [(s.staff_id, s.signal_id) for s in open_now.signals] == [("emp-7004", counted.signals[0].id)]
    more = [example(r.ReturnExceptionGranted, store_id=KAMPPI, region_id=REGION, return_id=uuid4(), at=AT,
                    requested_by="emp-7004")]
    assert worker.count(received(more, "returns", first_offset=len(batch))).signals == []  # still standing out


# ---- a region's coordination totals ------------------------------------------------------------


def test_coordination_events_are_counted_into_their_regions_totals_each_written_once():
    events = [example(co.ProblemDetected, region_id=REGION), example(co.PolicyProposed, region_id="pirkanmaa"),
              example(co.PolicyProposed, region_id=REGION)]
    changed = count_regions({}, received(events, "coordination"))
    assert {key: origin for key, (_, origin) in changed.items()} == {REGION.encode(): 2, b"pirkanmaa": 1}
    series = StoreTotals.model_validate_json(changed[REGION.encode()][0]).series.values()
    assert {(s.metric, s.value) for s in series} == {("retail_common_problems_detected", 1.0),
                                                      ("retail_policy_proposals", 1.0)}


def test_coordination_events_read_again_change_no_region_and_write_it_again():
    batch = received([example(co.ProblemDetected, region_id=REGION)], "coordination")
    regions = written({}, count_regions({}, batch))
    assert values(count_regions(regions, batch)) == regions


def test_a_coordination_event_published_twice_is_counted_once():
    detected = wrap(example(co.ProblemDetected, region_id=REGION), source="/tests", time=AT)
    twice = [Received(detected, ("coordination", 0), 0), Received(detected, ("coordination", 1), 1)]
    [(raw, origin)] = count_regions({}, twice).values()
    assert origin == 1  # written once, with the last event that came
    assert [s.value for s in StoreTotals.model_validate_json(raw).series.values()] == [1.0]
