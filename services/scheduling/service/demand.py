"""The demand of each open hour of a site's week, learnt from its complaints and returns (the rules
are in `domain.demand`).

The worker counts every complaint filed and return requested at a site into its local hour of its
local week (the site's time zone). An event of a site that is not in the directory is not counted:
without the site there is no time zone to place it in; a site added later counts from then on. A
week's demand is worked out when it is asked for, so that the settings apply to the counts already
kept.
"""

from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.scheduling.domain.demand import DemandRule, HourDemand, Slot, demand_of, history
from services.scheduling.domain.hours import week_of
from services.scheduling.service.directory import zone_of
from services.scheduling.settings import SchedulingSettings
from services.scheduling.store.demand import DemandCount
from services.scheduling.store.models import Site
from services.shared.db import insert_statement
from services.shared.events.complaints import ComplaintFiled
from services.shared.events.envelope import Envelope
from services.shared.events.returns import ReturnRequested


def rule_of(settings: SchedulingSettings) -> DemandRule:
    return DemandRule(settings.demand_weeks, settings.demand_base_people, settings.demand_events_per_person,
                      settings.demand_busy_factor)


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
