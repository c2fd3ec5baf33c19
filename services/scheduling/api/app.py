"""The scheduling service's FastAPI application and what runs beside it (migrations, the relay,
retention)."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.scheduling.api import directory, shifts
from services.scheduling.settings import SchedulingSettings
from services.scheduling.store.migrate import upgrade_async
from services.scheduling.store.outbox import OUTBOX, make_relay
from services.scheduling.store.retention import make_retention
from services.shared.clock import Clock, utc_now
from services.shared.db import database_ready, make_engine
from services.shared.kafka import kafka_ready
from services.shared.outbox import UnitOfWork
from services.shared.retention import run_retention
from services.shared.settings import PlatformSettings
from services.shared.web import create_app

VERSION = "0.1.0"


def build_app(settings: SchedulingSettings, platform: PlatformSettings, clock: Clock = utc_now) -> FastAPI:
    engine = make_engine(settings.database_url)
    session_factory = OUTBOX.sessions(engine)
    relay = make_relay(session_factory, platform, clock, settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if settings.migrate_on_start:
            await upgrade_async(settings.database_url)
        stop = asyncio.Event()
        relaying = asyncio.create_task(relay.run(stop)) if settings.relay_enabled else None
        purging = asyncio.create_task(run_retention(session_factory, make_retention(settings), clock, stop))
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
        checks["kafka"] = lambda: kafka_ready(relay.producer)
    app = create_app(
        service="scheduling",
        platform=platform,
        checks=checks,
        lifespan=lifespan,
        max_body_bytes=settings.max_body_bytes,
        version=VERSION,
        description="Sites, the staff directory, shifts and the on-duty roster. Publishing a week and every later "
        "change publish each site's roster (compacted `roster` topic) through a transactional outbox.",
    )
    app.state.settings, app.state.sessions, app.state.clock = settings, session_factory, clock
    app.state.uow = UnitOfWork(session_factory, relay.wake)
    for router in (directory.router, shifts.router):
        app.include_router(router)
    return app
