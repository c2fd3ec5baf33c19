"""A store's hourly (UTC) and daily (local) windows: what an event adds to them, counted exactly once, where each
window starts (across a DST change), how long it is kept, and which windows answer a report's range."""

from datetime import UTC, datetime, timedelta, timezone
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest

from services.analytics.domain.totals import METRICS, Change, Histogram, StoreTotals, count
from services.analytics.domain.windows import (
    Granularity, RangeError, Window, WindowRules, next_start, parse_key, parse_window_key, series_key, start_of, starts,
    window_key, windows_for,
)
from services.shared.events import complaints as c
from services.shared.events import returns as r
from services.shared.events.envelope import Event, wrap
from tests.support.builders import example

HELSINKI = ZoneInfo("Europe/Helsinki")
RULES = WindowRules()  # Helsinki days; hours kept 14 days, days 400
FILED = datetime(2026, 11, 23, 9, 15, tzinfo=UTC)  # when the contracts' example complaint is filed
HOUR, DAY = Granularity.hour, Granularity.day
OTHER = UUID(int=2)  # a second complaint at the store
FILED_KEY = "retail_complaints_filed|return_refund_exchange|in_store|high|angry"  # the example complaint's series


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def changes(*events: Event, totals: StoreTotals | None = None) -> list[Change]:
    """The changes counting the events makes to a store's totals, as the worker hands them to the windows."""
    totals = StoreTotals() if totals is None else totals
    for event in events:
        assert count(totals, wrap(event, source="/tests", time=FILED))
    return totals.take_changes()


def recorded(*events: Event) -> Window:
    """A window that recorded each event, in order, at the next offset of the complaints topic."""
    window, totals = Window(), StoreTotals()
    for offset, event in enumerate(events):
        assert window.record(changes(event, totals=totals), ("complaints", offset))
    return window


# ---- what a window counts ----------------------------------------------------------------------


def test_a_window_adds_each_counter_change_under_the_metric_and_its_labels_besides_region_and_store():
    window = recorded(example(c.ComplaintFiled), example(c.ComplaintFiled, complaint_id=OTHER, mood="calm"))
    assert window.counters == {FILED_KEY: 1.0, "retail_complaints_filed|return_refund_exchange|in_store|high|calm": 1.0}
    assert window.histograms == {}


def test_a_window_adds_up_amounts_such_as_euros_given_back():
    window = Window()
    assert window.record(changes(example(r.ReturnApproved)), ("returns", 0))  # a 129.90 refund to credit
    assert window.record(changes(example(r.ReturnApproved, amount={"minor_units": 1000})), ("returns", 1))
    assert window.counters == {
        "retail_returns|refund|credit|approved": 2.0, "retail_returns_value_euros|refund|credit": 139.9,
    }


def test_a_window_fills_a_histogram_with_each_observation():
    window = recorded(
        example(c.ComplaintFiled, filed_at=FILED),
        example(c.ComplaintAcknowledged, at=FILED + timedelta(minutes=2)),
        *(example(c.CsatSubmitted, score=score) for score in (1, 4, 4, 5)),
    )
    assert window.histograms == {
        "retail_complaint_acknowledge_seconds": Histogram(buckets=[0, 1, 0, 0, 0, 0, 0, 0, 0, 0], sum=120.0, count=1),
        "retail_csat_score": Histogram(buckets=[1, 0, 0, 2, 1, 0], sum=14.0, count=4),
    }
    assert window.counters == {FILED_KEY: 1.0, "retail_complaints_acknowledged": 1.0}


@pytest.mark.parametrize("offset", [7, 3], ids=["the same offset", "an earlier offset"])
def test_an_offset_the_window_counted_before_changes_nothing(offset):
    window = Window()
    assert window.record(changes(example(c.ComplaintFiled)), ("complaints", 7)) is True
    before = window.model_dump()
    assert window.record(changes(example(c.ComplaintFiled, complaint_id=OTHER)), ("complaints", offset)) is False
    assert window.model_dump() == before


