"""Staffed time from the scheduling service's shifts: which shifts count, their hours in each hourly and
daily window they overlap, moved by an edit and taken back by a cancellation, each event counted once;
complaints per staffed hour by store and window; and the staff on duty as Prometheus reads them."""

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest
from prometheus_client.parser import text_string_to_metric_families

from services.analytics.domain.reports import Staffed, StaffedWindow, Sums, staffing
from services.analytics.domain.signals import SignalRules
from services.analytics.domain.staffing import Shift, ShiftChange, Staffing, counted
from services.analytics.domain.totals import StoreTotals
from services.analytics.domain.windows import Granularity, Window, WindowRules, overlaps, restaffed_seconds, window_key
from services.analytics.handlers import Received, StoreTally
from services.analytics.metrics import ON_DUTY, TotalsExposition
from services.shared.events import complaints as c
from services.shared.events import scheduling as s
from services.shared.events.envelope import Envelope, Event, wrap
from tests.support.builders import example

RULES = WindowRules()  # Helsinki days
HELSINKI = RULES.timezone
HOUR, DAY = Granularity.hour, Granularity.day
REGION, KAMPPI = "uusimaa", "hel-kamppi"
PUBLISHED = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)  # when the week's shifts were published
SHIFT = UUID(int=1)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def shift(start: datetime, end: datetime) -> Shift:
    return Shift(starts_at=start, ends_at=end)


def scheduled(start: datetime, end: datetime, shift_id: UUID = SHIFT, role: str = "associate") -> s.ShiftScheduled:
    return example(s.ShiftScheduled, store_id=KAMPPI, region_id=REGION, shift_id=shift_id, role=role, starts_at=start,
                   ends_at=end)


def cancelled(shift_id: UUID = SHIFT) -> s.ShiftCancelled:
    return example(s.ShiftCancelled, store_id=KAMPPI, region_id=REGION, shift_id=shift_id, at=PUBLISHED)


# ---- which shifts count ------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["associate", "coordinator", "store_manager"])
def test_a_shift_of_a_role_that_staffs_the_store_counts_with_its_times(role):
    start, end = utc(2026, 11, 24, 8), utc(2026, 11, 24, 16)
    assert counted(scheduled(start, end, role=role)) == shift(start, end)


@pytest.mark.parametrize("role", ["regional_coordinator", "senior_manager"])
def test_a_shift_of_a_role_that_serves_a_region_or_the_chain_does_not_count(role):
    assert counted(scheduled(utc(2026, 11, 24, 8), utc(2026, 11, 24, 16), role=role)) is None


@pytest.mark.parametrize(("start", "end"), [
    (utc(2026, 11, 24, 16), utc(2026, 11, 24, 8)),  # ends before it starts
    (utc(2026, 11, 24, 8), utc(2026, 11, 24, 8)),
    (utc(2026, 11, 24, 8), utc(2026, 11, 25, 8, 1)),  # longer than a day
    (utc(2000, 1, 1), utc(2099, 12, 31)),
], ids=["backwards", "empty", "over a day", "a century"])
def test_times_no_shift_can_have_do_not_count(start, end):
    assert counted(scheduled(start, end)) is None


def test_a_shift_of_exactly_a_day_counts():
    assert counted(scheduled(utc(2026, 11, 24, 8), utc(2026, 11, 25, 8))) is not None


# ---- a store's shifts --------------------------------------------------------------------------


def test_an_edit_hands_on_the_old_and_new_times_and_a_cancellation_takes_them_back():
    staffing = Staffing(region_id=REGION, store_id=KAMPPI)
    early, late = shift(utc(2026, 11, 24, 8), utc(2026, 11, 24, 16)), shift(utc(2026, 11, 24, 10), utc(2026, 11, 24, 18))
    assert staffing.change("a", early, PUBLISHED) == ShiftChange(None, early)
    assert staffing.change("a", late, PUBLISHED) == ShiftChange(early, late)
    assert staffing.change("a", None, PUBLISHED) == ShiftChange(late, None)
    assert staffing.change("a", None, PUBLISHED) == ShiftChange(None, None) and staffing.shifts == {}


