"""Returns, refunds and exchanges, checked against the store's return policy."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Request, Response

from services.complaints.api import schemas
from services.complaints.api.deps import IdempotencyKeyHeader, Sessions, context_for
from services.shared.database_app import run_once
from services.complaints.api.views import ReturnOut, return_out
from services.complaints.domain.access import FRONT_LINE, READERS
from services.complaints.domain.returns import APPROVERS
from services.complaints.service import returns
from services.complaints.service.context import Context

router = APIRouter(prefix="/v1/returns", tags=["returns"], responses=schemas.ERRORS)
Manager = Annotated[Context, context_for(*APPROVERS)]


@router.post(
    "",
    status_code=201,
    response_model=ReturnOut,
    summary="Request a return, refund or exchange",
    description="Checked against the store's policy. The answer's `status` is approved, rejected (with the broken "
    "rules named), pending_approval (over the amount a store manager must approve) or exception_granted (a store "
    "manager's request with an `exception_reason`).",
)
async def request_return(
    body: schemas.ReturnIn, request: Request, ctx: Annotated[Context, context_for(*FRONT_LINE)],
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response:
    async def work(session):
        created, details = await returns.request_return(session, ctx, body.command())
        return 201, return_out(created, details)

    return await run_once(request, ctx.who, idempotency_key, work)


@router.get("/{return_id}", response_model=ReturnOut, summary="One return request")
async def get_return(
    return_id: UUID, ctx: Annotated[Context, context_for(*READERS)], sessions: Sessions
) -> ReturnOut:
    async with sessions() as session:
        return return_out(await returns.load_return(session, ctx, return_id))


@router.post("/{return_id}/approve", response_model=ReturnOut, summary="Approve a pending request (store manager)")
async def approve(return_id: UUID, request: Request, ctx: Manager, idempotency_key: IdempotencyKeyHeader = None) -> Response:
    async def work(session):
        return 200, return_out(await returns.approve(session, ctx, return_id))

    return await run_once(request, ctx.who, idempotency_key, work)


@router.post(
    "/{return_id}/exception",
    response_model=ReturnOut,
    summary="Grant an exception to the broken rules, with a reason (store manager)",
)
async def grant_exception(
    return_id: UUID, body: schemas.ExceptionIn, request: Request, ctx: Manager,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response:
    async def work(session):
        return 200, return_out(await returns.grant_exception(session, ctx, return_id, body.reason))

    return await run_once(request, ctx.who, idempotency_key, work)
