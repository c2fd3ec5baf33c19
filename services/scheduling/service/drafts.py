"""A site's week drafted by the solver: its staff planned against the week's demand, the result written
as the week's draft shifts for the site manager to review, edit and publish.

A run replaces the draft shifts an earlier run of the week wrote, edited or not. Hand-made draft shifts
are kept, and the new shifts are planned around them: they cover the hours they span and fill their
person's week. The planned staff are the site's own staff of the site tiers and anyone with a hand-made
draft there that week; their other shifts (elsewhere, or in the weeks either side) are kept too, for
rest and weekly hours. Of the current week only the hours not yet begun are drafted.

The solve runs in a thread and holds no lock on PostgreSQL (SQLite, the single-process default, keeps its
one writer's lock from the start): afterwards, under the region's lock, the week's staff and shifts are
read again, and a draft solved for a week that has changed meanwhile is not written (409). The demand
is not read again: a few more events counted meanwhile do not make the draft wrong.

Register-trained means trained on all four tenders (cash, credit, debit, gift card): whoever is at the
register takes whatever the customer pays or is refunded with.
"""

import asyncio
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.scheduling.domain import solver
from services.scheduling.domain.hours import Weekday, week_end
from services.scheduling.domain.shifts import SITE_TIERS, TIER_OF_ROLE, NotAMonday, ShiftStatus, check_week
from services.scheduling.domain.demand import DemandRule, HourDemand, Slot
from services.scheduling.service.demand import rule_of, week_demand
from services.scheduling.service.directory import hours_of, leave_of, load_site, zone_of
from services.scheduling.service.shifts import Actor, lock_region
from services.scheduling.settings import SchedulingSettings
from services.scheduling.store.demand import DraftedShift
from services.scheduling.store.models import PublishedWeek, ShiftRow, Site, StaffMember
from services.shared.errors import Conflict, InvalidField
from services.shared.principal import Principal, Role

REGISTER = frozenset({"register_cash", "register_credit", "register_debit", "register_gift_card"})
SKILLS = {"returns_exchanges": solver.Skill.returns, "de_escalation": solver.Skill.de_escalation,
          "promotions": solver.Skill.promotions}
PLANNED_ROLES = frozenset(role for role, tier in TIER_OF_ROLE.items() if tier in SITE_TIERS)
AROUND = timedelta(days=1)  # shifts this close to the week bind its rest (11 h)


class HoursNotDraftable(InvalidField):
    def __init__(self, site_id: str, day: date) -> None:
        super().__init__("site_id", f"site {site_id} is not open one whole-hour period on {day}; such a week is "
                         "scheduled by hand", "path")


class WeekPublished(Conflict):
    def __init__(self, site_id: str, week: date) -> None:
        super().__init__(f"the week of {week} at site {site_id} is published: change its shifts one by one")


class WeekChanged(Conflict):
    def __init__(self) -> None:
        super().__init__("the site's staff or shifts changed while the week was being drafted; draft it again")


class WeekInfeasible(InvalidField):
    """No schedule: each conflict in words, e.g. "Tuesday 18–19: demand 3, only 2 available"."""

    def __init__(self, conflicts: tuple[str, ...]) -> None:
        super().__init__("week", "; ".join(conflicts), "path")
        self.conflicts = conflicts

    def body(self) -> dict[str, object]:
        return {"detail": [{"loc": ["path", "week"], "msg": conflict, "type": "schedule_conflict"}
                           for conflict in self.conflicts]}


@dataclass(frozen=True)
class Drafting:
    demand: DemandRule
    solver: solver.SolverSettings
    rules: solver.Rules = solver.Rules()

    @classmethod
    def of(cls, settings: SchedulingSettings) -> "Drafting":
        return cls(rule_of(settings), solver.SolverSettings(work_limit=settings.solver_work_limit))


@dataclass(frozen=True)
class Hour:
    day: int
    hour: int
    starts_at: datetime
    ends_at: datetime
    demand: HourDemand
    planned: int | None = None  # people on duty throughout the hour in the draft

    @property
    def name(self) -> str:
        return solver.hour_name(self.day, self.hour)


