"""Shifts created, edited, cancelled and published a week at a time, and who is on duty. Every
change takes its region's row lock first, so a region's changes (and their roster events, in the
outbox) follow one order and no two transactions both pass an overlap check."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.scheduling.domain import shifts as rules
from services.scheduling.domain.hours import week_of
from services.scheduling.domain.shifts import Shift, ShiftStatus
from services.scheduling.service import training
from services.scheduling.service.directory import UnknownSite, in_scope, hours_of, leave_of, load_site, sites_in_scope, zone_of
from services.scheduling.settings import SchedulingSettings
from services.scheduling.store.models import PublishedWeek, Region, ShiftRow, Site, StaffMember
from services.shared.errors import NotFound
from services.shared.events.fields import Tier
from services.shared.events.scheduling import ShiftCancelled, ShiftScheduled
from services.shared.outbox import add_events
from services.shared.principal import Principal
from services.shared.topics import ROSTER, SCHEDULING


@dataclass(frozen=True)
class Actor:
    who: Principal
    now: datetime
    limits: rules.Limits


def limits_of(settings: SchedulingSettings) -> rules.Limits:
    return rules.Limits(max_shift=timedelta(hours=settings.max_shift_hours), roster_shifts=settings.roster_max_shifts)


def shift_of(row: ShiftRow) -> Shift:
    return Shift(row.id, row.site_id, row.region_id, row.staff_id, Tier(row.role), row.starts_at, row.ends_at,
                 ShiftStatus(row.status))


async def lock_region(session: AsyncSession, region_id: str) -> None:
    await session.execute(select(Region.id).where(Region.id == region_id).with_for_update())


async def _check(session: AsyncSession, site: Site, staff: StaffMember, tier: Tier, start: datetime, end: datetime,
                 ignoring: UUID | None = None) -> None:
    own = select(ShiftRow).where(ShiftRow.staff_id == staff.id, ShiftRow.starts_at < end, ShiftRow.ends_at > start)
    coordinators = select(ShiftRow).where(
        ShiftRow.region_id == site.region_id, ShiftRow.role == Tier.regional_coordinator,
        ShiftRow.starts_at < end, ShiftRow.ends_at > start,
    )
    rules.check_shift(
        staff_id=staff.id, tier=tier, site_id=site.id, hours=hours_of(site), zone=zone_of(site), start=start, end=end,
        leave=leave_of(staff), own_shifts=[shift_of(row) for row in (await session.execute(own)).scalars()],
        coordinator_shifts=[shift_of(row) for row in (await session.execute(coordinators)).scalars()]
        if tier is Tier.regional_coordinator else [],
        region_id=site.region_id, ignoring=ignoring,
    )


async def create_shift(session: AsyncSession, actor: Actor, site_id: str, staff_id: str, start: datetime,
                       end: datetime) -> ShiftRow:
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    site = await session.get(Site, site_id)
    if site is None:
        raise UnknownSite(site_id)
    actor.who.require_scope(site.region_id, site.id)
    await lock_region(session, site.region_id)
    staff = await session.get(StaffMember, staff_id)
    if staff is None:
        raise rules.UnknownStaff(staff_id)
    tier = rules.tier_of(staff.id, staff.role)
    if staff.region_id != site.region_id:
        raise rules.OtherRegion(staff.id, staff.region_id, site.id, site.region_id)
    rules.check_times(start, end, actor.now, actor.limits)
    await _check(session, site, staff, tier, start, end)
    week = week_of(start, zone_of(site))
    published = await session.get(PublishedWeek, (site.id, week)) is not None
    row = ShiftRow(
        site_id=site.id, region_id=site.region_id, staff_id=staff.id, role=tier, starts_at=start, ends_at=end,
        week_start=week, status=ShiftStatus.published if published else ShiftStatus.draft, created_by=actor.who.sub,
        created_at=actor.now, updated_at=actor.now,
    )
    session.add(row)
    await session.flush()
    if published:
        await _announce(session, [row], actor)
    return row


async def _load_for_change(session: AsyncSession, actor: Actor, shift_id: UUID) -> tuple[ShiftRow, Site]:
    row = await session.get(ShiftRow, shift_id)
    if row is None:
        raise NotFound(f"no shift {shift_id}")
    actor.who.require_scope(row.region_id, row.site_id)
    await lock_region(session, row.region_id)
    await session.refresh(row)
    rules.check_changeable(shift_of(row), actor.now)
    return row, await session.get(Site, row.site_id)


async def edit_shift(session: AsyncSession, actor: Actor, shift_id: UUID, start: datetime | None,
                     end: datetime | None) -> ShiftRow:
    row, site = await _load_for_change(session, actor, shift_id)
    start, end = (start or row.starts_at).astimezone(UTC), (end or row.ends_at).astimezone(UTC)
    rules.check_times(start, end, actor.now, actor.limits, started=start == row.starts_at)
    staff = await session.get(StaffMember, row.staff_id)
    await _check(session, site, staff, Tier(row.role), start, end, ignoring=row.id)
    if row.status == ShiftStatus.published:
        await training.check_shift_change(session, row, start, end)
    row.starts_at, row.ends_at, row.week_start, row.updated_at = start, end, week_of(start, zone_of(site)), actor.now
    if row.status == ShiftStatus.published:
        await _announce(session, [row], actor)
    return row


async def cancel_shift(session: AsyncSession, actor: Actor, shift_id: UUID) -> ShiftRow:
    row, site = await _load_for_change(session, actor, shift_id)
    was_published = row.status == ShiftStatus.published
    if was_published:
        await training.check_shift_change(session, row, None, None)
    row.status, row.updated_at = ShiftStatus.cancelled, actor.now
    await session.flush()
    if was_published:
        event = ShiftCancelled(store_id=row.site_id, region_id=row.region_id, shift_id=row.id, at=actor.now)
        add_events(session, SCHEDULING, [event], actor.now, subject=str(row.id))
        await _publish_rosters(session, [row], actor.now, actor.limits.roster_shifts)
    return row


async def publish_week(session: AsyncSession, actor: Actor, site_id: str, week: date) -> list[ShiftRow]:
    """Publishes the site's draft shifts of the local week starting on Monday `week`; shifts added to
    the week later are published at once."""
    site = await load_site(session, actor.who, site_id)
    await lock_region(session, site.region_id)
    rules.check_week(week, zone_of(site), actor.now)
    if await session.get(PublishedWeek, (site.id, week)) is None:
        session.add(PublishedWeek(site_id=site.id, week_start=week, published_by=actor.who.sub, published_at=actor.now))
    drafts = list((await session.execute(
        select(ShiftRow).where(ShiftRow.site_id == site.id, ShiftRow.week_start == week, ShiftRow.status == ShiftStatus.draft)
        .order_by(ShiftRow.starts_at, ShiftRow.staff_id)
    )).scalars())
    await session.execute(
        update(ShiftRow).where(ShiftRow.id.in_([row.id for row in drafts]))
        .values(status=ShiftStatus.published, updated_at=actor.now)
    )
    for row in drafts:
        row.status = ShiftStatus.published
    await _announce(session, drafts, actor, sites=[site])
    return drafts


async def _announce(session: AsyncSession, rows: list[ShiftRow], actor: Actor, sites: list[Site] = ()) -> None:
    now = actor.now
    events = [
        ShiftScheduled(store_id=row.site_id, region_id=row.region_id, shift_id=row.id, staff_id=row.staff_id,
                       role=Tier(row.role), starts_at=row.starts_at, ends_at=row.ends_at)
        for row in rows
    ]
    for event in events:
        add_events(session, SCHEDULING, [event], now, subject=str(event.shift_id))
    await _publish_rosters(session, rows, now, actor.limits.roster_shifts, sites)
    await training.enrol_new_hires_on_shift(session, rows, now)


async def _publish_rosters(session: AsyncSession, rows: list[ShiftRow], now: datetime, limit: int,
                           sites: list[Site] = ()) -> None:
    """A new roster of every site the changed shifts touch: their own sites, and every site of the
    region when the region's coordinator changed."""
    await session.flush()
    site_ids = {site.id for site in sites} | {row.site_id for row in rows}
    regions = {row.region_id for row in rows if row.role == Tier.regional_coordinator}
    affected = list((await session.execute(
        select(Site).where(or_(Site.id.in_(site_ids), Site.region_id.in_(regions))).order_by(Site.id)
    )).scalars())
    await _roster_events(session, affected, now, limit)


