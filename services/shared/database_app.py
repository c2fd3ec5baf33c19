"""The FastAPI app of a service with a database (complaints, scheduling) and what runs beside it:
its migrations at start-up (when asked), the outbox relay and the retention passes. Readiness checks
the database and, with the relay on, Kafka. And what its routes get from the app (`Sessions`, `Work`,
`Now`, `IdempotencyKeyHeader`, and `run_once` for a POST with an Idempotency-Key): routes never
read `app.state` themselves."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Header, Request, Response
from sqlalchemy.ext.asyncio import async_sessionmaker

from services.shared.clock import Clock
from services.shared.db import database_ready, make_engine
from services.shared import idempotency
from services.shared.leases import LeaseColumns, Turns, run_turns
from services.shared.outbox import Outbox, Relay, RelayThread, UnitOfWork
from services.shared.principal import Principal
from services.shared.retention import Retention, retention_turns
from services.shared.settings import DatabaseServiceSettings, PlatformSettings
from services.shared.web import create_app


def database_app(
    *,
    service: str,
    settings: DatabaseServiceSettings,
    platform: PlatformSettings,
    clock: Clock,
    outbox: Outbox,
    leases: type[LeaseColumns],
    idempotency_keys: type[idempotency.IdempotencyKeyColumns],
    retention: Retention,
    jobs: Iterable[Turns] = (),
    upgrade: Callable[[str], Awaitable[None]],
    routers: Iterable[APIRouter],
    version: str,
    description: str,
) -> FastAPI:
    """The app, its relay publishing `outbox` while it holds its lease in `leases`, and the retention
    passes and other `jobs` taking their turns on the same lease table; `settings`,
    `sessions`, `clock` and `uow` (the unit of work, which wakes the relay) are in its state for the
    routes' dependencies."""
    engine = make_engine(settings.database_url)
    sessions = outbox.sessions(engine)
    relay_engine = make_engine(settings.database_url)
    relay = RelayThread(Relay(
        outbox.sessions(relay_engine), outbox.table, leases, platform, clock, client_id=f"{service}-outbox",
        poll_s=settings.relay_poll_ms / 1000, batch_size=settings.relay_batch_size,
        lease_ttl=timedelta(seconds=settings.relay_lease_s),
    ), relay_engine)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if settings.migrate_on_start:
            await upgrade(settings.database_url)
        stop = asyncio.Event()
        if settings.relay_enabled:
            await relay.start()
        turns = [
            asyncio.create_task(run_turns(sessions, leases, job, clock, stop))
            for job in (retention_turns(retention, stop), *jobs)
        ]
        try:
            yield
        finally:
            stop.set()
            await relay.stop()
            await asyncio.gather(*turns)
            await engine.dispose()

    checks = {"database": lambda: database_ready(engine)}
    if settings.relay_enabled:
        checks["kafka"] = relay.ready
    app = create_app(
        service=service, platform=platform, checks=checks, lifespan=lifespan, max_body_bytes=settings.max_body_bytes,
        version=version, description=description,
    )
    app.state.settings, app.state.sessions, app.state.clock = settings, sessions, clock
    app.state.idempotency_keys = idempotency_keys
    app.state.uow = UnitOfWork(sessions, relay.wake)
    for router in routers:
        app.include_router(router)
    return app


# The dependencies are coroutines, though they do not wait: FastAPI runs a plain function in a thread.
async def _sessions(request: Request) -> async_sessionmaker:
    return request.app.state.sessions


async def _uow(request: Request) -> UnitOfWork:
    return request.app.state.uow


async def _now(request: Request) -> datetime:
    return request.app.state.clock()


Sessions = Annotated[async_sessionmaker, Depends(_sessions)]
Work = Annotated[UnitOfWork, Depends(_uow)]
Now = Annotated[datetime, Depends(_now)]
IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key", description="Retrying with the same key returns the first response instead of acting twice."
    ),
]


async def run_once(request: Request, who: Principal, key: str | None, work: idempotency.Work) -> Response:
    """Runs a route's `work` in one transaction and answers with its (status, body), once per
    Idempotency-Key of the caller (see `services.shared.idempotency`)."""
    state = request.app.state
    return await idempotency.run_once(state.uow, state.idempotency_keys, state.clock, request, who.sub, key, work)