def test_offsets_are_remembered_per_topic():
    window = Window()
    assert window.record(changes(example(c.ComplaintFiled)), ("complaints", 7))
    assert window.record(changes(example(r.ReturnApproved)), ("returns", 7))
    assert window.record(changes(example(r.ReturnApproved)), ("returns", 3)) is False
    assert window.offsets == {"complaints": 7, "returns": 7}
    assert window.counters["retail_returns|refund|credit|approved"] == 1.0


def test_an_event_that_changes_no_series_still_counts_as_seen():
    window = Window()
    assert window.record([], ("complaints", 4)) is True
    assert window.record(changes(example(c.ComplaintFiled)), ("complaints", 4)) is False
    assert window == Window(offsets={"complaints": 4})


def test_a_window_stored_as_json_still_skips_what_it_counted():
    window = recorded(example(c.ComplaintFiled), example(c.ComplaintAcknowledged))
    stored = Window.model_validate_json(window.model_dump_json())
    assert stored == window
    assert stored.record(changes(example(c.ComplaintFiled, complaint_id=OTHER)), ("complaints", 1)) is False
    assert stored.record(changes(example(c.ComplaintFiled, complaint_id=OTHER)), ("complaints", 2)) is True
    assert stored.counters[FILED_KEY] == 2.0


def test_events_replayed_after_a_crash_are_counted_again_by_fresh_totals_but_not_by_the_window():
    events = [example(c.ComplaintFiled), example(c.ComplaintAcknowledged, at=FILED + timedelta(minutes=2))]
    window = recorded(*events)
    before = window.model_dump()
    replayed, totals = [], StoreTotals()  # the totals were not written before the crash
    for offset, event in enumerate(events):
        replayed.append(window.record(changes(event, totals=totals), ("complaints", offset)))
    assert replayed == [False, False]
    assert window.model_dump() == before


# ---- series keys -------------------------------------------------------------------------------


def test_a_series_key_leaves_out_region_and_store_so_stores_add_up_under_one_key():
    kamppi = {"region": "uusimaa", "store": "hel-kamppi", "tier": "associate", "deadline": "acknowledge"}
    sello = {**kamppi, "store": "esp-sello"}
    assert series_key("retail_sla_breaches", kamppi) == "retail_sla_breaches|associate|acknowledge"
    assert series_key("retail_sla_breaches", sello) == series_key("retail_sla_breaches", kamppi)
    assert series_key("retail_pages", {"region": "uusimaa", "store": "hel-kamppi"}) == "retail_pages"


@pytest.mark.parametrize("metric", METRICS.values(), ids=list(METRICS))
def test_parse_key_gives_back_the_metric_and_its_labels_besides_region_and_store(metric):
    labels = {label: f"{label.replace('_', '-')}-value" for label in metric.labels}
    assert parse_key(series_key(metric.name, labels)) == (
        metric.name, {name: value for name, value in labels.items() if name not in ("region", "store")}
    )


# ---- where windows start -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "start"),
    [
        (FILED, utc(2026, 11, 23, 9)),
        (utc(2026, 11, 23, 9), utc(2026, 11, 23, 9)),
        (utc(2026, 11, 23, 9, 59, 59, 999999), utc(2026, 11, 23, 9)),
        (datetime(2026, 11, 23, 11, 30, tzinfo=HELSINKI), utc(2026, 11, 23, 9)),
        (datetime(2026, 11, 23, 15, 5, tzinfo=timezone(timedelta(hours=5, minutes=30))), utc(2026, 11, 23, 9)),
    ],
    ids=["within the hour", "on the hour", "at its last moment", "given in local time", "given at a half-hour offset"],
)
def test_an_hour_window_starts_at_the_utc_hour(at, start):
    assert start_of(at, HOUR, HELSINKI) == start
    assert start_of(at, HOUR, HELSINKI).utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("at", "start"),
    [
        (FILED, utc(2026, 11, 22, 22)),
        (utc(2026, 11, 23, 21, 59), utc(2026, 11, 22, 22)),  # 23:59 in Helsinki
        (utc(2026, 11, 23, 22), utc(2026, 11, 23, 22)),  # midnight in Helsinki, still the 23rd in UTC
        (utc(2026, 7, 1, 12), utc(2026, 6, 30, 21)),  # summer time: three hours ahead of UTC
        (utc(2026, 10, 25, 12), utc(2026, 10, 24, 21)),  # the autumn change day began in summer time
        (utc(2026, 3, 29, 12), utc(2026, 3, 28, 22)),  # the spring change day began in winter time
    ],
    ids=["a winter morning", "the day's last minute", "local midnight", "summer", "autumn change day",
         "spring change day"],
)
def test_a_day_window_starts_at_local_midnight_given_in_utc(at, start):
    assert start_of(at, DAY, HELSINKI) == start