def test_shifts_that_ended_over_a_day_before_the_stores_latest_event_are_forgotten():
    staffing = Staffing(region_id=REGION, store_id=KAMPPI)
    staffing.change("monday", shift(utc(2026, 11, 23, 8), utc(2026, 11, 23, 16)), PUBLISHED)
    staffing.change("tuesday", shift(utc(2026, 11, 24, 8), utc(2026, 11, 24, 16)), utc(2026, 11, 24, 15, 59))
    assert set(staffing.shifts) == {"monday", "tuesday"}  # Monday's ended less than a day ago
    staffing.change("friday", shift(utc(2026, 11, 27, 8), utc(2026, 11, 27, 16)), utc(2026, 11, 24, 16, 1))
    assert set(staffing.shifts) == {"tuesday", "friday"}


def test_on_duty_counts_the_shifts_under_way_from_their_start_to_before_their_end():
    staffing = Staffing(region_id=REGION, store_id=KAMPPI)
    staffing.change("a", shift(utc(2026, 11, 24, 8), utc(2026, 11, 24, 16)), PUBLISHED)
    staffing.change("b", shift(utc(2026, 11, 24, 12), utc(2026, 11, 24, 20)), PUBLISHED)
    assert [staffing.on_duty(utc(2026, 11, 24, h)) for h in (7, 8, 12, 15, 16, 20)] == [0, 1, 2, 2, 1, 0]


# ---- staffed time in windows -------------------------------------------------------------------


def test_a_shift_counts_its_share_of_each_hour_it_overlaps():
    assert overlaps(shift(utc(2026, 11, 24, 8, 30), utc(2026, 11, 24, 10, 15)), HOUR, HELSINKI) == {
        utc(2026, 11, 24, 8): 1800, utc(2026, 11, 24, 9): 3600, utc(2026, 11, 24, 10): 900,
    }


def test_a_night_shift_counts_into_both_local_days():
    night = shift(utc(2026, 11, 24, 18), utc(2026, 11, 25, 2))  # 20:00–04:00 in Helsinki
    assert overlaps(night, DAY, HELSINKI) == {utc(2026, 11, 23, 22): 4 * 3600, utc(2026, 11, 24, 22): 4 * 3600}


def test_a_night_shift_across_the_autumn_dst_change_counts_the_hours_really_worked():
    night = shift(utc(2026, 10, 24, 20), utc(2026, 10, 25, 4))  # 23:00 EEST to 06:00 EET: 8 hours
    by_day = overlaps(night, DAY, HELSINKI)
    assert by_day == {utc(2026, 10, 23, 21): 3600, utc(2026, 10, 24, 21): 7 * 3600}
    assert sum(overlaps(night, HOUR, HELSINKI).values()) == sum(by_day.values()) == 8 * 3600


def test_an_edit_moves_the_staffed_time_and_leaves_out_the_hours_it_did_not_change():
    edit = ShiftChange(shift(utc(2026, 11, 24, 8), utc(2026, 11, 24, 11)), shift(utc(2026, 11, 24, 9), utc(2026, 11, 24, 12)))
    assert restaffed_seconds([edit], HOUR, HELSINKI) == {utc(2026, 11, 24, 8): -3600, utc(2026, 11, 24, 11): 3600}
    assert restaffed_seconds([edit], DAY, HELSINKI) == {}  # still 3 hours on the same day


def test_a_cancellation_takes_back_the_staffed_time_of_every_window():
    cancel = ShiftChange(shift(utc(2026, 11, 24, 8, 30), utc(2026, 11, 24, 10)), None)
    assert restaffed_seconds([cancel], HOUR, HELSINKI) == {utc(2026, 11, 24, 8): -1800, utc(2026, 11, 24, 9): -3600}


# ---- the worker's windows ----------------------------------------------------------------------


def tally(totals: dict[bytes, bytes], reports: dict[bytes, bytes]) -> StoreTally:
    return StoreTally(totals, reports, SignalRules(), WindowRules())


