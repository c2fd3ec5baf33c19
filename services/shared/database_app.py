"""The FastAPI app of a service with a database (complaints, scheduling) and what runs beside it:
its migrations at start-up (when asked), the outbox relay and the retention passes. Readiness checks
the database and, with the relay on, Kafka."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from sqlalchemy.ext.asyncio import async_sessionmaker

from services.shared.clock import Clock
from services.shared.db import database_ready, make_engine
from services.shared.kafka import kafka_ready
from services.shared.outbox import Outbox, Relay, UnitOfWork
from services.shared.retention import Retention, run_retention
from services.shared.settings import DatabaseServiceSettings, PlatformSettings
from services.shared.web import create_app


def database_app(
    *,
    service: str,
    settings: DatabaseServiceSettings,
    platform: PlatformSettings,
    clock: Clock,
    outbox: Outbox,
    relay: Callable[[async_sessionmaker], Relay],
    retention: Retention,
    upgrade: Callable[[str], Awaitable[None]],
    routers: Iterable[APIRouter],
    version: str,
    description: str,
) -> FastAPI:
    """The app, with `settings`, `sessions`, `clock` and `uow` (the unit of work, which wakes the
    relay) in its state for the routes' dependencies."""
    engine = make_engine(settings.database_url)
    sessions = outbox.sessions(engine)
    relaying_to_kafka = relay(sessions)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if settings.migrate_on_start:
            await upgrade(settings.database_url)
        stop = asyncio.Event()
        relaying = asyncio.create_task(relaying_to_kafka.run(stop)) if settings.relay_enabled else None
        purging = asyncio.create_task(run_retention(sessions, retention, clock, stop))
        try:
            yield
        finally:
            stop.set()
            if relaying:
                await relaying
            await purging
            await engine.dispose()

    checks = {"database": lambda: database_ready(engine)}
    if settings.relay_enabled:
        checks["kafka"] = lambda: kafka_ready(relaying_to_kafka.producer)
    app = create_app(
        service=service, platform=platform, checks=checks, lifespan=lifespan, max_body_bytes=settings.max_body_bytes,
        version=version, description=description,
    )
    app.state.settings, app.state.sessions, app.state.clock = settings, sessions, clock
    app.state.uow = UnitOfWork(sessions, relaying_to_kafka.wake)
    for router in routers:
        app.include_router(router)
    return app