@pytest.mark.parametrize(
    ("at", "start"),
    [
        (utc(2026, 11, 23, 18, 14, 59), utc(2026, 11, 22, 18, 15)),  # 23:59:59 in Kathmandu (+5:45)
        (utc(2026, 11, 23, 18, 15), utc(2026, 11, 23, 18, 15)),  # midnight there
        (utc(2026, 11, 23, 18, 29, 59), utc(2026, 11, 23, 18, 15)),
    ],
    ids=["the day's last second", "local midnight", "in the quarter hour after it"],
)
def test_a_day_window_starts_at_local_midnight_at_a_quarter_hour_offset(at, start):
    assert start_of(at, DAY, ZoneInfo("Asia/Kathmandu")) == start


def test_an_hour_window_is_one_hour_long():
    assert next_start(utc(2026, 11, 23, 23), HOUR, HELSINKI) == utc(2026, 11, 24, 0)


@pytest.mark.parametrize(
    ("start", "end", "hours"),
    [
        (utc(2026, 11, 22, 22), utc(2026, 11, 23, 22), 24),
        (utc(2026, 10, 24, 21), utc(2026, 10, 25, 22), 25),  # clocks go back an hour on 2026-10-25
        (utc(2026, 3, 28, 22), utc(2026, 3, 29, 21), 23),  # clocks go forward an hour on 2026-03-29
    ],
    ids=["an ordinary day", "the autumn dst change", "the spring dst change"],
)
def test_a_local_day_ends_at_the_next_local_midnight(start, end, hours):
    assert next_start(start, DAY, HELSINKI) == end
    assert end - start == timedelta(hours=hours)
    assert len(starts(start, end, HOUR, HELSINKI)) == hours  # its hours add up to exactly the day


def test_starts_lists_the_windows_from_the_one_first_falls_in_up_to_but_not_including_end():
    assert starts(FILED, utc(2026, 11, 23, 12), HOUR, HELSINKI) == [utc(2026, 11, 23, h) for h in (9, 10, 11)]
    assert starts(FILED, utc(2026, 11, 23, 12, 1), HOUR, HELSINKI) == [utc(2026, 11, 23, h) for h in (9, 10, 11, 12)]
    assert starts(FILED, utc(2026, 11, 23, 9), HOUR, HELSINKI) == []


def test_starts_of_local_days_across_the_autumn_dst_change():
    first = utc(2026, 10, 24, 9)  # noon on the 24th in Helsinki
    assert starts(first, utc(2026, 10, 26, 22), DAY, HELSINKI) == [
        utc(2026, 10, 23, 21), utc(2026, 10, 24, 21), utc(2026, 10, 25, 22),
    ]


# ---- window keys -------------------------------------------------------------------------------


def test_a_window_key_names_region_store_granularity_and_utc_start():
    hour = utc(2026, 11, 23, 9)
    assert window_key("uusimaa", "hel-kamppi", HOUR, hour) == b"uusimaa|hel-kamppi|hour|2026-11-23T09:00Z"
    local_midnight = datetime(2026, 11, 24, tzinfo=HELSINKI)
    assert window_key("uusimaa", "hel-kamppi", DAY, local_midnight) == b"uusimaa|hel-kamppi|day|2026-11-23T22:00Z"