def received(envelopes: list[Envelope], topic: str = "scheduling", first_offset: int = 0) -> list[Received[int]]:
    return [Received(envelope, (topic, offset), offset) for offset, envelope in enumerate(envelopes, start=first_offset)]


def published(*events: Event, at: datetime = PUBLISHED) -> list[Envelope]:
    return [wrap(event, source="/tests", time=at) for event in events]


def staffed_hours(windows: dict[bytes, bytes | None], granularity: Granularity) -> dict[datetime, float]:
    """The staffed hours of the windows, by start."""
    found = {}
    for key, raw in windows.items():
        _, _, kind, start = key.decode().split("|")
        if kind == granularity and raw is not None:
            found[datetime.strptime(start, "%Y-%m-%dT%H:%M%z")] = Window.model_validate_json(raw).staffed_seconds / 3600
    return found


def counted_in(worker: StoreTally, tables: tuple[dict, dict], batch: list[Received[int]]) -> dict[bytes, bytes | None]:
    """Counts the batch as the worker does and writes the tables; returns the windows written (None: deleted)."""
    totals, reports = tables
    result = worker.count(batch)
    for table, changes in ((reports, result.reports), (totals, result.totals)):
        for key, (value, _) in changes.items():
            if value is None:
                table.pop(key, None)
            else:
                table[key] = value
    return {key: value for key, (value, _) in result.reports.items()}


def test_a_shift_edited_then_another_cancelled_leaves_the_latest_times_in_the_windows():
    other, tables = uuid4(), ({}, {})
    events = published(scheduled(utc(2026, 11, 24, 8), utc(2026, 11, 24, 10)),
                       scheduled(utc(2026, 11, 24, 9), utc(2026, 11, 24, 11)),  # edited
                       scheduled(utc(2026, 11, 24, 9), utc(2026, 11, 24, 17), shift_id=other),
                       cancelled(other))
    written = counted_in(tally(*tables), tables, received(events))
    assert {start.hour: hours for start, hours in staffed_hours(written, HOUR).items() if hours} == {9: 1.0, 10: 1.0}
    assert staffed_hours(written, DAY)[utc(2026, 11, 23, 22)] == 2.0


def test_shift_events_read_again_or_published_twice_count_once():
    tables: tuple[dict, dict] = ({}, {})
    first, edit = published(scheduled(utc(2026, 11, 24, 8), utc(2026, 11, 24, 10)),
                            scheduled(utc(2026, 11, 24, 12), utc(2026, 11, 24, 14)))
    counted_in(tally(*tables), tables, received([first, edit]))
    counted_in(tally(*tables), tables, received([first, edit]))  # a replay after a restart
    counted_in(tally(*tables), tables, received([first], first_offset=2))  # the first published again, later
    windows = staffed_hours(tables[1], HOUR)
    assert {start.hour: hours for start, hours in windows.items() if hours} == {12: 1.0, 13: 1.0}


def test_after_a_crash_between_the_windows_and_the_totals_a_shift_counts_once():
    tables: tuple[dict, dict] = ({}, {})
    batch = received(published(scheduled(utc(2026, 11, 24, 8), utc(2026, 11, 24, 10))))
    for key, (value, _) in tally(*tables).count(batch).reports.items():  # the totals were never written
        tables[1][key] = value
    counted_in(tally(*tables), tables, batch)
    windows = staffed_hours(tables[1], HOUR)
    assert {start.hour: hours for start, hours in windows.items() if hours} == {8: 1.0, 9: 1.0}


def test_a_shift_in_hours_no_longer_kept_counts_in_its_day_only():
    tables: tuple[dict, dict] = ({}, {})
    late = utc(2026, 11, 24, 8)
    events = published(scheduled(late - timedelta(days=20), late - timedelta(days=20) + timedelta(hours=8)), at=late)
    written = counted_in(tally(*tables), tables, received(events))
    assert staffed_hours(written, HOUR) == {utc(2026, 11, 24, 8): 0.0}
    assert staffed_hours(written, DAY)[utc(2026, 11, 3, 22)] == 8.0


# ---- complaints per staffed hour ---------------------------------------------------------------