@dataclass(frozen=True)
class Draft:
    shifts: list[ShiftRow]  # the week's draft shifts at the site, hand-made ones included
    hours: list[Hour]
    proven_best: bool


def site_week(site: Site, week: date) -> solver.SiteWeek:
    hours, opening = hours_of(site), []
    for day in (week + timedelta(days=offset) for offset in range(7)):
        periods = hours.on(day)
        if not periods:
            opening.append(None)
            continue
        if len(periods) > 1 or periods[0].opens.minute or (periods[0].closes and periods[0].closes.minute):
            raise HoursNotDraftable(site.id, day)
        opens, closes = periods[0].opens, periods[0].closes
        opening.append(solver.DayOpening(opens.hour, closes.hour if closes else 24))
    return solver.SiteWeek(site.id, site.timezone, week, tuple(opening))


def not_begun(week: solver.SiteWeek, now: datetime) -> solver.SiteWeek:
    """The week without the hours that have begun by `now`."""
    zone, opening = ZoneInfo(week.time_zone), []
    for offset, hours in enumerate(week.opening):
        day = week.starts_on + timedelta(days=offset)
        ahead = [hour for hour in (range(hours.opens, hours.closes) if hours else ())
                 if datetime.combine(day, time(hour), zone) >= now]
        opening.append(solver.DayOpening(ahead[0], hours.closes) if ahead else None)
    return replace(week, opening=tuple(opening))


def _since_midnight(clock: str) -> timedelta:
    hours, minutes = clock.split(":")
    return timedelta(hours=int(hours), minutes=int(minutes))


def absences(staff: StaffMember, week: date) -> tuple[solver.Absence, ...]:
    """The person's leave in the week and the hours outside their availability, in local wall-clock time."""
    monday = datetime.combine(week, time())
    away = [
        solver.Absence(datetime.combine(leave.first, time()), datetime.combine(leave.last + timedelta(days=1), time()))
        for leave in leave_of(staff) if leave.first < week + timedelta(days=7) and leave.last >= week
    ]
    for offset in range(7) if staff.availability else ():
        midnight = monday + timedelta(days=offset)
        free = sorted(
            (midnight + _since_midnight(begins), midnight + _since_midnight(ends))
            for begins, ends in staff.availability.get(Weekday(offset).name, [])
        )
        unavailable_from = midnight
        for begins, ends in free:
            if begins > unavailable_from:
                away.append(solver.Absence(unavailable_from, begins))
            unavailable_from = max(unavailable_from, ends)
        if unavailable_from < midnight + timedelta(days=1):
            away.append(solver.Absence(unavailable_from, midnight + timedelta(days=1)))
    return tuple(away)


def skills(names: list[str]) -> frozenset[solver.Skill]:
    register = {solver.Skill.register} if REGISTER <= set(names) else set()
    return frozenset({SKILLS[name] for name in names if name in SKILLS} | register)


async def _replaced(session: AsyncSession, site: Site, week: date) -> list[UUID]:
    """The week's draft shifts at the site that an earlier run wrote."""
    return list((await session.execute(
        select(ShiftRow.id).join(DraftedShift, DraftedShift.shift_id == ShiftRow.id)
        .where(ShiftRow.site_id == site.id, ShiftRow.week_start == week, ShiftRow.status == ShiftStatus.draft)
    )).scalars())


async def _staff(session: AsyncSession, site: Site, week: date) -> tuple[solver.StaffMember, ...]:
    """The staff to plan, as the solver takes them: with their absences and the shifts they keep."""
    replaced = await _replaced(session, site, week)
    hand_made = select(ShiftRow.staff_id).where(
        ShiftRow.site_id == site.id, ShiftRow.week_start == week, ShiftRow.status == ShiftStatus.draft,
        ShiftRow.id.not_in(replaced),
    )
    members = list((await session.execute(
        select(StaffMember).where(or_(StaffMember.home_site_id == site.id, StaffMember.id.in_(hand_made)))
        .where(StaffMember.role.in_(PLANNED_ROLES)).order_by(StaffMember.id)
    )).scalars())
    starts, ends = datetime.combine(week, time(), zone_of(site)).astimezone(UTC), week_end(week, zone_of(site))
    kept = list((await session.execute(
        select(ShiftRow).where(
            ShiftRow.staff_id.in_([member.id for member in members]), ShiftRow.status != ShiftStatus.cancelled,
            ShiftRow.ends_at > starts - AROUND, ShiftRow.starts_at < ends + AROUND, ShiftRow.id.not_in(replaced),
        ).order_by(ShiftRow.starts_at, ShiftRow.id)
    )).scalars())
    return tuple(
        solver.StaffMember(
            member.id, TIER_OF_ROLE[Role(member.role)], skills(member.skills), member.contracted_hours, member.max_hours,
            absences(member, week),
            tuple(solver.Booked(row.starts_at, row.ends_at, row.site_id == site.id) for row in kept if row.staff_id == member.id),
        )
        for member in members
    )


