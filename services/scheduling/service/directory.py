"""Regions, sites and the staff directory."""

from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, false, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.scheduling.domain.access import OWN_ONLY, may_edit_staff, sees_staff
from services.scheduling.domain.hours import Opening, OpeningHours, Weekday
from services.scheduling.domain.shifts import Leave
from services.scheduling.service import training
from services.scheduling.store.models import Region, Site, StaffMember
from services.shared.errors import InvalidField, NotFound, OutOfScope
from services.shared.principal import REGION_ROLES, Principal, Role


class UnknownSite(InvalidField):
    def __init__(self, site_id: str, field: str = "site_id") -> None:
        super().__init__(field, f"unknown site {site_id!r}")


@dataclass(frozen=True)
class SiteSpec:
    region_id: str
    name: str
    kind: str
    timezone: str
    opening_hours: dict[str, list[list[str]]]
    exceptions: dict[str, list[list[str]]]


@dataclass(frozen=True)
class StaffSpec:
    role: str
    home_site_id: str
    skills: list[str]
    hire_date: date
    contracted_hours: int
    max_hours: int
    availability: dict[str, list[list[str]]]
    leave: list[dict[str, str]]
    work_email: str | None
    work_phone: str | None
    webhook_url: str | None


def _opening(pair: list[str]) -> Opening:
    opens, closes = pair
    return Opening(time.fromisoformat(opens), None if closes == "24:00" else time.fromisoformat(closes))


def hours_of(site: Site) -> OpeningHours:
    return OpeningHours(
        weekly={Weekday[day]: tuple(map(_opening, pairs)) for day, pairs in site.opening_hours.items()},
        exceptions={date.fromisoformat(day): tuple(map(_opening, pairs)) for day, pairs in site.exceptions.items()},
    )


def zone_of(site: Site) -> ZoneInfo:
    return ZoneInfo(site.timezone)


def leave_of(staff: StaffMember) -> list[Leave]:
    return [Leave(date.fromisoformat(away["first"]), date.fromisoformat(away["last"])) for away in staff.leave]


async def put_region(session: AsyncSession, region_id: str, name: str) -> None:
    region = await session.get(Region, region_id) or Region(id=region_id)
    region.name = name
    session.add(region)


async def put_site(session: AsyncSession, site_id: str, spec: SiteSpec) -> None:
    if await session.get(Region, spec.region_id) is None:
        raise InvalidField("region_id", f"unknown region {spec.region_id!r}")
    site = await session.get(Site, site_id)
    if site is not None and site.region_id != spec.region_id:
        raise InvalidField("region_id", f"site {site_id} is in region {site.region_id}; a site does not move")
    site = site or Site(id=site_id)
    site.region_id, site.name, site.kind, site.timezone = spec.region_id, spec.name, spec.kind, spec.timezone
    site.opening_hours, site.exceptions = spec.opening_hours, spec.exceptions
    session.add(site)


async def load_site(session: AsyncSession, who: Principal, site_id: str) -> Site:
    site = await session.get(Site, site_id)
    if site is None:
        raise NotFound(f"no site {site_id}")
    who.require_scope(site.region_id, site.id)
    return site


async def sites_in_scope(session: AsyncSession, who: Principal, site_id: str | None, region_id: str | None) -> list[Site]:
    query = select(Site).order_by(Site.id)
    if site_id is not None:
        query = query.where(Site.id == site_id)
    if region_id is not None:
        query = query.where(Site.region_id == region_id)
    sites = list((await session.execute(query)).scalars())
    for site in sites if site_id or region_id else []:
        who.require_scope(site.region_id, site.id)
    return [site for site in sites if who.scope_error(site.region_id, site.id) is None]


async def put_staff(session: AsyncSession, who: Principal, staff_id: str, spec: StaffSpec, now: datetime) -> None:
    site = await session.get(Site, spec.home_site_id)
    if site is None:
        raise UnknownSite(spec.home_site_id, "home_site_id")
    staff = await session.get(StaffMember, staff_id)
    if not may_edit_staff(who, spec.role, site.id) or (
        staff is not None and not may_edit_staff(who, staff.role, staff.home_site_id)
    ):
        raise OutOfScope(f"role {who.role} may not keep the directory entry of a {spec.role} of site {site.id}")
    staff = staff or StaffMember(id=staff_id)
    staff.role, staff.home_site_id, staff.region_id = spec.role, site.id, site.region_id
    staff.skills, staff.hire_date = sorted(set(spec.skills)), spec.hire_date
    staff.contracted_hours, staff.max_hours = spec.contracted_hours, spec.max_hours
    staff.availability, staff.leave = spec.availability, spec.leave
    staff.work_email, staff.work_phone, staff.webhook_url = spec.work_email, spec.work_phone, spec.webhook_url
    if spec.work_email or spec.work_phone or spec.webhook_url:
        staff.contact_erased_at = None
    session.add(staff)
    if staff in session.new:
        await training.new_hire(session, staff, now)


async def load_staff(session: AsyncSession, who: Principal, staff_id: str) -> StaffMember:
    staff = await session.get(StaffMember, staff_id)
    if staff is None or not sees_staff(who, staff.id, staff.home_site_id, staff.region_id):
        raise NotFound(f"no staff member {staff_id} in your scope")
    return staff


async def list_staff(session: AsyncSession, who: Principal, site_id: str | None, region_id: str | None) -> list[StaffMember]:
    query = select(StaffMember).order_by(StaffMember.id)
    if site_id is not None:
        query = query.where(StaffMember.home_site_id == site_id)
    if region_id is not None:
        query = query.where(StaffMember.region_id == region_id)
    staff = (await session.execute(query)).scalars()
    return [member for member in staff if sees_staff(who, member.id, member.home_site_id, member.region_id)]


async def erase_contact(session: AsyncSession, who: Principal, staff_id: str, now: datetime) -> None:
    """Clears the person's work contact channels for good; their shifts and history stay."""
    staff = await load_staff(session, who, staff_id)
    staff.work_email = staff.work_phone = staff.webhook_url = None
    staff.contact_erased_at = now


def in_scope(query: Select, who: Principal, table: type, own: ColumnElement[bool] | None = None, **filters: object) -> Select:
    """The query of `table` (with site_id and region_id) narrowed to what the caller may see — their
    own rows (`own`; nothing without it) for the front line, their site's for a store manager, their
    region's for the region's roles, all for the chain's — and to the `filters` given (column name →
    value; None filters nothing)."""
    if who.role in OWN_ONLY:
        query = query.where(own if own is not None else false())
    elif who.role is Role.store_manager:
        query = query.where(table.site_id == who.store_id)
    elif who.role in REGION_ROLES:
        query = query.where(table.region_id == who.region_id)
    for name, value in filters.items():
        if value is not None:
            query = query.where(getattr(table, name) == value)
    return query
