"""The regional boards API and the coordinators' dashboard. Every replica follows the worker's
cases (the compacted changelog of its `cases` table) and the coordination topic from the start, so
it needs no storage of its own and any number of coordinators can watch one region."""

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Annotated
from uuid import UUID

import structlog
from aiokafka import ConsumerRecord
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, StreamingResponse
from pydantic import BaseModel, Field

from services.escalation.boards.board import BoardView, Boards
from services.escalation.domain import proposals
from services.escalation.domain.proposals import Problem
from services.escalation.events import Outgoing
from services.escalation.settings import EscalationSettings
from services.escalation.topics import CASES_CHANGELOG
from services.shared.auth import Authorize
from services.shared.clock import Clock, utc_now
from services.shared.events.coordination import Decision, PolicyChange
from services.shared.events.envelope import InvalidEvent, decode
from services.shared.kafka import follow, kafka_ready, make_producer, publish, stop_producer
from services.shared.principal import Principal, Role
from services.shared.settings import PlatformSettings
from services.shared.topics import COMPLAINTS, COORDINATION
from services.shared.web import create_app, html_page

log = structlog.get_logger()
DASHBOARD = Path(__file__).with_name("dashboard.html")
KEEPALIVE_S = 15.0

Viewer = Annotated[Principal, Depends(Authorize(Role.coordinator, Role.regional_coordinator, Role.senior_manager))]
Coordinator = Annotated[Principal, Depends(Authorize(Role.regional_coordinator))]
SeniorManager = Annotated[Principal, Depends(Authorize(Role.senior_manager))]


class ProposalRequest(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    proposal: str = Field(min_length=1, max_length=5000)
    change: PolicyChange | None = Field(
        None, description="The change to the region's return policy, which an acceptance makes its policy; "
        "without one the proposal is advice and its acceptance changes no policy.",
    )


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

    async def emit(outgoing: list[Outgoing]) -> None:
        for out in outgoing:
            await publish(app.state.producer, out.topic, [out.envelope()], platform)
            boards.apply_coordination(out.event)  # this replica shows it at once; the others when they read it

    def found(region_id: str, problem_id: UUID) -> Problem:
        return proposals.found(boards.problem(region_id, problem_id), region_id, problem_id)

    @app.get("/", include_in_schema=False, response_class=HTMLResponse)
    async def dashboard() -> HTMLResponse:
        return html_page(DASHBOARD.read_text(), headers={"Cache-Control": "no-store"})

    @router.get("/regions/{region_id}/board", summary="The region's live board")
    async def board(region_id: str, _: Viewer) -> BoardView:
        return boards.view(region_id, clock())

    @router.get(
        "/regions/{region_id}/board/stream", summary="The region's board, sent again at every change (server-sent events)"
    )
    async def board_stream(region_id: str, request: Request, principal: Viewer) -> StreamingResponse:
        """Ends when the token does, with an `expired` event: the viewer signs in again to go on."""
        expires_at = principal.expires_at or datetime.max.replace(tzinfo=UTC)

        async def events() -> AsyncIterator[str]:
            while not await request.is_disconnected():
                if (left := (expires_at - clock()).total_seconds()) <= 0:
                    yield f"event: expired\ndata: {json.dumps({'detail': 'the token has expired; sign in again'})}\n\n"
                    return
                changed = boards.changed(region_id)
                yield f"event: board\ndata: {boards.view(region_id, clock()).model_dump_json()}\n\n"
                try:
                    await asyncio.wait_for(changed.wait(), min(KEEPALIVE_S, left))
                except TimeoutError:
                    pass  # send the board again: the ages have moved on

        return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-store"})

    @router.post("/regions/{region_id}/problems/{problem_id}/acknowledge", summary="Acknowledge a detected problem")
    async def acknowledge(region_id: str, problem_id: UUID, principal: Coordinator) -> Problem:
        problem = found(region_id, problem_id)
        await emit(proposals.acknowledge(region_id, problem, principal, clock()))
        return problem

    @router.post(
        "/regions/{region_id}/problems/{problem_id}/proposal", status_code=201,
        summary="Propose a policy change to senior management, with the problem's evidence",
    )
    async def propose(region_id: str, problem_id: UUID, request: ProposalRequest, principal: Coordinator) -> Problem:
        problem = found(region_id, problem_id)
        await emit(proposals.propose(region_id, problem, request.title, request.proposal, principal, clock(), request.change))
        return problem

    @router.post("/regions/{region_id}/problems/{problem_id}/decision", summary="Accept or reject the problem's proposal")
    async def decide(region_id: str, problem_id: UUID, request: DecisionRequest, principal: SeniorManager) -> Problem:
        problem = found(region_id, problem_id)
        await emit(proposals.decide(region_id, problem, request.decision, request.rationale, principal, clock()))
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