async def _roster_events(session: AsyncSession, sites: list[Site], now: datetime, limit: int) -> None:
    """Each site's roster from now on, in the outbox; a site whose roster was cut at `limit` is marked
    for the roster refresh."""
    for site in sites:
        upcoming = (await session.execute(
            select(ShiftRow).where(
                ShiftRow.status == ShiftStatus.published, ShiftRow.ends_at > now,
                or_(ShiftRow.site_id == site.id,
                    (ShiftRow.region_id == site.region_id) & (ShiftRow.role == Tier.regional_coordinator)),
            )
        )).scalars()
        shifts = [shift_of(row) for row in upcoming]
        roster, site.roster_cut = rules.roster_of(site.id, site.region_id, shifts, now, limit)
        add_events(session, ROSTER, [roster], now, subject=site.id)


async def refresh_rosters(sessions: async_sessionmaker, now: datetime, limit: int) -> None:
    """Publishes again the rosters that were cut, region by region under the region's lock, so that the
    shifts left out come in as the earliest ones end."""
    async with sessions() as session:
        regions = list((await session.execute(select(Site.region_id).where(Site.roster_cut).distinct())).scalars())
    for region_id in regions:
        async with sessions() as session, session.begin():
            await lock_region(session, region_id)
            cut = (await session.execute(select(Site).where(Site.region_id == region_id, Site.roster_cut).order_by(Site.id)))
            await _roster_events(session, list(cut.scalars()), now, limit)