@pytest.mark.parametrize(
    ("granularity", "start"),
    [(HOUR, utc(2026, 11, 23, 9)), (DAY, utc(2026, 10, 24, 21)), (DAY, utc(2026, 10, 25, 22)),
     (HOUR, utc(2027, 1, 1, 0))],
)
def test_a_window_key_parses_back_to_what_it_was_made_of(granularity, start):
    parsed = parse_window_key(window_key("uusimaa", "esp-sello", granularity, start))
    assert parsed == ("uusimaa", "esp-sello", granularity, start)
    assert parsed[3].utcoffset() == timedelta(0)


# ---- how long windows are kept -----------------------------------------------------------------


def test_the_oldest_hour_window_kept_is_the_utc_hour_fourteen_days_before_the_latest_event():
    assert RULES.oldest(FILED, HOUR) == utc(2026, 11, 9, 9)


def test_the_oldest_day_window_kept_is_the_local_day_four_hundred_days_before_the_latest_event():
    assert RULES.oldest(FILED, DAY) == utc(2025, 10, 18, 21)  # midnight of 2025-10-19 in Helsinki, summer time


def test_retention_and_zone_come_from_the_rules():
    rules = WindowRules(zone="UTC", hour_windows_kept=timedelta(hours=2), day_windows_kept=timedelta(days=1))
    assert rules.oldest(FILED, HOUR) == utc(2026, 11, 23, 7)
    assert rules.oldest(FILED, DAY) == utc(2026, 11, 22)


@pytest.mark.parametrize("granularity", list(Granularity))
def test_nothing_expires_with_a_stores_first_event(granularity):
    assert RULES.expired(None, FILED, granularity) == []


def test_nothing_expires_while_the_latest_event_stays_in_the_same_hour():
    assert RULES.expired(FILED, FILED + timedelta(minutes=44), HOUR) == []
    assert RULES.expired(FILED, FILED, HOUR) == []


def test_moving_into_the_next_hour_expires_the_oldest_hour():
    assert RULES.expired(FILED, utc(2026, 11, 23, 10, 5), HOUR) == [utc(2026, 11, 9, 9)]


def test_a_jump_forward_expires_every_hour_it_passes():
    assert RULES.expired(FILED, utc(2026, 11, 23, 12), HOUR) == [utc(2026, 11, 9, h) for h in (9, 10, 11)]


def test_a_window_expires_once_the_latest_event_is_the_retention_past_the_windows_end():
    day = utc(2025, 10, 18, 21)  # 2025-10-19 in Helsinki, which ended at 21:00 UTC in summer time
    assert RULES.expired(FILED, utc(2026, 11, 23, 20, 59, 59), DAY) == []
    assert RULES.expired(FILED, day + timedelta(days=1) + RULES.day_windows_kept, DAY) == [day]
    assert RULES.expired(FILED, utc(2026, 11, 23, 9, 59, 59), HOUR) == []
    assert RULES.expired(FILED, utc(2026, 11, 23, 10), HOUR) == [utc(2026, 11, 9, 9)]


@pytest.mark.parametrize("latest", [utc(2099, 12, 31, 23), utc(9999, 12, 31, 23)], ids=["the last year", "year 9999"])
def test_a_jump_far_ahead_expires_only_the_windows_kept_before_it(latest):
    hours = RULES.expired(FILED, latest, HOUR)
    assert hours == [utc(2026, 11, 9, 9) + timedelta(hours=i) for i in range(14 * 24 + 1)]
    days = RULES.expired(FILED, latest, DAY)
    assert (len(days), days[0], days[-1]) == (401, utc(2025, 10, 18, 21), utc(2026, 11, 22, 22))


def expired_step_by_step(first: datetime, steps: list[timedelta], granularity: Granularity) -> list[datetime]:
    """Every window start expired as a store's latest event moves from `first` by each step in turn."""
    found, latest = [], first
    for step in steps:
        found += RULES.expired(latest, latest + step, granularity)
        latest += step
    return found


