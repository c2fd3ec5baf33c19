"""Routes of training proposals: the site manager sees what complaints call for, and confirms or dismisses it."""

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from services.scheduling.api import schemas
from services.scheduling.api.deps import IdempotencyKeyHeader, Now, Sessions, run_once
from services.scheduling.domain.proposals import DECIDERS, READERS, ProposalStatus
from services.scheduling.service import proposals
from services.scheduling.store.development import REASON_MAX_CHARS, TrainingProposal
from services.shared.auth import Authorize
from services.shared.events.fields import RegionId, StaffId
from services.shared.events.scheduling import TrainingCause, TrainingKind
from services.shared.principal import Principal

router = APIRouter(prefix="/v1", tags=["training proposals"], responses=schemas.ERRORS)
Reader = Annotated[Principal, Depends(Authorize(*READERS))]
Decider = Annotated[Principal, Depends(Authorize(*DECIDERS))]
PAGE_MAX = 1000


class ProposalOut(BaseModel):
    proposal_id: UUID
    site_id: schemas.SiteId
    region_id: RegionId
    kind: TrainingKind
    cause: TrainingCause
    cause_ref: str = Field(description="The cause: the site and the first day of the window counted, or the problem id.")
    staff_ids: list[StaffId]
    problem_id: UUID | None
    proposed_at: datetime
    status: ProposalStatus
    decided_by: StaffId | None
    decided_at: datetime | None
    reason: str | None
    session_id: UUID | None = Field(description="The training session scheduled for it, once there is one.")


class DecisionIn(schemas.Strict):
    reason: str | None = Field(None, min_length=1, max_length=REASON_MAX_CHARS)


def _out(row: TrainingProposal) -> ProposalOut:
    return ProposalOut(
        proposal_id=row.id, site_id=row.site_id, region_id=row.region_id, kind=TrainingKind(row.kind),
        cause=TrainingCause(row.cause), cause_ref=row.cause_ref, staff_ids=row.staff_ids, problem_id=row.problem_id,
        proposed_at=row.proposed_at, status=ProposalStatus(row.status), decided_by=row.decided_by,
        decided_at=row.decided_at, reason=row.reason, session_id=row.session_id,
    )


@router.get("/training-proposals", response_model=list[ProposalOut], summary="Training proposals of your sites, newest first")
async def list_proposals(
    who: Reader, sessions: Sessions, site_id: schemas.SiteId | None = None, region_id: RegionId | None = None,
    status: ProposalStatus | None = None, limit: Annotated[int, Query(ge=1, le=PAGE_MAX)] = 200,
) -> list[ProposalOut]:
    async with sessions() as session:
        return [_out(row) for row in await proposals.list_proposals(session, who, site_id, region_id, status, limit)]


@router.get("/training-proposals/{proposal_id}", response_model=ProposalOut, summary="A training proposal")
async def get_proposal(proposal_id: UUID, who: Reader, sessions: Sessions) -> ProposalOut:
    async with sessions() as session:
        return _out(await proposals.load_proposal(session, who, proposal_id))


async def _decide(proposal_id: UUID, status: ProposalStatus, body: DecisionIn | None, request: Request, who: Principal,
                  now: datetime, key: str | None) -> Response:
    async def work(session):
        reason = body.reason if body else None
        return 200, _out(await proposals.decide(session, who, proposal_id, status, reason, now))

    return await run_once(request, who, key, work)


@router.post(
    "/training-proposals/{proposal_id}/confirm", response_model=ProposalOut,
    responses={409: {"model": schemas.Problem, "description": "The proposal was decided already"}},
    summary="Confirm a training proposal (once)",
)
async def confirm(proposal_id: UUID, request: Request, who: Decider, now: Now, body: DecisionIn | None = None,
                  idempotency_key: IdempotencyKeyHeader = None) -> Response:
    return await _decide(proposal_id, ProposalStatus.confirmed, body, request, who, now, idempotency_key)


@router.post(
    "/training-proposals/{proposal_id}/dismiss", response_model=ProposalOut,
    responses={409: {"model": schemas.Problem, "description": "The proposal was decided already"}},
    summary="Dismiss a training proposal (once), with the reason",
)
async def dismiss(proposal_id: UUID, request: Request, who: Decider, now: Now, body: DecisionIn | None = None,
                  idempotency_key: IdempotencyKeyHeader = None) -> Response:
    return await _decide(proposal_id, ProposalStatus.dismissed, body, request, who, now, idempotency_key)
