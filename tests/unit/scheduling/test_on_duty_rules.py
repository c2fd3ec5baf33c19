"""The pure rules of shifts and the roster: opening hours in real time, overlaps, who is on duty."""

from datetime import UTC, date, datetime, time, timedelta
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest

from services.scheduling.domain.hours import Opening, OpeningHours, Weekday, is_open_throughout, week_end, week_of
from services.scheduling.domain.shifts import (
    CoordinatorOverlaps, Leave, Limits, OnLeave, OutsideOpeningHours, Shift, ShiftOverlaps, ShiftStatus, check_shift, check_times,
    on_duty, roster_of,
)
from services.shared.errors import InvalidField
from services.shared.events.fields import Tier

HELSINKI = ZoneInfo("Europe/Helsinki")
DAY = OpeningHours({day: (Opening(time(9), time(21)),) for day in Weekday}, {date(2027, 4, 2): ()})
ALWAYS = OpeningHours({day: (Opening(time(0), None),) for day in Weekday})


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def shift(staff: str, role: Tier, start: datetime, end: datetime, site: str = "hel-kamppi",
          status: ShiftStatus = ShiftStatus.published) -> Shift:
    return Shift(uuid4(), site, "uusimaa", staff, role, start, end, status)


def test_a_24_hour_site_is_open_across_midnight_and_a_day_site_is_not():
    assert is_open_throughout(ALWAYS, HELSINKI, utc(2027, 3, 1, 20), utc(2027, 3, 2, 4))
    assert not is_open_throughout(DAY, HELSINKI, utc(2027, 3, 1, 18), utc(2027, 3, 1, 20))  # 20:00–22:00 local


def test_opening_hours_follow_the_clock_change_and_holidays():
    assert not is_open_throughout(DAY, HELSINKI, utc(2027, 3, 27, 6), utc(2027, 3, 27, 10))  # 08:00 EET
    assert is_open_throughout(DAY, HELSINKI, utc(2027, 3, 28, 6), utc(2027, 3, 28, 10))  # 09:00 EEST
    assert not is_open_throughout(DAY, HELSINKI, utc(2027, 4, 2, 8), utc(2027, 4, 2, 10))  # Good Friday


def test_a_week_is_named_by_its_local_monday_and_ends_at_local_midnight():
    assert week_of(utc(2027, 3, 7, 22, 30), HELSINKI) == date(2027, 3, 8)  # Monday 00:30 in Helsinki
    assert week_end(date(2027, 3, 22), HELSINKI) == utc(2027, 3, 28, 21)  # Monday 00:00 after the change: UTC+3


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [(utc(2027, 3, 2, 10), utc(2027, 3, 2, 9), "ends_at"), (utc(2027, 3, 2, 0), utc(2027, 3, 2, 17), "ends_at"),
     (utc(2027, 2, 28), utc(2027, 2, 28, 4), "starts_at")],
)
def test_shift_times_are_checked(start, end, field):
    with pytest.raises(InvalidField) as refused:
        check_times(start, end, utc(2027, 3, 1), Limits(timedelta(hours=16)))
    assert refused.value.field == field


def test_the_rules_a_shift_keeps():
    rules = dict(staff_id="emp-1", tier=Tier.associate, site_id="hel-kamppi", hours=DAY, zone=HELSINKI, leave=[],
                 own_shifts=[], coordinator_shifts=[], region_id="uusimaa")
    with pytest.raises(OutsideOpeningHours):
        check_shift(**rules, start=utc(2027, 3, 2, 5), end=utc(2027, 3, 2, 9))
    taken = shift("emp-1", Tier.associate, utc(2027, 3, 2, 8), utc(2027, 3, 2, 12))
    with pytest.raises(ShiftOverlaps):
        check_shift(**{**rules, "own_shifts": [taken]}, start=utc(2027, 3, 2, 11), end=utc(2027, 3, 2, 15))
    check_shift(**{**rules, "own_shifts": [taken]}, start=utc(2027, 3, 2, 12), end=utc(2027, 3, 2, 15))  # back to back
    cancelled = shift("emp-1", Tier.associate, utc(2027, 3, 2, 8), utc(2027, 3, 2, 12), status=ShiftStatus.cancelled)
    check_shift(**{**rules, "own_shifts": [cancelled]}, start=utc(2027, 3, 2, 8), end=utc(2027, 3, 2, 12))
    with pytest.raises(OnLeave):
        check_shift(**{**rules, "leave": [Leave(date(2027, 3, 2), date(2027, 3, 2))]}, start=utc(2027, 3, 2, 8),
                    end=utc(2027, 3, 2, 12))
    other_rc = shift("rc-2", Tier.regional_coordinator, utc(2027, 3, 2, 0), utc(2027, 3, 2, 12))
    with pytest.raises(CoordinatorOverlaps):
        check_shift(**{**rules, "staff_id": "rc-1", "tier": Tier.regional_coordinator, "coordinator_shifts": [other_rc]},
                    start=utc(2027, 3, 2, 2), end=utc(2027, 3, 2, 4))  # at night: not bound to opening hours


def test_on_duty_and_roster():
    shifts = [
        shift("mgr-2", Tier.store_manager, utc(2027, 3, 1, 15), utc(2027, 3, 1, 19)),
        shift("mgr-1", Tier.store_manager, utc(2027, 3, 1, 7), utc(2027, 3, 1, 15)),
        shift("emp-1", Tier.associate, utc(2027, 3, 1, 7), utc(2027, 3, 1, 15)),
        shift("emp-2", Tier.associate, utc(2027, 3, 1, 7), utc(2027, 3, 1, 15), status=ShiftStatus.draft),
        shift("rc-1", Tier.regional_coordinator, utc(2027, 3, 1, 0), utc(2027, 3, 2, 0), site="hel-office"),
    ]
    now = on_duty([("hel-kamppi", "uusimaa")], shifts, utc(2027, 3, 1, 15))
    (site,) = now.sites
    assert site.manager.staff_id == "mgr-2" and site.associates == [] and now.regional_coordinators["uusimaa"].staff_id == "rc-1"
    roster, cut = roster_of("hel-kamppi", "uusimaa", shifts, utc(2027, 3, 1, 15))
    assert [d.staff_id for d in roster.on_duty] == ["rc-1", "mgr-2"] and not cut  # ended and draft shifts left out
    roster, cut = roster_of("hel-kamppi", "uusimaa", shifts, utc(2027, 3, 1, 15), limit=1)
    assert [d.staff_id for d in roster.on_duty] == ["rc-1"] and cut  # the earliest first
