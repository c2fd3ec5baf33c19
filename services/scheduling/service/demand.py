"""The demand of each open hour of a site's week, learnt from its complaints and returns.

The worker counts every complaint filed and return requested at a site into its local hour of its
local week (the site's time zone). An event of a site that is not in the directory is not counted:
without the site there is no time zone to place it in; a site added later counts from then on.

A week's demand is worked out when it is asked for, so that the settings apply to the counts already
kept: an hour's load is its events averaged over the last complete weeks (a week without any counts
as none). The hour needs the base staffing plus one more person for each full `events_per_person` of
load, and an hour given more people whose load is at least `busy_factor` times the site's usual (the
average load of the week's open hours) is busy: it also needs a de-escalation-trained person.
"""

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.scheduling.domain.hours import week_of
from services.scheduling.service.directory import zone_of
from services.scheduling.settings import SchedulingSettings
from services.scheduling.store.demand import DemandCount
from services.scheduling.store.models import Site
from services.shared.db import insert_statement
from services.shared.events.complaints import ComplaintFiled
from services.shared.events.envelope import Envelope
from services.shared.events.returns import ReturnRequested

Slot = tuple[int, int]  # (day, local hour), day 0 = Monday


@dataclass(frozen=True)
class DemandRule:
    weeks: int
    base_people: int
    events_per_person: float
    busy_factor: float

    @classmethod
    def of(cls, settings: SchedulingSettings) -> "DemandRule":
        return cls(settings.demand_weeks, settings.demand_base_people, settings.demand_events_per_person,
                   settings.demand_busy_factor)


@dataclass(frozen=True)
class HourDemand:
    load: float  # complaints and returns in the hour, on average
    people: int
    busy: bool


def history(week: date, this_week: date, weeks: int) -> list[date]:
    """The complete weeks a week's demand is averaged over, latest first: the `weeks` before it, or
    before the current one for a week to come."""
    last = min(week, this_week) - timedelta(weeks=1)
    return [last - timedelta(weeks=back) for back in range(weeks)]


def demand_of(counts: Mapping[Slot, int], open_slots: Iterable[Slot], rule: DemandRule) -> dict[Slot, HourDemand]:
    """Each open slot's demand from the events counted in its hour of the week over the rule's weeks."""
    slots = list(open_slots)
    usual = sum(counts.get(slot, 0) for slot in slots) / rule.weeks / len(slots) if slots else 0.0
    found = {}
    for slot in slots:
        events = counts.get(slot, 0)
        load = events / rule.weeks
        extra = math.floor(events / (rule.weeks * rule.events_per_person))
        found[slot] = HourDemand(load, rule.base_people + extra, extra > 0 and load >= rule.busy_factor * usual)
    return found


async def week_demand(session: AsyncSession, site: Site, week: date, open_slots: Iterable[Slot], now: datetime,
                      rule: DemandRule) -> dict[Slot, HourDemand]:
    weeks = history(week, week_of(now, zone_of(site)), rule.weeks)
    rows = await session.execute(
        select(DemandCount.weekday, DemandCount.hour, func.sum(DemandCount.events))
        .where(DemandCount.site_id == site.id, DemandCount.week_start.in_(weeks))
        .group_by(DemandCount.weekday, DemandCount.hour)
    )
    return demand_of({(day, hour): events for day, hour, events in rows}, open_slots, rule)


async def _count(session: AsyncSession, site_id: str, at: datetime) -> None:
    site = await session.get(Site, site_id)
    if site is None:
        return
    local = at.astimezone(zone_of(site))
    statement = insert_statement(session, DemandCount).values(
        site_id=site.id, week_start=week_of(at, zone_of(site)), weekday=local.weekday(), hour=local.hour, events=1
    )
    await session.execute(statement.on_conflict_do_update(
        index_elements=["site_id", "week_start", "weekday", "hour"], set_={"events": DemandCount.events + 1}
    ))


async def count_complaint(session: AsyncSession, envelope: Envelope, _now: datetime) -> None:
    await _count(session, envelope.data.store_id, envelope.data.filed_at)


async def count_return(session: AsyncSession, envelope: Envelope, _now: datetime) -> None:
    await _count(session, envelope.data.store_id, envelope.data.at)


def effects(_settings: SchedulingSettings) -> dict:  # event class -> effect (see service.intake)
    return {ComplaintFiled: count_complaint, ReturnRequested: count_return}
