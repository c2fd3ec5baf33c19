"""Filing complaints and working them through their lifecycle."""

from collections.abc import Awaitable, Callable
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from services.complaints.api import schemas
from services.complaints.api.deps import Endpoint, IdempotencyKeyHeader, Sessions, Settings, context_for, endpoint_of
from services.shared.database_app import run_once
from services.complaints.api.views import ComplaintOut, ComplaintPage, ResolvedOut, complaint_out
from services.complaints.domain.access import FRONT_LINE, READERS
from services.complaints.domain.lifecycle import Status
from services.complaints.service import complaints
from services.complaints.service.commands import ComplaintFilters
from services.complaints.service.contact_reads import disclose
from services.complaints.service.context import Context
from services.complaints.store.models import Complaint
from services.shared.events.complaints import Category, Mood, Severity
from services.shared.events.fields import RegionId, StaffId, StoreId, Tier

router = APIRouter(prefix="/v1/complaints", tags=["complaints"], responses=schemas.ERRORS)
Reader = Annotated[Context, context_for(*READERS)]
Worker = Annotated[Context, context_for(*FRONT_LINE)]
ME = "me"  # as the assignee: the caller


@router.post("", status_code=201, response_model=ComplaintOut, summary="File a complaint")
async def file_complaint(
    body: schemas.NewComplaint, request: Request, ctx: Worker, idempotency_key: IdempotencyKeyHeader = None
) -> Response:
    command = body.command()

    async def work(session):
        complaint = await complaints.file_complaint(session, ctx, command)
        return 201, complaint_out(complaint, ctx, with_notes=True, contact=command.customer)

    return await run_once(request, ctx.who, idempotency_key, work)


@router.get("", response_model=ComplaintPage, summary="List complaints in your scope, newest first")
async def list_complaints(
    ctx: Reader,
    sessions: Sessions,
    settings: Settings,
    endpoint: Endpoint,
    store_id: StoreId | None = None,
    region_id: RegionId | None = None,
    status: Status | None = None,
    category: Category | None = None,
    severity: Severity | None = None,
    mood: Mood | None = None,
    assignee: Annotated[StaffId | None, Query(description='A staff id, or "me" for your own queue.')] = None,
    tier: Annotated[Tier | None, Query(description="The tier complaints are at.")] = None,
    created_from: schemas.Instant | None = None,
    created_to: schemas.Instant | None = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1)] = 50,
) -> ComplaintPage:
    filters = ComplaintFilters(
        store_id=store_id, region_id=region_id, status=status, category=category, severity=severity, mood=mood,
        assignee=ctx.who.sub if assignee == ME else assignee, tier=tier, created_from=created_from,
        created_to=created_to,
    )
    after = schemas.after_cursor(cursor) if cursor else None
    async with sessions() as session, session.begin():  # a write: contact shown is recorded with the read
        page, more = await complaints.list_complaints(session, ctx, filters, after, min(limit, settings.page_size_max))
        shown = disclose(session, ctx, page, endpoint)
    return ComplaintPage(
        items=[complaint_out(complaint, ctx, with_notes=False, contact=shown.get(complaint.id)) for complaint in page],
        next_cursor=schemas.page_cursor(page[-1].created_at, page[-1].id) if more else None,
    )


@router.get("/{complaint_id}", response_model=ComplaintOut, summary="One complaint with its notes")
async def get_complaint(complaint_id: UUID, ctx: Reader, sessions: Sessions, endpoint: Endpoint) -> ComplaintOut:
    async with sessions() as session, session.begin():
        return _shown(session, ctx, endpoint, await complaints.load_complaint(session, ctx, complaint_id))


def _shown(session: AsyncSession, ctx: Context, endpoint: str, complaint: Complaint) -> ComplaintOut:
    """The complaint with its notes, and its contact if the caller needs it (the read recorded in `session`)."""
    contact = disclose(session, ctx, [complaint], endpoint).get(complaint.id)
    return complaint_out(complaint, ctx, with_notes=True, contact=contact)


def _with_survey(session: AsyncSession, ctx: Context, endpoint: str, resolved: tuple[Complaint, str]) -> ResolvedOut:
    complaint, token = resolved
    return ResolvedOut(**_shown(session, ctx, endpoint, complaint).model_dump(), csat_token=token)


def _action_route(
    path: str, change: Callable[..., Awaitable], body_model: type | None, summary: str, *, status_code: int = 200,
    respond: Callable[[AsyncSession, Context, str, Any], ComplaintOut] = _shown,
    response_model: type[ComplaintOut] = ComplaintOut,
) -> None:
    """A POST that moves a complaint by one action of its lifecycle (`change`, given the command
    the body asks for) and answers with what `respond` makes of the result."""

    async def answer(complaint_id: UUID, request: Request, ctx: Context, key: str | None, *command) -> Response:
        async def work(session: AsyncSession):
            result = await change(session, ctx, complaint_id, *command)
            return status_code, respond(session, ctx, endpoint_of(request), result)

        return await run_once(request, ctx.who, key, work)

    if body_model is None:

        async def endpoint(
            complaint_id: UUID, request: Request, ctx: Worker, idempotency_key: IdempotencyKeyHeader = None
        ):
            return await answer(complaint_id, request, ctx, idempotency_key)

    else:

        async def endpoint(
            complaint_id: UUID, body: body_model, request: Request, ctx: Worker,  # type: ignore[valid-type]
            idempotency_key: IdempotencyKeyHeader = None,
        ):
            return await answer(complaint_id, request, ctx, idempotency_key, body.command())

    router.add_api_route(
        path, endpoint, methods=["POST"], status_code=status_code, response_model=response_model, summary=summary,
        name=change.__name__,
        responses={409: {"model": schemas.TransitionProblem, "description": "Not allowed in the current status"}},
    )


_action_route("/{complaint_id}/acknowledge", complaints.acknowledge, None, "Acknowledge: someone is on it")
_action_route("/{complaint_id}/assign", complaints.assign, schemas.AssignIn, "Assign to a staff member")
_action_route(
    "/{complaint_id}/notes", complaints.add_note, schemas.NoteIn, "Add an interaction note", status_code=201
)
_action_route(
    "/{complaint_id}/resolve", complaints.resolve, schemas.ResolveIn,
    "Resolve, and get the customer's one-time CSAT survey token", respond=_with_survey,
    response_model=ResolvedOut,
)
_action_route("/{complaint_id}/reopen", complaints.reopen, schemas.ReopenIn, "Reopen a resolved or closed complaint")
_action_route("/{complaint_id}/close", complaints.close, None, "Close a resolved complaint")
