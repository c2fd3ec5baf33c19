"""The regional boards API and the coordinators' dashboard. Every replica follows the worker's
cases (the compacted changelog of its `cases` table) and the coordination topic from the start, so
it needs no storage of its own and any number of coordinators can watch one region."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Annotated
from uuid import UUID

import structlog
from aiokafka import ConsumerRecord
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, StreamingResponse
from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from services.escalation.boards.board import BoardView, Boards, Problem
from services.escalation.settings import EscalationSettings
from services.escalation.streams import CASES_CHANGELOG, SOURCE, derived_id
from services.shared.auth import Authorize
from services.shared.principal import Principal, Role
from services.shared.clock import Clock, utc_now
from services.shared.events.coordination import Decision, PolicyDecided, PolicyProposed, ProblemAcknowledged
from services.shared.events.envelope import Event, InvalidEvent, decode, wrap
from services.shared.events.fields import StaffId
from services.shared.kafka import follow, kafka_ready, make_producer, publish, stop_producer
from services.shared.settings import PlatformSettings
from services.shared.topics import COMPLAINTS, COORDINATION
from services.shared.web import create_app

log = structlog.get_logger()
DASHBOARD = Path(__file__).with_name("dashboard.html")
KEEPALIVE_S = 15.0
STAFF_ID = TypeAdapter(StaffId)

Viewer = Annotated[Principal, Depends(Authorize(Role.coordinator, Role.regional_coordinator, Role.senior_manager))]
Coordinator = Annotated[Principal, Depends(Authorize(Role.regional_coordinator))]
SeniorManager = Annotated[Principal, Depends(Authorize(Role.senior_manager))]


class ProposalRequest(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    proposal: str = Field(min_length=1, max_length=5000)


class DecisionRequest(BaseModel):
    decision: Decision
    rationale: str = Field(default="", max_length=5000)


def build_app(settings: EscalationSettings, platform: PlatformSettings, clock: Clock = utc_now) -> FastAPI:
    boards = Boards()
    caught_up = asyncio.Event()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        topics = {CASES_CHANGELOG: COMPLAINTS.partitions, COORDINATION.name: COORDINATION.partitions}
        following = asyncio.create_task(
            follow(topics, partial(_apply, boards), caught_up, client_id="escalation-boards", settings=platform)
        )
        app.state.producer = make_producer(platform, client_id="escalation-boards")
        await app.state.producer.start()
        try:
            yield
        finally:
            following.cancel()
            await stop_producer(app.state.producer)

    async def boards_ready() -> None:
        if not caught_up.is_set():
            raise ConnectionError("still reading the cases and coordination topics")

    app = create_app(
        service="escalation", platform=platform, lifespan=lifespan,
        checks={"kafka": lambda: kafka_ready(getattr(app.state, "producer", None)), "boards": boards_ready},
        description="Regional coordinators' live boards, common problems and policy proposals.",
    )
    router = APIRouter(tags=["boards"])

    async def emit(event: Event, *id_parts: object) -> None:
        envelope = wrap(event, source=SOURCE, time=clock(), id=derived_id(*id_parts))
        await publish(app.state.producer, COORDINATION, [envelope], platform)
        boards.apply_coordination(event)  # this replica shows it at once; the others when they read it

    def found(region_id: str, problem_id: UUID) -> Problem:
        if (problem := boards.problem(region_id, problem_id)) is None:
            raise HTTPException(404, f"no problem {problem_id} in region {region_id}")
        return problem

    def staff(principal: Principal) -> str:
        try:
            return STAFF_ID.validate_python(principal.sub)
        except ValidationError:
            raise HTTPException(403, "the token's subject is not a staff id") from None

    @app.get("/", include_in_schema=False, response_class=HTMLResponse)
    async def dashboard() -> HTMLResponse:
        return HTMLResponse(DASHBOARD.read_text(), headers={"Cache-Control": "no-store"})

    @router.get("/regions/{region_id}/board", summary="The region's live board")
    async def board(region_id: str, _: Viewer) -> BoardView:
        return boards.view(region_id, clock())

    @router.get(
        "/regions/{region_id}/board/stream", summary="The region's board, sent again at every change (server-sent events)"
    )
    async def board_stream(region_id: str, request: Request, _: Viewer) -> StreamingResponse:
        async def events() -> AsyncIterator[str]:
            while not await request.is_disconnected():
                changed = boards.changed(region_id)
                yield f"event: board\ndata: {boards.view(region_id, clock()).model_dump_json()}\n\n"
                try:
                    await asyncio.wait_for(changed.wait(), KEEPALIVE_S)
                except TimeoutError:
                    pass  # send the board again: the ages have moved on

        return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-store"})

    @router.post("/regions/{region_id}/problems/{problem_id}/acknowledge", summary="Acknowledge a detected problem")
    async def acknowledge(region_id: str, problem_id: UUID, principal: Coordinator) -> Problem:
        problem = found(region_id, problem_id)
        if problem.acknowledged_by is None:
            event = ProblemAcknowledged(region_id=region_id, problem_id=problem_id, by=staff(principal), at=clock())
            await emit(event, problem_id, "acknowledged")
        return problem

    @router.post(
        "/regions/{region_id}/problems/{problem_id}/proposal", status_code=201,
        summary="Propose a policy change to senior management, with the problem's evidence",
    )
    async def propose(region_id: str, problem_id: UUID, request: ProposalRequest, principal: Coordinator) -> Problem:
        problem = found(region_id, problem_id)
        if problem.proposal is not None:
            raise HTTPException(409, f"problem {problem_id} already has proposal {problem.proposal.proposal_id}")
        by = staff(principal)
        if problem.acknowledged_by is None:
            await emit(ProblemAcknowledged(region_id=region_id, problem_id=problem_id, by=by, at=clock()), problem_id, "acknowledged")
        event = PolicyProposed(
            region_id=region_id, problem_id=problem_id, proposal_id=derived_id(problem_id, "proposal"),
            title=request.title, proposal=request.proposal, evidence=problem.evidence, by=by, at=clock(),
        )
        await emit(event, problem_id, "proposed")
        return problem

    @router.post("/regions/{region_id}/problems/{problem_id}/decision", summary="Accept or reject the problem's proposal")
    async def decide(region_id: str, problem_id: UUID, request: DecisionRequest, principal: SeniorManager) -> Problem:
        problem = found(region_id, problem_id)
        if problem.proposal is None:
            raise HTTPException(409, f"problem {problem_id} has no policy proposal to decide")
        if problem.proposal.status != "proposed":
            raise HTTPException(409, f"the proposal was already {problem.proposal.status}")
        event = PolicyDecided(
            region_id=region_id, problem_id=problem_id, proposal_id=problem.proposal.proposal_id,
            decision=request.decision, rationale=request.rationale, by=staff(principal), at=clock(),
        )
        await emit(event, problem.proposal.proposal_id, "decided")
        return problem

    app.include_router(router)
    return app


def _apply(boards: Boards, record: ConsumerRecord) -> None:
    if record.topic == CASES_CHANGELOG:
        boards.apply_case(record.key, record.value)
        return
    try:
        boards.apply_coordination(decode(record.value, COORDINATION.event_classes).data)
    except InvalidEvent as error:  # the escalation worker dead-letters; a reader skips
        log.warning("coordination event skipped", offset=record.offset, reason=str(error))