async def _check_unpublished(session: AsyncSession, site: Site, week: date) -> None:
    if await session.get(PublishedWeek, (site.id, week)) is not None:
        raise WeekPublished(site.id, week)


def _hours(week: solver.SiteWeek, demand: dict[Slot, HourDemand], shifts: list[ShiftRow] | None = None) -> list[Hour]:
    return [
        Hour(day, hour, starts, ends, demand[day, hour],
             None if shifts is None else sum(row.starts_at <= starts and ends <= row.ends_at for row in shifts))
        for (day, hour), (starts, ends) in solver.open_hours(week).items()
    ]


async def demand_of_week(session: AsyncSession, who: Principal, site_id: str, week: date, now: datetime,
                         rule: DemandRule) -> list[Hour]:
    """Each open hour of the site's week with its load, the people it needs and whether it is busy."""
    site = await load_site(session, who, site_id)
    if week.weekday() != 0:
        raise NotAMonday(week)
    opening = site_week(site, week)
    return _hours(opening, await week_demand(session, site, week, solver.open_hours(opening), now, rule))


async def draft_week(session: AsyncSession, actor: Actor, site_id: str, week: date, drafting: Drafting) -> Draft:
    """Solves the site's week and writes it as its draft, or raises the rules that conflict."""
    site = await load_site(session, actor.who, site_id)
    check_week(week, zone_of(site), actor.now)
    await _check_unpublished(session, site, week)
    opening = site_week(site, week)
    demand = await week_demand(session, site, week, solver.open_hours(opening), actor.now, drafting.demand)
    needs = solver.Demand({slot: hour.people for slot, hour in demand.items()},
                          frozenset(slot for slot, hour in demand.items() if hour.busy))
    staff = await _staff(session, site, week)
    result = await asyncio.to_thread(solver.solve, not_begun(opening, actor.now), needs, staff, drafting.rules,
                                     drafting.solver)
    if isinstance(result, solver.Infeasible):
        raise WeekInfeasible(result.conflicts)
    await lock_region(session, site.region_id)
    await _check_unpublished(session, site, week)
    if await _staff(session, site, week) != staff:
        raise WeekChanged()
    replaced = await _replaced(session, site, week)
    await session.execute(delete(DraftedShift).where(DraftedShift.shift_id.in_(replaced)))
    await session.execute(delete(ShiftRow).where(ShiftRow.id.in_(replaced)))
    tiers = {member.staff_id: member.role for member in staff}
    drafted = [
        ShiftRow(
            id=uuid4(), site_id=site.id, region_id=site.region_id, staff_id=shift.staff_id, role=tiers[shift.staff_id],
            starts_at=shift.starts_at.astimezone(UTC), ends_at=shift.ends_at.astimezone(UTC), week_start=week,
            status=ShiftStatus.draft, created_by=actor.who.sub, created_at=actor.now, updated_at=actor.now,
        )
        for shift in result.shifts
    ]
    session.add_all(drafted)
    await session.flush()
    session.add_all(DraftedShift(shift_id=row.id) for row in drafted)
    shifts = list((await session.execute(
        select(ShiftRow).where(ShiftRow.site_id == site.id, ShiftRow.week_start == week, ShiftRow.status == ShiftStatus.draft)
        .order_by(ShiftRow.starts_at, ShiftRow.staff_id)
    )).scalars())
    return Draft(shifts, _hours(opening, demand, shifts), result.proven_best)
