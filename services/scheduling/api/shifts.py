"""Shifts, publishing a week, and who is on duty."""

from datetime import UTC
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response

from services.scheduling.api import schemas
from services.scheduling.api.deps import IdempotencyKeyHeader, Now, Sessions, Work, actor_for, run_once
from services.scheduling.domain.access import READERS, SCHEDULERS
from services.scheduling.service import shifts
from services.scheduling.service.shifts import Actor, ShiftFilters
from services.shared.auth import Authorize
from services.shared.events.fields import RegionId, StaffId
from services.shared.principal import Principal

router = APIRouter(prefix="/v1", tags=["shifts"], responses=schemas.ERRORS)
Scheduler = Annotated[Actor, actor_for(*SCHEDULERS)]
Reader = Annotated[Principal, Depends(Authorize(*READERS))]
PAGE_MAX = 1000


@router.post("/shifts", status_code=201, response_model=schemas.ShiftOut, summary="Schedule a shift")
async def create_shift(
    body: schemas.ShiftIn, request: Request, actor: Scheduler, idempotency_key: IdempotencyKeyHeader = None
) -> Response:
    async def work(session):
        row = await shifts.create_shift(session, actor, body.site_id, body.staff_id, body.starts_at, body.ends_at)
        return 201, schemas.shift_out(row)

    return await run_once(request, actor.who, idempotency_key, work)


@router.patch("/shifts/{shift_id}", response_model=schemas.ShiftOut, summary="Move a shift's start or end")
async def edit_shift(shift_id: UUID, body: schemas.ShiftChange, actor: Scheduler, uow: Work) -> schemas.ShiftOut:
    async with uow.begin() as session:
        return schemas.shift_out(await shifts.edit_shift(session, actor, shift_id, body.starts_at, body.ends_at))


@router.post("/shifts/{shift_id}/cancel", response_model=schemas.ShiftOut, summary="Cancel a shift")
async def cancel_shift(
    shift_id: UUID, request: Request, actor: Scheduler, idempotency_key: IdempotencyKeyHeader = None
) -> Response:
    async def work(session):
        return 200, schemas.shift_out(await shifts.cancel_shift(session, actor, shift_id))

    return await run_once(request, actor.who, idempotency_key, work)


@router.post(
    "/sites/{site_id}/weeks/{week}/publish", response_model=schemas.WeekPublished,
    summary="Publish a site's week (named by its Monday, local): its draft shifts go on the roster",
)
async def publish_week(
    site_id: schemas.SiteId, week: schemas.Week, request: Request, actor: Scheduler, idempotency_key: IdempotencyKeyHeader = None
) -> Response:
    async def work(session):
        rows = await shifts.publish_week(session, actor, site_id, week)
        return 200, schemas.WeekPublished(site_id=site_id, week=week, published=[schemas.shift_out(r) for r in rows])

    return await run_once(request, actor.who, idempotency_key, work)


@router.get("/shifts", response_model=list[schemas.ShiftOut], summary="Shifts in your scope, earliest first")
async def list_shifts(
    who: Reader, sessions: Sessions, site_id: schemas.SiteId | None = None, region_id: RegionId | None = None,
    staff_id: StaffId | None = None, starts_from: schemas.Instant | None = None,
    starts_before: schemas.Instant | None = None, limit: Annotated[int, Query(ge=1, le=PAGE_MAX)] = 200,
) -> list[schemas.ShiftOut]:
    filters = ShiftFilters(site_id, region_id, staff_id, starts_from, starts_before)
    async with sessions() as session:
        return [schemas.shift_out(row) for row in await shifts.list_shifts(session, who, filters, limit)]


def _person(shift) -> schemas.Person | None:
    if shift is None:
        return None
    return schemas.Person(
        staff_id=shift.staff_id, role=shift.role, starts_at=shift.starts_at.astimezone(UTC), ends_at=shift.ends_at.astimezone(UTC)
    )


@router.get(
    "/on-duty", response_model=schemas.OnDutyOut,
    summary="Who is on duty at an instant: per site the manager, coordinators and associates; per region the coordinator",
)
async def on_duty(
    who: Reader, sessions: Sessions, now: Now, at: schemas.Instant | None = None,
    site_id: schemas.SiteId | None = None, region_id: RegionId | None = None,
) -> schemas.OnDutyOut:
    at = (at or now).astimezone(UTC)
    async with sessions() as session:
        answer = await shifts.on_duty_at(session, who, at, site_id, region_id)
    return schemas.OnDutyOut(
        at=at,
        sites=[
            schemas.SiteOnDutyOut(
                site_id=site.site_id, region_id=site.region_id, manager=_person(site.manager),
                coordinators=[_person(s) for s in site.coordinators], associates=[_person(s) for s in site.associates],
            )
            for site in answer.sites
        ],
        regions=[
            schemas.RegionOnDutyOut(region_id=region, regional_coordinator=_person(shift))
            for region, shift in answer.regional_coordinators.items()
        ],
    )