@dataclass(frozen=True)
class ShiftFilters:
    site_id: str | None = None
    region_id: str | None = None
    staff_id: str | None = None
    starts_from: datetime | None = None
    starts_before: datetime | None = None


async def list_shifts(session: AsyncSession, who: Principal, filters: ShiftFilters, limit: int) -> list[ShiftRow]:
    """Shifts in the caller's scope, earliest first: an associate sees their own published ones."""
    who.require_scope(filters.region_id, filters.site_id)
    query = select(ShiftRow).order_by(ShiftRow.starts_at, ShiftRow.id).limit(limit)
    own = (ShiftRow.staff_id == who.sub) & (ShiftRow.status != ShiftStatus.draft)
    query = in_scope(query, who, ShiftRow, own, site_id=filters.site_id, region_id=filters.region_id,
                     staff_id=filters.staff_id)
    if filters.starts_from is not None:
        query = query.where(ShiftRow.starts_at >= filters.starts_from)
    if filters.starts_before is not None:
        query = query.where(ShiftRow.starts_at < filters.starts_before)
    return list((await session.execute(query)).scalars())


async def on_duty_at(session: AsyncSession, who: Principal, at: datetime, site_id: str | None,
                     region_id: str | None) -> rules.OnDutyNow:
    sites = await sites_in_scope(session, who, site_id, region_id)
    regions = {site.region_id for site in sites}
    working = (await session.execute(
        select(ShiftRow).where(
            ShiftRow.status == ShiftStatus.published, ShiftRow.starts_at <= at, ShiftRow.ends_at > at,
            ShiftRow.region_id.in_(regions),
        )
    )).scalars()
    return rules.on_duty([(site.id, site.region_id) for site in sites], [shift_of(row) for row in working], at)

