"""The scheduling worker (`python -m services.scheduling.worker`). It consumes complaints, returns,
escalations and coordination (consumer group `scheduling`) and applies each event's effects to the
scheduling store once (see `service.intake`); what those effects publish goes through the store's
outbox, which the API's relay sends. Offsets are committed only after the effects are committed, so
a crash replays events, and the replays change nothing. One worker or many: partitions are shared
out by the group."""

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator

import structlog
from fastapi import FastAPI

from services.scheduling.service import intake
from services.scheduling.settings import SchedulingSettings
from services.scheduling.store.migrate import upgrade_async
from services.scheduling.store.outbox import OUTBOX
from services.shared.clock import Clock, utc_now
from services.shared.db import database_ready, make_engine
from services.shared.events.envelope import Envelope
from services.shared.kafka import consume, kafka_ready, make_producer, stop_producer
from services.shared.settings import PlatformSettings
from services.shared.web import create_app

GROUP = "scheduling"
log = structlog.get_logger()


def build_worker(settings: SchedulingSettings, platform: PlatformSettings, clock: Clock = utc_now) -> FastAPI:
    """The worker as an app: its lifespan consumes; /readyz checks the store and Kafka."""
    engine = make_engine(settings.database_url)
    sessions = OUTBOX.sessions(engine)
    effects = intake.effects(settings)

    async def handle(envelope: Envelope) -> None:
        await intake.apply(sessions, envelope, clock(), effects)

    @contextlib.asynccontextmanager
    async def lifespan(running: FastAPI) -> AsyncIterator[None]:
        if settings.migrate_on_start:
            await upgrade_async(settings.database_url)
        stop = asyncio.Event()
        running.state.producer = producer = make_producer(platform, f"{GROUP}-worker")  # for dead letters
        await producer.start()
        consuming = asyncio.create_task(
            consume(intake.TOPICS, handle, group_id=GROUP, settings=platform, producer=producer, stop=stop)
        )
        consuming.add_done_callback(_stop_the_process_if_it_failed)
        try:
            yield
        finally:
            stop.set()
            await asyncio.gather(consuming, return_exceptions=True)
            await stop_producer(producer)
            await engine.dispose()

    app = create_app(service="scheduling-worker", platform=platform, lifespan=lifespan, checks={
        "database": lambda: database_ready(engine), "kafka": lambda: kafka_ready(getattr(app.state, "producer", None)),
    })
    return app


def _stop_the_process_if_it_failed(consuming: asyncio.Task) -> None:
    """A consumer stopped by an error it cannot handle (the store unreachable) stops the process, for the
    process manager to start it again; the events it had not committed are then consumed again."""
    if not consuming.cancelled() and consuming.exception() is not None:
        log.error("consumer stopped; stopping the worker", error=type(consuming.exception()).__name__)
        signal.raise_signal(signal.SIGTERM)
