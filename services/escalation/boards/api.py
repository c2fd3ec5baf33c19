"""The regional boards API and the coordinators' dashboard. Every replica follows the worker's
cases (the compacted changelog of its `cases` table) into a SQL read model, from the offsets stored
with it (replicas may share one database: see `store.cases`), and the coordination topic from the
start into memory, so any number of coordinators can watch one region."""

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
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, StreamingResponse
from pydantic import BaseModel, Field

from services.escalation.boards.board import BoardView, Boards
from services.escalation.boards.changelog import follow_cases
from services.escalation.boards.store.cases import InvalidCursor
from services.escalation.boards.store.migrate import upgrade_async
from services.escalation.domain import proposals
from services.escalation.domain.proposals import Problem
from services.escalation.events import Outgoing
from services.escalation.settings import EscalationSettings
from services.shared.auth import Authorize
from services.shared.clock import Clock, utc_now
from services.shared.db import database_ready, make_engine, sessions
from services.shared.events.coordination import Decision, PolicyChange
from services.shared.events.envelope import InvalidEvent, decode
from services.shared.kafka import follow, kafka_ready, make_producer, publish, stop_producer
from services.shared.principal import Principal, Role
from services.shared.settings import PlatformSettings
from services.shared.topics import COORDINATION
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
    engine = make_engine(settings.boards_database_url)
    boards = Boards(sessions(engine))
    cases_caught_up, coordination_caught_up = asyncio.Event(), asyncio.Event()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.boards_migrate_on_start:
            await upgrade_async(settings.boards_database_url)
        following = [
            asyncio.create_task(follow_cases(boards, cases_caught_up, settings.boards_batch_records, platform)),
            asyncio.create_task(follow({COORDINATION.name: COORDINATION.partitions}, partial(_apply, boards),
                                       coordination_caught_up, client_id="escalation-boards", settings=platform)),
        ]
        app.state.producer = make_producer(platform, client_id="escalation-boards")
        await app.state.producer.start()
        try:
            yield
        finally:
            for task in following:
                task.cancel()
            await stop_producer(app.state.producer)
            await engine.dispose()

    async def boards_ready() -> None:
        if not (cases_caught_up.is_set() and coordination_caught_up.is_set()):
            raise ConnectionError("still reading the cases and coordination topics")

    app = create_app(
        service="escalation-boards", platform=platform, lifespan=lifespan,
        checks={"kafka": lambda: kafka_ready(getattr(app.state, "producer", None)), "boards": boards_ready,
                "database": lambda: database_ready(engine)},
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
    async def board(
        region_id: str, _: Viewer,
        after: Annotated[str | None, Query(max_length=1000, description="The board's `next`: the open complaints after those it listed.")] = None,
        limit: Annotated[int, Query(ge=1, le=settings.boards_list_limit)] = settings.boards_list_limit,
    ) -> BoardView:
        try:
            return await boards.view(region_id, clock(), limit, after)
        except InvalidCursor as error:
            raise HTTPException(422, str(error)) from None

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
                view = await boards.view(region_id, clock(), settings.boards_list_limit)
                yield f"event: board\ndata: {view.model_dump_json()}\n\n"
                await asyncio.sleep(settings.boards_stream_interval_s)  # a busy region's changes are sent together
                try:
                    await asyncio.wait_for(changed.wait(), max(0.0, min(KEEPALIVE_S, left) - settings.boards_stream_interval_s))
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
    try:
        boards.apply_coordination(decode(record.value, COORDINATION.event_classes).data)
    except InvalidEvent as error:  # the escalation worker dead-letters; a reader skips
        log.warning("coordination event skipped", offset=record.offset, reason=str(error))
