"""Shifts: who works where and when, the rules a shift must keep, and who is on duty at an instant.

A shift is worked in the tier of its staff member's role. Site tiers (associate, coordinator, store
manager) work within the site's opening hours; a regional coordinator's shift is the region's
on-duty coordinator, one at any instant, and is not bound to a site's hours."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from uuid import UUID
from zoneinfo import ZoneInfo

from services.scheduling.domain.hours import OpeningHours, is_open_throughout, week_end
from services.shared.errors import Conflict, InvalidField
from services.shared.events.fields import MAX_ITEMS, Tier
from services.shared.events.roster import OnDuty, RosterPublished
from services.shared.principal import Role

SITE_TIERS = (Tier.associate, Tier.coordinator, Tier.store_manager)
# The tier each schedulable role works in; a call-centre agent is front line, as an associate is.
TIER_OF_ROLE = {
    Role.associate: Tier.associate,
    Role.call_centre_agent: Tier.associate,
    Role.coordinator: Tier.coordinator,
    Role.store_manager: Tier.store_manager,
    Role.regional_coordinator: Tier.regional_coordinator,
}


class ShiftStatus(StrEnum):
    draft = "draft"  # seen by managers only, until its week is published
    published = "published"
    cancelled = "cancelled"


class UnknownStaff(InvalidField):
    def __init__(self, staff_id: str) -> None:
        super().__init__("staff_id", f"unknown staff member {staff_id!r}")


class NotSchedulable(InvalidField):
    def __init__(self, staff_id: str, role: str) -> None:
        super().__init__("staff_id", f"staff member {staff_id!r} has role {role}, which works no shifts")


class OtherRegion(InvalidField):
    def __init__(self, staff_id: str, staff_region: str, site_id: str, site_region: str) -> None:
        super().__init__(
            "site_id", f"staff member {staff_id!r} of region {staff_region} cannot work at site {site_id} of region {site_region}"
        )


class BadShiftTimes(InvalidField):
    pass


class OutsideOpeningHours(InvalidField):
    def __init__(self, site_id: str, start: datetime, end: datetime, zone: ZoneInfo) -> None:
        local = f"{start.astimezone(zone):%a %Y-%m-%d %H:%M}–{end.astimezone(zone):%a %Y-%m-%d %H:%M} ({zone.key})"
        super().__init__("starts_at", f"the shift {local} is not within the opening hours of site {site_id}")


class OnLeave(InvalidField):
    def __init__(self, staff_id: str, first: date, last: date) -> None:
        super().__init__("staff_id", f"staff member {staff_id!r} is on leave from {first} to {last}")


class ShiftOverlaps(Conflict):
    def __init__(self, staff_id: str, other: "Shift") -> None:
        super().__init__(
            f"staff member {staff_id!r} already works shift {other.shift_id} from {other.starts_at.isoformat()} "
            f"to {other.ends_at.isoformat()} at site {other.site_id}"
        )


class CoordinatorOverlaps(Conflict):
    def __init__(self, region_id: str, other: "Shift") -> None:
        super().__init__(
            f"region {region_id} has one on-duty regional coordinator at a time: {other.staff_id} is on duty from "
            f"{other.starts_at.isoformat()} to {other.ends_at.isoformat()}"
        )


class WeekInPast(InvalidField):
    def __init__(self, week: date) -> None:
        super().__init__("week", f"the week of {week} is over; only a current or future week can be published", "path")


class NotAMonday(InvalidField):
    def __init__(self, week: date) -> None:
        super().__init__("week", f"{week} is a {week:%A}; a week is named by its Monday", "path")


class ShiftClosed(Conflict):
    pass


@dataclass(frozen=True)
class Shift:
    shift_id: UUID
    site_id: str
    region_id: str
    staff_id: str
    role: Tier
    starts_at: datetime
    ends_at: datetime
    status: ShiftStatus

    def covers(self, at: datetime) -> bool:
        return self.starts_at <= at < self.ends_at

    def overlaps(self, start: datetime, end: datetime) -> bool:
        return self.starts_at < end and start < self.ends_at


@dataclass(frozen=True)
class Leave:
    first: date
    last: date  # inclusive


@dataclass(frozen=True)
class Limits:
    max_shift: timedelta
    roster_shifts: int = MAX_ITEMS  # most shifts one roster event lists


def tier_of(staff_id: str, role: str) -> Tier:
    tier = TIER_OF_ROLE.get(Role(role))
    if tier is None:
        raise NotSchedulable(staff_id, role)
    return tier


def check_times(start: datetime, end: datetime, now: datetime, limits: Limits, started: bool = False) -> None:
    """`started`: the shift is already under way and keeps its start; only its end may move."""
    if end <= start:
        raise BadShiftTimes("ends_at", "must be after starts_at")
    if end - start > limits.max_shift:
        hours = limits.max_shift.total_seconds() / 3600
        raise BadShiftTimes("ends_at", f"a shift lasts at most {hours:g} hours")
    if start < now and not started:
        raise BadShiftTimes("starts_at", f"is in the past (now {now.isoformat()})")
    if end <= now:
        raise BadShiftTimes("ends_at", f"is in the past (now {now.isoformat()})")


def check_shift(
    *, staff_id: str, tier: Tier, site_id: str, hours: OpeningHours, zone: ZoneInfo, start: datetime, end: datetime,
    leave: Iterable[Leave], own_shifts: Iterable[Shift], coordinator_shifts: Iterable[Shift], region_id: str,
    ignoring: UUID | None = None,
) -> None:
    """Raises the first rule the shift breaks: the site's opening hours, the person's leave, another
    shift of theirs, or (for a regional coordinator) another coordinator on duty in the region.
    `ignoring` is the shift being edited."""
    if tier in SITE_TIERS and not is_open_throughout(hours, zone, start, end):
        raise OutsideOpeningHours(site_id, start, end, zone)
    first_day, last_day = start.astimezone(zone).date(), (end - timedelta(microseconds=1)).astimezone(zone).date()
    for away in leave:
        if away.first <= last_day and first_day <= away.last:
            raise OnLeave(staff_id, away.first, away.last)
    for other in own_shifts:
        if other.shift_id != ignoring and other.status is not ShiftStatus.cancelled and other.overlaps(start, end):
            raise ShiftOverlaps(staff_id, other)
    if tier is Tier.regional_coordinator:
        for other in coordinator_shifts:
            if other.shift_id != ignoring and other.status is not ShiftStatus.cancelled and other.overlaps(start, end):
                raise CoordinatorOverlaps(region_id, other)


def check_week(week: date, zone: ZoneInfo, now: datetime) -> None:
    if week.weekday() != 0:
        raise NotAMonday(week)
    if week_end(week, zone) <= now:
        raise WeekInPast(week)


def check_changeable(shift: Shift, now: datetime) -> None:
    if shift.status is ShiftStatus.cancelled:
        raise ShiftClosed(f"shift {shift.shift_id} is cancelled")
    if shift.ends_at <= now:
        raise ShiftClosed(f"shift {shift.shift_id} ended at {shift.ends_at.isoformat()}")


@dataclass(frozen=True)
class SiteOnDuty:
    site_id: str
    region_id: str
    manager: Shift | None
    coordinators: list[Shift]
    associates: list[Shift]


@dataclass(frozen=True)
class OnDutyNow:
    sites: list[SiteOnDuty]
    regional_coordinators: dict[str, Shift | None]  # region → the one on duty


def on_duty(sites: Iterable[tuple[str, str]], shifts: Iterable[Shift], at: datetime) -> OnDutyNow:
    """Who of the published shifts is on duty at `at` in each (site, region): the manager (the
    earliest-started store manager), coordinators and associates; and each region's coordinator."""
    working = sorted(
        (shift for shift in shifts if shift.status is ShiftStatus.published and shift.covers(at)),
        key=lambda shift: (shift.starts_at, shift.staff_id),
    )
    sites = sorted(set(sites))
    by_site = {site_id: [shift for shift in working if shift.site_id == site_id] for site_id, _ in sites}
    answer = []
    for site_id, region_id in sites:
        here = by_site[site_id]
        managers = [shift for shift in here if shift.role is Tier.store_manager]
        answer.append(
            SiteOnDuty(
                site_id, region_id, managers[0] if managers else None,
                [shift for shift in here if shift.role is Tier.coordinator],
                [shift for shift in here if shift.role is Tier.associate],
            )
        )
    regions = {region_id for _, region_id in sites}
    coordinators = {
        region_id: next(
            (shift for shift in working if shift.role is Tier.regional_coordinator and shift.region_id == region_id), None
        )
        for region_id in sorted(regions)
    }
    return OnDutyNow(answer, coordinators)


def roster_of(site_id: str, region_id: str, shifts: Iterable[Shift], now: datetime,
              limit: int = MAX_ITEMS) -> tuple[RosterPublished, bool]:
    """The site's roster from `now` on, as the escalation worker reads it: the published shifts of the
    site and of its region's coordinators that have not ended, earliest first, at most `limit` of them;
    and whether some were left out."""
    upcoming = sorted(
        (
            shift for shift in shifts
            if shift.status is ShiftStatus.published and shift.ends_at > now
            and (shift.site_id == site_id or (shift.role is Tier.regional_coordinator and shift.region_id == region_id))
        ),
        key=lambda shift: (shift.starts_at, shift.staff_id),
    )
    roster = RosterPublished(
        store_id=site_id, region_id=region_id, valid_from=now,
        on_duty=[OnDuty(staff_id=s.staff_id, role=s.role, starts_at=s.starts_at, ends_at=s.ends_at)
                 for s in upcoming[:limit]],
    )
    return roster, len(upcoming) > limit
