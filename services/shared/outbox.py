"""The transactional outbox: events are written with the change they report, in one transaction,
and a relay publishes them to Kafka in order, at least once, under their original event ids.

Order per key: every transaction that writes events for a key first locks that key's row (the
complaints service's `lock_store`), so one store's outbox rows commit in `seq` order and the relay,
reading in `seq` order, never sees a later row of a store before an earlier one. Only the relay
holding the lease publishes; if a slow holder loses it, both may publish the same rows, each in
order, and consumers drop the duplicates by event id.

A service declares the table on its own metadata (`class OutboxEvent(OutboxColumns, Base)`, plus
a `leases` row named `RELAY_LEASE` inserted by its migration), opens its sessions with
`Outbox.sessions`, writes through a `UnitOfWork`, and runs a `Relay` (in a service, a `RelayThread`).
"""

import asyncio
import contextlib
import threading
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError, OutOfOrderSequenceNumber
from sqlalchemy import BigInteger, Integer, LargeBinary, String, bindparam, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from services.shared import db
from services.shared.clock import Clock
from services.shared.events.envelope import Event, encode, wrap
from services.shared.kafka import kafka_ready, make_producer, send_all, stop_producer
from services.shared.leases import LeaseColumns, give_up_lease, take_lease
from services.shared.settings import PlatformSettings
from services.shared.topics import Topic

RELAY_LEASE = "outbox-relay"
MAX_RETRY_PAUSE_S = 5.0
_SESSION_INFO = "outbox"
log = structlog.get_logger()


class OutboxColumns:
    """An event written in the same transaction as the change it reports; the relay publishes
    rows in `seq` order and stamps `published_at`."""

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    event_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    topic: Mapped[str] = mapped_column(String(100))
    key: Mapped[str] = mapped_column(String(100))
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]
    published_at: Mapped[datetime | None] = mapped_column(index=True)


@dataclass(frozen=True)
class Outbox:
    """A service's outbox table and the source its events are published under."""

    table: type[OutboxColumns]
    source: str

    def sessions(self, engine: AsyncEngine) -> async_sessionmaker:
        """The service's sessions: `add_events` in any of them writes to this outbox."""
        factory = db.sessions(engine)
        factory.configure(info={_SESSION_INFO: self})
        return factory


def add_events(session: AsyncSession, topic: Topic, events: Iterable[Event], now: datetime, subject: str) -> None:
    """Adds `events` to the session's outbox, to commit with the change they report."""
    outbox = _outbox_of(session)
    for event in events:
        session.add(outbox.table(**_row(outbox, topic, event, now, subject)))


def event_rows(session: AsyncSession, topic: Topic, events: Iterable[Event], now: datetime, subject: str) -> list[dict]:
    """The rows `add_events` would add to the session's outbox, for a hot path that writes them with
    INSERTs of its own (filing a complaint); they must commit with the change they report, as there."""
    outbox = _outbox_of(session)
    return [_row(outbox, topic, event, now, subject) for event in events]


def _outbox_of(session: AsyncSession) -> "Outbox":
    outbox: Outbox | None = session.info.get(_SESSION_INFO)
    if outbox is None:
        raise LookupError("this session has no outbox: open it from Outbox.sessions")
    return outbox


def _row(outbox: Outbox, topic: Topic, event: Event, now: datetime, subject: str) -> dict:
    envelope = wrap(event, source=outbox.source, time=now, subject=subject)
    return {
        "event_id": envelope.id, "topic": topic.name, "key": topic.key(event).decode(), "payload": encode(envelope),
        "created_at": now,
    }


class UnitOfWork:
    """One transaction: `async with uow.begin() as session` commits on a clean exit and rolls back on
    an exception. After a commit it wakes the relay, so the events written go out at once rather
    than at the relay's next poll."""

    def __init__(self, sessions: async_sessionmaker, wake: Callable[[], None]) -> None:
        self.sessions, self._wake = sessions, wake

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncSession]:
        async with self.sessions() as session, session.begin():
            yield session
        self._wake()

    async def put(self, change: Callable[[AsyncSession], Awaitable[None]]) -> None:
        """A create-or-update (an idempotent PUT) in one transaction. Two of them creating the same row
        at once both read nothing and insert, and the later insert fails on the key: that one runs again,
        and finds the row to update."""
        try:
            async with self.begin() as session:
                await change(session)
        except IntegrityError:
            async with self.begin() as session:
                await change(session)


