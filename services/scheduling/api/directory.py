"""Regions, sites and the staff directory."""

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from services.scheduling.api import schemas
from services.scheduling.api.deps import Now, Sessions, Work
from services.scheduling.domain.access import ADMINS, READERS, STAFF_EDITORS, sees_contact
from services.scheduling.service import directory
from services.shared.auth import Authorize
from services.shared.errors import OutOfScope
from services.shared.events.fields import RegionId, StaffId
from services.shared.principal import Principal

router = APIRouter(prefix="/v1", tags=["directory"], responses=schemas.ERRORS)
Admin = Annotated[Principal, Depends(Authorize(*ADMINS))]
Editor = Annotated[Principal, Depends(Authorize(*STAFF_EDITORS))]
Reader = Annotated[Principal, Depends(Authorize(*READERS))]


@router.put("/regions/{region_id}", status_code=204, summary="Create or rename a region")
async def put_region(region_id: RegionId, body: schemas.RegionIn, _: Admin, uow: Work) -> Response:
    await uow.put(lambda session: directory.put_region(session, region_id, body.name))
    return Response(status_code=204)


@router.put("/sites/{site_id}", status_code=204, summary="Create or update a site: time zone and opening hours")
async def put_site(site_id: schemas.SiteId, body: schemas.SiteIn, _: Admin, uow: Work) -> Response:
    await uow.put(lambda session: directory.put_site(session, site_id, body.spec()))
    return Response(status_code=204)


@router.get("/sites", response_model=list[schemas.SiteOut], summary="The sites in your scope")
async def list_sites(who: Reader, sessions: Sessions, region_id: RegionId | None = None) -> list[schemas.SiteOut]:
    async with sessions() as session:
        sites = await directory.sites_in_scope(session, who, None, region_id)
    return [schemas.SiteOut(site_id=site.id, **{k: getattr(site, k) for k in (
        "region_id", "name", "kind", "timezone", "opening_hours", "exceptions")}) for site in sites]


@router.put("/staff/{staff_id}", status_code=204, summary="Create or update a staff member's directory entry")
async def put_staff(staff_id: StaffId, body: schemas.StaffIn, who: Editor, uow: Work, now: Now) -> Response:
    await uow.put(lambda session: directory.put_staff(session, who, staff_id, body.spec(), now))
    return Response(status_code=204)


@router.get("/staff/{staff_id}", response_model=schemas.StaffOut, summary="A staff member's directory entry")
async def get_staff(staff_id: StaffId, who: Reader, sessions: Sessions) -> schemas.StaffOut:
    async with sessions() as session:
        staff = await directory.load_staff(session, who, staff_id)
    return schemas.staff_out(staff, sees_contact(who, staff.id, staff.home_site_id, staff.region_id))


@router.get("/staff", response_model=list[schemas.StaffOut], summary="The staff in your scope")
async def list_staff(
    who: Reader, sessions: Sessions, site_id: schemas.SiteId | None = None, region_id: RegionId | None = None
) -> list[schemas.StaffOut]:
    async with sessions() as session:
        staff = await directory.list_staff(session, who, site_id, region_id)
    return [schemas.staff_out(s, sees_contact(who, s.id, s.home_site_id, s.region_id)) for s in staff]


@router.delete("/staff/{staff_id}/contact", status_code=204, summary="Erase a staff member's work contact channels")
async def erase_contact(staff_id: StaffId, who: Reader, uow: Work, now: Now) -> Response:
    if who.sub != staff_id and who.role not in ADMINS:
        raise OutOfScope("only the person, a senior manager or a service may erase contact channels")
    async with uow.begin() as session:
        await directory.erase_contact(session, who, staff_id, now)
    return Response(status_code=204)
