"""The complaints service's FastAPI application and what runs beside it (migrations, the relay,
retention)."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.complaints.api import admin, complaints, contact_reads, csat, returns
from services.complaints.settings import DEVELOPMENT_CUSTOMER_REF_KEY, ComplaintsSettings
from services.complaints.store.migrate import upgrade_async
from services.complaints.store.outbox import OUTBOX, make_relay
from services.complaints.store.retention import make_retention
from services.shared.clock import Clock, utc_now
from services.shared.db import database_ready, make_engine
from services.shared.kafka import kafka_ready
from services.shared.outbox import UnitOfWork
from services.shared.retention import run_retention
from services.shared.settings import Environment, PlatformSettings, check_production_key
from services.shared.web import create_app

VERSION = "0.2.0"


def build_app(settings: ComplaintsSettings, platform: PlatformSettings, clock: Clock = utc_now) -> FastAPI:
    if platform.env is Environment.production:
        check_production_key("COMPLAINTS_CUSTOMER_REF_KEY", settings.customer_ref_key, DEVELOPMENT_CUSTOMER_REF_KEY)
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
        service="complaints",
        platform=platform,
        checks=checks,
        lifespan=lifespan,
        max_body_bytes=settings.max_body_bytes,
        version=VERSION,
        description="System of record for complaints, returns and CSAT. Every change is published to Kafka "
        "at least once, under a stable event id, through a transactional outbox.",
    )
    app.state.settings, app.state.sessions, app.state.clock = settings, session_factory, clock
    app.state.ref_key = settings.customer_ref_key.get_secret_value().encode()
    app.state.uow = UnitOfWork(session_factory, relay.wake)
    for router in (complaints.router, returns.router, csat.router, admin.router, contact_reads.router):
        app.include_router(router)
    return app

