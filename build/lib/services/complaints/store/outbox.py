"""The transactional outbox: events are written with the change they report, in one transaction,
and a relay publishes them to Kafka in order, at least once, under their original event ids.

Order per store: every transaction that writes events for a store first locks that store's row
(`lock_store`), so one store's outbox rows commit in `seq` order and the relay, reading in `seq`
order, never sees a later row of a store before an earlier one. Only the relay holding the lease
publishes; if a slow holder loses it, both may publish the same rows, each in order, and consumers
drop the duplicates by event id.
"""

import asyncio
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError, OutOfOrderSequenceNumber
from sqlalchemy import or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.complaints.store.models import Lease, OutboxEvent, Store
from services.shared.clock import Clock
from services.shared.events.envelope import Event, encode, wrap
from services.shared.kafka import make_producer, send_all, stop_producer
from services.shared.settings import PlatformSettings
from services.shared.topics import Topic

SOURCE = "/services/complaints"
RELAY_LEASE = "outbox-relay"
MAX_RETRY_PAUSE_S = 5.0
log = structlog.get_logger()


async def lock_store(session: AsyncSession, store_id: str) -> Store | None:
    """Locks the store's row until the transaction ends (PostgreSQL; SQLite locks the whole database)."""
    return (await session.execute(select(Store).where(Store.id == store_id).with_for_update())).scalar_one_or_none()


def add_events(session: AsyncSession, topic: Topic, events: Iterable[Event], now: datetime, subject: str) -> None:
    for event in events:
        envelope = wrap(event, source=SOURCE, time=now, subject=subject)
        session.add(
            OutboxEvent(
                event_id=envelope.id,
                topic=topic.name,
                key=topic.key(event).decode(),
                payload=encode(envelope),
                created_at=now,
            )
        )


async def take_lease(session: AsyncSession, holder: str, now: datetime, ttl: timedelta) -> bool:
    result = await session.execute(
        update(Lease)
        .where(Lease.name == RELAY_LEASE)
        .where(or_(Lease.holder == holder, Lease.expires_at.is_(None), Lease.expires_at < now))
        .values(holder=holder, expires_at=now + ttl)
    )
    return result.rowcount == 1


async def relay_batch(
    sessions: async_sessionmaker, producer: AIOKafkaProducer, *, holder: str, clock: Clock, lease_ttl: timedelta,
    batch_size: int, send_timeout_s: float,
) -> int | None:
    """Publishes up to `batch_size` unpublished events; returns how many, or None without the lease."""
    async with sessions() as session, session.begin():
        if not await take_lease(session, holder, clock(), lease_ttl):
            return None
        rows = (
            await session.execute(
                select(OutboxEvent.seq, OutboxEvent.topic, OutboxEvent.key, OutboxEvent.payload)
                .where(OutboxEvent.published_at.is_(None))
                .order_by(OutboxEvent.seq)
                .limit(batch_size)
            )
        ).all()
    if not rows:
        return 0
    await send_all(producer, ((row.topic, row.key.encode(), row.payload) for row in rows), send_timeout_s)
    async with sessions() as session, session.begin():
        await session.execute(
            update(OutboxEvent).where(OutboxEvent.seq.in_([row.seq for row in rows])).values(published_at=clock())
        )
    return len(rows)


class Relay:
    """Publishes the outbox continuously; `wake()` after a commit cuts the wait to nothing."""

    def __init__(
        self, sessions: async_sessionmaker, platform: PlatformSettings, clock: Clock, *, poll_s: float,
        batch_size: int, lease_ttl: timedelta,
    ) -> None:
        self.sessions, self.platform, self.clock = sessions, platform, clock
        self.poll_s, self.batch_size, self.lease_ttl = poll_s, batch_size, lease_ttl
        self.holder = f"relay-{uuid.uuid4()}"
        self.producer: AIOKafkaProducer | None = None
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Publishes until `stop` is set. Never gives up: Kafka or database trouble is logged and
        retried with a growing pause, during which the lease is left to any healthier relay."""
        failures = 0
        try:
            while not stop.is_set():
                try:
                    if self.producer is None:
                        self.producer = make_producer(self.platform, client_id="complaints-outbox")
                        await self.producer.start()
                    published = await relay_batch(
                        self.sessions, self.producer, holder=self.holder, clock=self.clock, lease_ttl=self.lease_ttl,
                        batch_size=self.batch_size, send_timeout_s=self.platform.kafka_send_timeout_s,
                    )
                    failures = 0
                except (KafkaError, TimeoutError, SQLAlchemyError, OSError) as error:
                    failures += 1
                    log.warning("outbox relay failed; retrying", error=type(error).__name__, failures=failures)
                    await self._give_up_lease()
                    if self.producer is not None and (
                        isinstance(error, OutOfOrderSequenceNumber) or not self.producer.client.cluster.brokers()
                    ):  # a stuck idempotent producer (aiokafka #1017), or one that never reached a broker
                        await stop_producer(self.producer)
                        self.producer = None
                    await self._idle(stop, min(self.poll_s * 2**failures, MAX_RETRY_PAUSE_S), wakeable=False)
                    continue
                if published != self.batch_size:
                    await self._idle(stop, self.poll_s)
        finally:
            if self.producer is not None:
                await stop_producer(self.producer)
                self.producer = None

    async def _give_up_lease(self) -> None:
        try:
            async with self.sessions() as session, session.begin():
                await session.execute(
                    update(Lease).where(Lease.name == RELAY_LEASE, Lease.holder == self.holder).values(expires_at=None)
                )
        except SQLAlchemyError:
            pass  # it expires by itself

    async def _idle(self, stop: asyncio.Event, pause_s: float, wakeable: bool = True) -> None:
        """Waits for a stop, the pause, or (if wakeable) a wake-up, whichever comes first."""
        self._wake.clear()
        waits = [asyncio.ensure_future(stop.wait())]
        if wakeable:
            waits.append(asyncio.ensure_future(self._wake.wait()))
        await asyncio.wait(waits, timeout=pause_s, return_when=asyncio.FIRST_COMPLETED)
        for wait in waits:
            wait.cancel()
