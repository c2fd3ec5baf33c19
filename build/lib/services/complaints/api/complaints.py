"""Filing complaints and working them through their lifecycle."""

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response

from services.complaints import flows
from services.complaints.api import schemas
from services.complaints.api.deps import FRONT_LINE, READERS, IdempotencyKeyHeader, context_for
from services.complaints.api.idempotency import run_once
from services.complaints.api.views import complaint_out
from services.complaints.domain.lifecycle import Action, Status
from services.complaints.flows import Context
from services.shared.events.complaints import Category, Mood, Severity

router = APIRouter(prefix="/v1/complaints", tags=["complaints"], responses=schemas.ERRORS)
Reader = Annotated[Context, context_for(*READERS)]
Worker = Annotated[Context, context_for(*FRONT_LINE)]


@router.post("", status_code=201, response_model=schemas.ComplaintOut, summary="File a complaint")
async def file_complaint(
    body: schemas.NewComplaint, request: Request, ctx: Worker, idempotency_key: IdempotencyKeyHeader = None
) -> Response:
    async def work(session):
        complaint = await flows.file_complaint(session, ctx, body)
        return 201, complaint_out(complaint, ctx, with_notes=True)

    return await run_once(request, ctx.who, idempotency_key, work)


@router.get("", response_model=schemas.ComplaintPage, summary="List complaints in your scope, newest first")
async def list_complaints(
    request: Request,
    ctx: Reader,
    store_id: str | None = None,
    region_id: str | None = None,
    status: Status | None = None,
    category: Category | None = None,
    severity: Severity | None = None,
    mood: Mood | None = None,
    assignee: str | None = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1)] = 50,
) -> schemas.ComplaintPage:
    limit = min(limit, request.app.state.settings.page_size_max)
    filters = flows.Filters(
        store_id=store_id, region_id=region_id, status=status, category=category, severity=severity, mood=mood,
        assignee=assignee, created_from=created_from, created_to=created_to,
    )
    async with request.app.state.sessions() as session:
        page, next_cursor = await flows.list_complaints(session, ctx, filters, cursor, limit)
        return schemas.ComplaintPage(
            items=[complaint_out(complaint, ctx, with_notes=False) for complaint in page], next_cursor=next_cursor
        )


@router.get("/{complaint_id}", response_model=schemas.ComplaintOut, summary="One complaint with its notes")
async def get_complaint(complaint_id: UUID, request: Request, ctx: Reader) -> schemas.ComplaintOut:
    async with request.app.state.sessions() as session:
        return complaint_out(await flows.load_complaint(session, ctx, complaint_id), ctx, with_notes=True)


def _action_route(action: Action, body_model: type | None, summary: str, status_code: int = 200) -> None:
    response_model = schemas.ResolvedOut if action is Action.resolve else schemas.ComplaintOut

    async def work_on(complaint_id: UUID, request: Request, ctx: Context, body, key: str | None) -> Response:
        async def work(session):
            complaint = await flows.act(session, ctx, complaint_id, action, body)
            out = complaint_out(complaint, ctx, with_notes=True)
            if action is Action.resolve:
                out = schemas.ResolvedOut(**out.model_dump(), csat_token=flows.issue_survey(session, ctx, complaint))
            return status_code, out

        return await run_once(request, ctx.who, key, work)

    path = f"/{{complaint_id}}/{action.value.replace('add_note', 'notes')}"
    if body_model is None:

        async def endpoint(complaint_id: UUID, request: Request, ctx: Worker, idempotency_key: IdempotencyKeyHeader = None):
            return await work_on(complaint_id, request, ctx, None, idempotency_key)

    else:

        async def endpoint(
            complaint_id: UUID, body: body_model, request: Request, ctx: Worker,  # type: ignore[valid-type]
            idempotency_key: IdempotencyKeyHeader = None,
        ):
            return await work_on(complaint_id, request, ctx, body, idempotency_key)

    router.add_api_route(
        path, endpoint, methods=["POST"], status_code=status_code, response_model=response_model, summary=summary,
        name=action.value,
        responses={409: {"model": schemas.TransitionProblem, "description": "Not allowed in the current status"}},
    )


_action_route(Action.acknowledge, None, "Acknowledge: someone is on it")
_action_route(Action.assign, schemas.AssignIn, "Assign to a staff member")
_action_route(Action.add_note, schemas.NoteIn, "Add an interaction note", status_code=201)
_action_route(Action.resolve, schemas.ResolveIn, "Resolve, and get the customer's one-time CSAT survey token")
_action_route(Action.reopen, schemas.ReopenIn, "Reopen a resolved or closed complaint")
_action_route(Action.close, None, "Close a resolved complaint")