def retry_pause(poll_s: float, failures: int) -> float:
    """How long the relay waits after its `failures`-th failure in a row: doubling, up to a bound."""
    return min(poll_s * 2**failures, MAX_RETRY_PAUSE_S)


class Relay:
    """Publishes the outbox continuously under the lease; `wake()` after a commit cuts the wait to nothing."""

    def __init__(
        self, sessions: async_sessionmaker, outbox: type[OutboxColumns], leases: type[LeaseColumns],
        platform: PlatformSettings, clock: Clock, *, client_id: str, poll_s: float, batch_size: int,
        lease_ttl: timedelta, lease: str = RELAY_LEASE,
    ) -> None:
        self.sessions, self.outbox, self.leases, self.platform, self.clock = sessions, outbox, leases, platform, clock
        self.client_id, self.poll_s, self.batch_size = client_id, poll_s, batch_size
        self.lease, self.lease_ttl = lease, lease_ttl
        self.holder = f"relay-{uuid.uuid4()}"
        self.producer: AIOKafkaProducer | None = None
        self._wake = asyncio.Event()
        self._held_until: datetime | None = None  # the lease's expiry as this relay last set it
        self._delivered: list[int] = []  # rows Kafka acknowledged, stamped with the next batch's reading
        # Core statements on the table, built once: through the ORM each batch cost the relay about a fifth
        # more CPU, which it takes from the requests' process (under load a batch is a filing or two).
        rows = outbox.__table__.c
        self._unpublished = (select(rows.seq, rows.topic, rows.key, rows.payload)
                             .where(rows.published_at.is_(None)).order_by(rows.seq).limit(batch_size))
        self._stamped = (update(outbox.__table__).where(rows.seq.in_(bindparam("seqs", expanding=True)))
                         .values(published_at=bindparam("at")))

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
                        self.producer = await self._started_producer()
                    self._wake.clear()  # before reading the outbox: a commit from now on wakes the next wait
                    published = await self.publish_batch(self.producer)
                    failures = 0
                except (KafkaError, TimeoutError, SQLAlchemyError, OSError) as error:
                    failures += 1
                    log.warning("outbox relay failed; retrying", error=type(error).__name__, failures=failures)
                    await self._give_up_lease()
                    if self.producer is not None and isinstance(error, OutOfOrderSequenceNumber):
                        # a stuck idempotent producer (aiokafka #1017)
                        await stop_producer(self.producer)
                        self.producer = None
                    await self._idle(stop, retry_pause(self.poll_s, failures), wakeable=False)
                    continue
                if published != self.batch_size:
                    await self._idle(stop, self.poll_s)
        finally:
            await self._stamp_delivered()
            if self.producer is not None:
                await stop_producer(self.producer)
                self.producer = None

    async def _started_producer(self) -> AIOKafkaProducer:
        """A producer that reached the brokers; one that could not is closed before the error goes on."""
        producer = make_producer(self.platform, client_id=self.client_id)
        try:
            await producer.start()
        except BaseException:
            await stop_producer(producer)
            raise
        return producer

    async def publish_batch(self, producer: AIOKafkaProducer) -> int | None:
        """Publishes up to `batch_size` unpublished events; returns how many, or None without the lease.
        One transaction a batch: it renews the lease once half of it has run out, stamps the previous
        batch's rows published and reads the next ones."""
        async with self.sessions() as session, session.begin():
            now = self.clock()
            if self._held_until is None or now >= self._held_until - self.lease_ttl / 2:
                if not await take_lease(session, self.leases, self.lease, self.holder, now, self.lease_ttl):
                    self._held_until = None
                    return None
                self._held_until = now + self.lease_ttl
            await self._stamp(session)
            rows = (await (await session.connection()).execute(self._unpublished)).all()
        self._delivered = []
        if not rows:
            return 0
        records = ((row.topic, row.key.encode(), row.payload) for row in rows)
        await send_all(producer, records, self.platform.kafka_send_timeout_s)
        self._delivered = [row.seq for row in rows]
        return len(rows)

    async def _stamp(self, session: AsyncSession) -> None:
        """Marks the delivered rows published (they were: the stamp needs no lease). Until then a relay
        taking over sends them again, under the same event ids, which consumers drop."""
        if self._delivered:
            await (await session.connection()).execute(self._stamped, {"seqs": self._delivered, "at": self.clock()})

    async def _stamp_delivered(self) -> None:
        if not self._delivered:
            return
        try:
            async with self.sessions() as session, session.begin():
                await self._stamp(session)
            self._delivered = []
        except SQLAlchemyError:
            pass  # sent again by the next relay

    async def _give_up_lease(self) -> None:
        self._held_until = None
        try:
            async with self.sessions() as session, session.begin():
                await give_up_lease(session, self.leases, self.lease, self.holder)
        except SQLAlchemyError:
            pass  # it expires by itself

    async def _idle(self, stop: asyncio.Event, pause_s: float, wakeable: bool = True) -> None:
        """Waits for a stop, the pause, or (if wakeable) a wake-up since the last batch began, whichever
        comes first."""
        waits = [asyncio.ensure_future(stop.wait())]
        if wakeable:
            waits.append(asyncio.ensure_future(self._wake.wait()))
        await asyncio.wait(waits, timeout=pause_s, return_when=asyncio.FIRST_COMPLETED)
        for wait in waits:
            wait.cancel()