def window(complaints: int = 0, hours: float = 0) -> Window:
    return Window(counters={"retail_complaints_filed|service|in_store|low|calm": complaints} if complaints else {},
                  staffed_seconds=int(hours * 3600))


def test_complaints_per_staffed_hour_by_store_and_window_and_all_together():
    nine, ten, eleven = utc(2026, 11, 24, 9), utc(2026, 11, 24, 10), utc(2026, 11, 24, 11)
    report = staffing({
        KAMPPI: [(nine, window(3, 2)), (ten, window(0, 1.5)), (eleven, window())],
        "esp-sello": [(nine, window(1, 0))],
    })
    assert Staffed(**report.model_dump(exclude={"stores"})) == Staffed(complaints_filed=4, staffed_hours=3.5,
                                                                          complaints_per_staffed_hour=1.1429)
    kamppi, sello = report.stores
    assert (kamppi.store_id, kamppi.complaints_filed, kamppi.staffed_hours, kamppi.complaints_per_staffed_hour) == \
        (KAMPPI, 3, 3.5, 0.8571)
    assert kamppi.windows == [  # the window with neither complaints nor staffed time is left out
        StaffedWindow(start=nine, complaints_filed=3, staffed_hours=2.0, complaints_per_staffed_hour=1.5),
        StaffedWindow(start=ten, complaints_filed=0, staffed_hours=1.5, complaints_per_staffed_hour=0.0),
    ]
    assert (sello.complaints_filed, sello.staffed_hours, sello.complaints_per_staffed_hour) == (1, 0.0, None)


def test_a_report_of_windows_with_nothing_in_them_lists_no_store():
    assert staffing({KAMPPI: [(utc(2026, 11, 24, 9), window())]}).stores == []
    assert staffing({}).complaints_per_staffed_hour is None


def test_the_staffed_time_of_windows_adds_up():
    assert Sums([window(hours=1.5), window(hours=2)]).staffed_seconds == 3.5 * 3600


# ---- what Prometheus reads ---------------------------------------------------------------------


def on_duty(tables: list[dict[bytes, bytes]], now: datetime) -> dict[tuple[str, str], float]:
    return {(sample.labels["region"], sample.labels["store"]): sample.value
            for family in text_string_to_metric_families(b"".join(TotalsExposition(tables, clock=lambda: now)()).decode())
            if family.name == ON_DUTY
            for sample in family.samples}


def test_the_staff_on_duty_at_each_store_now_are_exposed_and_no_staff_id():
    totals = StoreTotals()
    totals.restaff(REGION, KAMPPI, "a", shift(utc(2026, 11, 24, 8), utc(2026, 11, 24, 16)))
    totals.restaff(REGION, KAMPPI, "b", shift(utc(2026, 11, 24, 12), utc(2026, 11, 24, 20)))
    filing = StoreTotals()  # a store without shifts has no such series
    table = {KAMPPI.encode(): totals.model_dump_json().encode(), b"esp-sello": filing.model_dump_json().encode()}
    assert on_duty([table], utc(2026, 11, 24, 13)) == {(REGION, KAMPPI): 2.0}
    assert on_duty([table], utc(2026, 11, 24, 21)) == {(REGION, KAMPPI): 0.0}


def test_a_complaint_counts_into_its_hour_beside_the_shifts():
    tables: tuple[dict, dict] = ({}, {})
    worker = tally(*tables)
    counted_in(worker, tables, received(published(scheduled(utc(2026, 11, 24, 8), utc(2026, 11, 24, 16)))))
    complaint = example(c.ComplaintFiled, store_id=KAMPPI, region_id=REGION, filed_at=utc(2026, 11, 24, 9, 15))
    counted_in(worker, tables, received(published(complaint, at=complaint.filed_at), topic="complaints"))
    nine = Window.model_validate_json(tables[1][window_key(REGION, KAMPPI, HOUR, utc(2026, 11, 24, 9))])
    assert staffing({KAMPPI: [(utc(2026, 11, 24, 9), nine)]}).stores[0].windows == [
        StaffedWindow(start=utc(2026, 11, 24, 9), complaints_filed=1, staffed_hours=1.0, complaints_per_staffed_hour=1.0),
    ]
