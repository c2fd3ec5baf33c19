"""Routes of drafted schedules: a site's week drafted by the solver from its demand, and that demand."""

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field

from services.scheduling.api import schemas
from services.scheduling.api.deps import IdempotencyKeyHeader, Sessions, actor_for, run_once
from services.scheduling.domain.access import SCHEDULERS
from services.scheduling.service import drafts
from services.scheduling.service.drafts import Drafting, Hour
from services.scheduling.service.shifts import Actor

router = APIRouter(prefix="/v1", tags=["drafted schedules"], responses=schemas.ERRORS)
Scheduler = Annotated[Actor, actor_for(*SCHEDULERS)]


def _drafting(request: Request) -> Drafting:
    return Drafting.of(request.app.state.settings)


Settings = Annotated[Drafting, Depends(_drafting)]


class HourOut(BaseModel):
    hour: str = Field(description="The local day and hour, e.g. 'Tuesday 18–19'.")
    starts_at: datetime
    ends_at: datetime
    load: float = Field(description="Complaints filed and returns requested in this hour of the week, on average over "
                        "the last complete weeks.")
    demand: int = Field(description="People the hour needs on duty.")
    busy: bool = Field(description="The load is well above the site's usual: the hour also needs a de-escalation-trained person.")


class DraftHourOut(HourOut):
    planned: int = Field(description="People the draft has on duty throughout the hour.")


class WeekDemandOut(BaseModel):
    site_id: schemas.SiteId
    week: date
    hours: list[HourOut]


class DraftOut(BaseModel):
    site_id: schemas.SiteId
    week: date
    proven_optimal: bool = Field(description="No better draft exists; otherwise the solver's work limit was reached first.")
    shifts: list[schemas.ShiftOut] = Field(description="The week's draft shifts at the site, hand-made ones included.")
    hours: list[DraftHourOut]


def _hour(hour: Hour) -> dict:
    return {"hour": hour.name, "starts_at": hour.starts_at, "ends_at": hour.ends_at, "load": hour.demand.load,
            "demand": hour.demand.people, "busy": hour.demand.busy}


@router.post(
    "/sites/{site_id}/weeks/{week}/draft", response_model=DraftOut,
    responses={422: {"description": "The week cannot be scheduled: each conflicting rule is named in `detail`."}},
    summary="Draft a site's week (named by its Monday, local) from its demand: replaces the earlier draft run's shifts",
)
async def draft_week(
    site_id: schemas.SiteId, week: schemas.Week, request: Request, actor: Scheduler, drafting: Settings,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response:
    async def work(session):
        draft = await drafts.draft_week(session, actor, site_id, week, drafting)
        return 200, DraftOut(
            site_id=site_id, week=week, proven_optimal=draft.proven_best, shifts=[schemas.shift_out(row) for row in draft.shifts],
            hours=[DraftHourOut(**_hour(hour), planned=hour.planned) for hour in draft.hours],
        )

    return await run_once(request, actor.who, idempotency_key, work)


@router.get(
    "/sites/{site_id}/weeks/{week}/demand", response_model=WeekDemandOut,
    summary="The demand of each open hour of a site's week, from its complaints and returns",
)
async def week_demand(site_id: schemas.SiteId, week: schemas.Week, actor: Scheduler, drafting: Settings,
                      sessions: Sessions) -> WeekDemandOut:
    async with sessions() as session:
        hours = await drafts.demand_of_week(session, actor.who, site_id, week, actor.now, drafting.demand)
    return WeekDemandOut(site_id=site_id, week=week, hours=[HourOut(**_hour(hour)) for hour in hours])
