"""Consuming other services' events into a service's own store, each event's effects applied once:
the event's id is recorded in the same transaction as its effects, so a replay (after a crash before
the offset commit, a rebalance or a restart) changes nothing the second time, and an effect that
fails leaves no trace and is applied when the event is consumed again.

A service declares the table on its own metadata (`class ProcessedEvent(ProcessedEventColumns,
Base)`), gives its effects per event class, and runs a `consuming_app`: offsets are committed only
after the effects are, and partitions are shared out by the consumer group, one worker or many."""

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from datetime import datetime

from fastapi import FastAPI
from sqlalchemy import String
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from services.shared.db import database_ready, insert_statement, make_engine
from services.shared.events.envelope import Envelope, Event
from services.shared.kafka import Handler, consume, kafka_ready, make_producer, stop_producer
from services.shared.settings import PlatformSettings
from services.shared.topics import Topic
from services.shared.tasks import essential
from services.shared.web import create_app


Effect = Callable[[AsyncSession, Envelope, datetime], Awaitable[None]]
"""Changes the store for one event (session, envelope, now); raises InvalidEvent for an event it
cannot apply, which then goes to the topic's DLQ."""
Effects = Mapping[type[Event], tuple[Effect, ...]]


class ProcessedEventColumns:
    """An event a worker has applied, recorded in the same transaction as its effects."""

    event_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    type: Mapped[str] = mapped_column(String(100))
    processed_at: Mapped[datetime] = mapped_column(index=True)


async def apply_once(
    sessions: async_sessionmaker, processed: type[ProcessedEventColumns], envelope: Envelope, now: datetime,
    effects: Effects,
) -> bool:
    """Applies the event's effects once: False when it was applied before (or nothing here uses it)."""
    wanted = effects.get(type(envelope.data), ())
    if not wanted:
        return False
    async with sessions.begin() as session:
        first = await session.execute(
            insert_statement(session, processed)
            .values(event_id=envelope.id, type=envelope.type, processed_at=now)
            .on_conflict_do_nothing(index_elements=["event_id"])
        )
        if first.rowcount == 0:
            return False
        for effect in wanted:
            await effect(session, envelope, now)
    return True


def consuming_app(
    *, service: str, group: str, topics: Sequence[Topic], platform: PlatformSettings, database_url: str,
    sessions_of: Callable[[AsyncEngine], async_sessionmaker], handler_of: Callable[[async_sessionmaker], Handler],
    migrate: Callable[[], Awaitable[None]] | None = None,
) -> FastAPI:
    """A worker as an app: its lifespan (after `migrate`, if given) consumes the topics in consumer
    group `group`, feeding each event to the handler made for the store's sessions; /readyz checks
    the store and Kafka."""
    engine = make_engine(database_url)
    handle = handler_of(sessions_of(engine))

    @contextlib.asynccontextmanager
    async def lifespan(running: FastAPI) -> AsyncIterator[None]:
        if migrate is not None:
            await migrate()
        stop = asyncio.Event()
        running.state.producer = producer = make_producer(platform, f"{group}-worker")  # for dead letters
        await producer.start()
        consuming = essential(consume(topics, handle, group_id=group, settings=platform, producer=producer, stop=stop),
                              "consumer")
        try:
            yield
        finally:
            stop.set()
            await asyncio.gather(consuming, return_exceptions=True)
            await stop_producer(producer)
            await engine.dispose()

    app = create_app(service=service, platform=platform, lifespan=lifespan, checks={
        "database": lambda: database_ready(engine), "kafka": lambda: kafka_ready(getattr(app.state, "producer", None)),
    })
    return app
