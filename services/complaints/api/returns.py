"""Returns, refunds and exchanges, checked against the store's return policy."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response

from services.complaints.api import schemas
from services.complaints.api.deps import IdempotencyKeyHeader, Sessions, Settings, context_for
from services.shared.database_app import run_once
from services.complaints.api.views import ReturnOut, ReturnPage, return_out
from services.complaints.domain.access import FRONT_LINE, READERS
from services.complaints.domain.returns import APPROVERS, ReturnStatus
from services.complaints.service import returns
from services.complaints.service.commands import ReturnFilters
from services.complaints.service.context import Context
from services.shared.events.fields import RegionId, StoreId

router = APIRouter(prefix="/v1/returns", tags=["returns"], responses=schemas.ERRORS)
Manager = Annotated[Context, context_for(*APPROVERS)]


@router.post(
    "",
    status_code=201,
    response_model=ReturnOut,
    summary="Request a return, refund or exchange",
    description="Checked against the store's policy. The answer's `status` is approved, rejected (with the broken "
    "rules named), pending_approval (over the amount a store manager must approve) or exception_granted (a store "
    "manager's request with an `exception_reason`). A pending request is later approved, declined or granted an "
    "exception by a store manager.",
)
async def request_return(
    body: schemas.ReturnIn, request: Request, ctx: Annotated[Context, context_for(*FRONT_LINE)],
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response:
    async def work(session):
        created, details = await returns.request_return(session, ctx, body.command())
        return 201, return_out(created, ctx, details)

    return await run_once(request, ctx.who, idempotency_key, work)


@router.get(
    "",
    response_model=ReturnPage,
    summary="List return requests in your scope, newest first",
    description="With `status=pending_approval`, a store manager's inbox: the requests of their store waiting for "
    "them to approve, decline or grant an exception.",
)
async def list_returns(
    ctx: Annotated[Context, context_for(*READERS)],
    sessions: Sessions,
    settings: Settings,
    store_id: StoreId | None = None,
    region_id: RegionId | None = None,
    status: ReturnStatus | None = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1)] = 50,
) -> ReturnPage:
    filters = ReturnFilters(store_id=store_id, region_id=region_id, status=status)
    after = schemas.after_cursor(cursor) if cursor else None
    async with sessions() as session:
        page, more = await returns.list_returns(session, ctx, filters, after, min(limit, settings.page_size_max))
    return ReturnPage(
        items=[return_out(request, ctx) for request in page],
        next_cursor=schemas.page_cursor(page[-1].created_at, page[-1].id) if more else None,
    )


@router.get("/{return_id}", response_model=ReturnOut, summary="One return request")
async def get_return(
    return_id: UUID, ctx: Annotated[Context, context_for(*READERS)], sessions: Sessions
) -> ReturnOut:
    async with sessions() as session:
        return return_out(await returns.load_return(session, ctx, return_id), ctx)


@router.post("/{return_id}/approve", response_model=ReturnOut, summary="Approve a pending request (store manager)")
async def approve(return_id: UUID, request: Request, ctx: Manager, idempotency_key: IdempotencyKeyHeader = None) -> Response:
    async def work(session):
        return 200, return_out(await returns.approve(session, ctx, return_id), ctx)

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
        return 200, return_out(await returns.grant_exception(session, ctx, return_id, body.reason), ctx)

    return await run_once(request, ctx.who, idempotency_key, work)


@router.post(
    "/{return_id}/decline",
    response_model=ReturnOut,
    summary="Decline a pending request, with a reason (store manager)",
    description="Only a request waiting for approval of its amount (409 otherwise, naming its status). The reason's "
    "text stays in this service; its `category` is published.",
)
async def decline(
    return_id: UUID, body: schemas.DeclineIn, request: Request, ctx: Manager, idempotency_key: IdempotencyKeyHeader = None,
) -> Response:
    async def work(session):
        return 200, return_out(await returns.decline(session, ctx, return_id, body.command()), ctx)

    return await run_once(request, ctx.who, idempotency_key, work)