READY_TIMEOUT_S = 5.0  # above kafka_ready's own 2 s


class RelayThread:
    """A service's relay on an event loop of its own, in a thread beside the requests'. On their loop
    each step of a batch (a connection, its statements, the deliveries) waited behind every request
    ready to run, and under load a filing reached Kafka tens of milliseconds after its 201. The relay
    has its own engine (`engine`, disposed with it): connections belong to the loop that opened them."""

    def __init__(self, relay: Relay, engine: AsyncEngine) -> None:
        self.relay, self._engine = relay, engine
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._running = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._relaying()), name="outbox-relay", daemon=True)

    async def start(self) -> None:
        self._thread.start()
        await asyncio.to_thread(self._running.wait)

    async def stop(self) -> None:
        if self._thread.is_alive():
            with contextlib.suppress(RuntimeError):  # its loop closed meanwhile: it stopped on its own
                self._loop.call_soon_threadsafe(self._stop.set)
            await asyncio.to_thread(self._thread.join)

    def wake(self) -> None:
        """From any thread: a commit's events go out at once."""
        if self._loop is not None:
            with contextlib.suppress(RuntimeError):  # the relay has stopped: the next one publishes them
                self._loop.call_soon_threadsafe(self.relay.wake)

    async def ready(self) -> None:
        """Raises unless the relay's producer has reached Kafka (asked on the relay's loop)."""
        if self._loop is None:
            raise ConnectionError("the relay has not started")
        asking = kafka_ready(self.relay.producer)
        try:
            asked = asyncio.run_coroutine_threadsafe(asking, self._loop)
        except RuntimeError:  # its loop has closed
            asking.close()
            raise ConnectionError("the relay has stopped") from None
        try:
            # Bounded: a loop that stopped running but is not closed yet accepts the question and never answers.
            await asyncio.wait_for(asyncio.wrap_future(asked), READY_TIMEOUT_S)
        except TimeoutError:
            raise ConnectionError("the relay did not answer: it has stopped or is stuck") from None
        except asyncio.CancelledError:
            if asked.cancelled():  # by its loop shutting down, not by this request
                raise ConnectionError("the relay has stopped") from None
            raise

    async def _relaying(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        self._running.set()
        try:
            await self.relay.run(self._stop)
        except Exception as error:  # a defect: readiness reports the relay stopped
            log.exception("outbox relay stopped", error=type(error).__name__)
        finally:
            await self._engine.dispose()