def test_each_hour_expires_exactly_once_as_the_latest_event_moves_forward_in_small_steps():
    steps = [timedelta(minutes=m) for m in (7, 53, 95, 5)] * 27  # 72 hours in all
    found = expired_step_by_step(FILED, steps, HOUR)
    assert len(found) == len(set(found))
    assert found == [utc(2026, 11, 9, 9) + timedelta(hours=i) for i in range(72)]


@pytest.mark.parametrize(
    ("first", "expected"),
    [
        (
            utc(2027, 11, 26, 10),  # 400 days after noon of 2026-10-22 in Helsinki
            [utc(2026, 10, 21, 21), utc(2026, 10, 22, 21), utc(2026, 10, 23, 21), utc(2026, 10, 24, 21),
             utc(2026, 10, 25, 22), utc(2026, 10, 26, 22), utc(2026, 10, 27, 22)],
        ),
        (
            utc(2027, 4, 30, 10),  # 400 days after noon of 2026-03-26 in Helsinki
            [utc(2026, 3, 25, 22), utc(2026, 3, 26, 22), utc(2026, 3, 27, 22), utc(2026, 3, 28, 22),
             utc(2026, 3, 29, 21), utc(2026, 3, 30, 21), utc(2026, 3, 31, 21)],
        ),
    ],
    ids=["across the autumn dst change", "across the spring dst change"],
)
def test_each_local_day_expires_exactly_once_as_the_latest_event_moves_forward_in_small_steps(first, expected):
    steps = [timedelta(hours=3), timedelta(minutes=50), timedelta(hours=7, minutes=10), timedelta(hours=1)] * 14
    assert sum(steps, timedelta()) == timedelta(days=7)
    found = expired_step_by_step(first, steps, DAY)
    assert len(found) == len(set(found))
    assert found == expected


def test_the_windows_expired_in_small_steps_are_those_expired_in_one_jump():
    steps = [timedelta(minutes=13)] * 500
    assert expired_step_by_step(FILED, steps, HOUR) == RULES.expired(FILED, FILED + sum(steps, timedelta()), HOUR)
    assert expired_step_by_step(FILED, steps * 3, DAY) == RULES.expired(FILED, FILED + 3 * sum(steps, timedelta()), DAY)


# ---- which windows answer a report's range -----------------------------------------------------

NOW = utc(2026, 11, 23, 9, 40)


def test_whole_local_days_are_answered_by_day_windows():
    first, end = datetime(2026, 10, 24, tzinfo=HELSINKI), datetime(2026, 10, 27, tzinfo=HELSINKI)
    assert windows_for(first, end, NOW, RULES) == (
        DAY, [utc(2026, 10, 23, 21), utc(2026, 10, 24, 21), utc(2026, 10, 25, 22)]
    )


def test_local_midnights_sent_with_their_utc_offset_or_in_utc_are_whole_days_too():
    summer, winter = timezone(timedelta(hours=3)), timezone(timedelta(hours=2))
    expected = (DAY, [utc(2026, 10, 24, 21)])  # the 25-hour day
    first, end = datetime(2026, 10, 25, tzinfo=summer), datetime(2026, 10, 26, tzinfo=winter)
    assert windows_for(first, end, NOW, RULES) == expected
    assert windows_for(utc(2026, 10, 24, 21), utc(2026, 10, 25, 22), NOW, RULES) == expected


def test_whole_hours_are_answered_by_hour_windows():
    assert windows_for(utc(2026, 11, 23, 6), utc(2026, 11, 23, 9), NOW, RULES) == (
        HOUR, [utc(2026, 11, 23, 6), utc(2026, 11, 23, 7), utc(2026, 11, 23, 8)]
    )


def test_a_utc_day_is_not_a_local_day_so_it_is_answered_by_its_24_hours():
    granularity, found = windows_for(utc(2026, 11, 22), utc(2026, 11, 23), NOW, RULES)
    assert (granularity, len(found), found[0], found[-1]) == (HOUR, 24, utc(2026, 11, 22), utc(2026, 11, 22, 23))


def test_a_range_from_local_midnight_to_a_whole_hour_is_answered_by_hours():
    assert windows_for(utc(2026, 11, 22, 22), utc(2026, 11, 23, 1), NOW, RULES) == (
        HOUR, [utc(2026, 11, 22, 22), utc(2026, 11, 22, 23), utc(2026, 11, 23, 0)]
    )


@pytest.mark.parametrize(
    ("first", "end", "field"),
    [
        (utc(2026, 11, 23, 9), utc(2026, 11, 23, 9), "to"),
        (utc(2026, 11, 23, 9), utc(2026, 11, 23, 8), "to"),
        (datetime(2026, 11, 24, tzinfo=HELSINKI), datetime(2026, 11, 23, tzinfo=HELSINKI), "to"),
        (utc(2026, 11, 23, 8, 30), utc(2026, 11, 23, 10), "from"),
        (utc(2026, 11, 23, 8, 0, 1), utc(2026, 11, 23, 10), "from"),
        (utc(2026, 11, 23, 8), utc(2026, 11, 23, 9, 30), "to"),
        (utc(2026, 11, 23, 8, 30), utc(2026, 11, 23, 9, 30), "from"),
        (datetime(2026, 11, 23, 10, tzinfo=timezone(timedelta(hours=5, minutes=30))), utc(2026, 11, 23, 9), "from"),
    ],
    ids=["empty", "end before start", "days backwards", "start within an hour", "start a second past the hour",
         "end within an hour", "both within an hour", "a whole hour of a half-hour zone"],
)
def test_a_range_the_windows_cannot_add_up_to_is_refused_naming_the_parameter(first, end, field):
    with pytest.raises(RangeError) as refused:
        windows_for(first, end, NOW, RULES)
    assert refused.value.field == field


def test_hours_older_than_the_hourly_retention_are_refused_but_the_same_whole_days_are_answered():
    now = utc(2026, 11, 23, 9)
    assert windows_for(now - timedelta(days=14), now - timedelta(days=13), now, RULES)[0] is HOUR
    with pytest.raises(RangeError, match="14 days") as refused:
        windows_for(now - timedelta(days=14, hours=1), now - timedelta(days=13), now, RULES)
    assert refused.value.field == "from"
    old_days = datetime(2026, 11, 1, tzinfo=HELSINKI), datetime(2026, 11, 3, tzinfo=HELSINKI)
    assert windows_for(*old_days, now, RULES) == (DAY, [utc(2026, 10, 31, 22), utc(2026, 11, 1, 22)])


@pytest.mark.parametrize(
    ("first", "end", "kept"),
    [
        (datetime(2026, 11, 1, tzinfo=HELSINKI), datetime(2200, 1, 1, tzinfo=HELSINKI), "400 days"),
        (datetime(2025, 10, 20, tzinfo=HELSINKI), datetime(2026, 11, 25, tzinfo=HELSINKI), "400 days"),
        (utc(2026, 11, 23, 8), utc(2200, 1, 1, 1), "14 days"),
        (utc(2026, 11, 10, 8), utc(2026, 11, 24, 9), "14 days"),
    ],
    ids=["days to 2200", "a day more than kept", "hours to 2200", "an hour more than kept"],
)
def test_a_range_longer_than_its_windows_are_kept_is_refused_naming_to(first, end, kept):
    with pytest.raises(RangeError, match=kept) as refused:
        windows_for(first, end, NOW, RULES)
    assert refused.value.field == "to"


def test_days_older_than_the_daily_retention_are_refused():
    now = utc(2026, 11, 23, 9)  # the daily windows go back to 2025-10-19 09:00 UTC
    end = datetime(2025, 10, 22, tzinfo=HELSINKI)
    assert windows_for(datetime(2025, 10, 20, tzinfo=HELSINKI), end, now, RULES) == (
        DAY, [utc(2025, 10, 19, 21), utc(2025, 10, 20, 21)]
    )
    with pytest.raises(RangeError, match="400 days") as refused:
        windows_for(datetime(2025, 10, 18, tzinfo=HELSINKI), end, now, RULES)
    assert refused.value.field == "from"
