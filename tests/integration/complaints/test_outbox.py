"""The complaints outbox against real PostgreSQL and a real Kafka broker of this module's own.

Two relays run at once while staff file and work complaints in three stores; mid-stream the relay
holding the lease stops, then the broker stops (filing goes on: the API only writes the database), a
relay starts again while the broker is down, and the broker starts again on the same data directory
and port. Afterwards the whole `complaints` topic is read back from the beginning, every record is
validated strictly against the contracts, and checked against the outbox table: nothing lost,
nothing extra, one event id per committed change, and each store's events in the order they were
committed.

The next two tests cover two races found on the way: a relay told to stop while the broker is down,
and one customer filing at two stores at once. The last: a service's relay publishes while its
requests keep their loop busy.
"""

import asyncio
import io
import random
import time
from collections import Counter, defaultdict, deque
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from uuid import UUID, uuid4

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from sqlalchemy import func, select

from services.complaints.store.models import Lease, OutboxEvent
from services.shared.clock import utc_now
from services.shared.db import make_engine, sessions
from services.shared.events.envelope import Envelope, InvalidEvent, decode
from services.shared.kafka import ensure_topics
from services.shared.outbox import RELAY_LEASE, Relay
from services.shared.principal import Role
from services.shared.settings import PlatformSettings
from services.shared.topics import ALL_TOPICS, COMPLAINTS
from tests.support import eventually
from tests.support.complaints import STORES, Api, start_api
from tests.support.infra import free_port, script

FILED = "retail.complaint.filed.v1"
ACKNOWLEDGED = "retail.complaint.acknowledged.v1"
RESOLVED = "retail.complaint.resolved.v1"
LIFECYCLE = (FILED, ACKNOWLEDGED, RESOLVED)

WORKERS_PER_STORE = 2
STOP_TIMEOUT_S = 20.0  # a relay's run() must return within this after its stop event is set


# ---- a broker of this module's own --------------------------------------------------------


@dataclass
class Broker:
    directory: Path
    port: int
    bootstrap: str = ""
    running: bool = False

    def start(self) -> str:
        self.bootstrap = script("kafka.sh", "start", "--dir", str(self.directory), "--port", str(self.port))
        self.running = True
        return self.bootstrap

    def stop(self) -> None:
        script("kafka.sh", "stop", "--dir", str(self.directory))
        self.running = False

    async def ensure_running(self) -> None:
        """Leaves the broker up for the next test, whatever happened in this one."""
        if not self.running:
            await asyncio.to_thread(self.start)


@pytest.fixture(scope="module")
def broker(infra_dir: Path):
    broker = Broker(infra_dir / f"kafka-outbox-{uuid4().hex[:8]}", free_port())
    broker.start()
    try:
        ensure_topics(PlatformSettings(kafka_bootstrap_servers=broker.bootstrap), ALL_TOPICS)
        yield broker
    finally:
        broker.stop()


# ---- staff filing and working complaints ---------------------------------------------------


@dataclass
class Writes:
    """Committed changes (each an HTTP 201/200), made by workers that act only within a budget the
    test raises phase by phase, so the run is bounded and each phase has writes in it."""

    api: Api
    limit: int = 0
    started: int = 0
    committed: int = 0
    closed: bool = False
    filed: dict[UUID, str] = field(default_factory=dict)  # complaint id -> store
    acknowledged: set[UUID] = field(default_factory=set)
    resolved: set[UUID] = field(default_factory=set)
    by_phase: Counter = field(default_factory=Counter)
    phase: str = "both relays"
    budget_changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def allow(self, more: int) -> int:
        async with self.budget_changed:
            self.limit += more
            self.budget_changed.notify_all()
        return self.limit

    async def close(self) -> None:
        async with self.budget_changed:
            self.closed = True
            self.budget_changed.notify_all()

    async def _permit(self) -> bool:
        async with self.budget_changed:
            await self.budget_changed.wait_for(lambda: self.closed or self.started < self.limit)
            if self.closed:
                return False
            self.started += 1
            return True

    async def worker(self, store: str, number: int) -> None:
        rng = random.Random(f"{store}-{number}")
        headers = self.api.token(Role.associate, store, sub=f"emp-{number}")
        opened: deque[UUID] = deque()
        acknowledged: deque[UUID] = deque()
        while await self._permit():
            roll = rng.random()
            if acknowledged and roll < 0.3:
                complaint = acknowledged.popleft()
                response = await self.api.client.post(
                    f"/v1/complaints/{complaint}/resolve", headers=headers,
                    json={"technique": "defuse", "outcome": "apology", "summary": "Replaced the kettle."},
                )
                assert response.status_code == 200, response.text
                self.resolved.add(complaint)
            elif opened and roll < 0.65:
                complaint = opened.popleft()
                response = await self.api.client.post(f"/v1/complaints/{complaint}/acknowledge", headers=headers)
                assert response.status_code == 200, response.text
                self.acknowledged.add(complaint)
                acknowledged.append(complaint)
            else:
                # A customer of their own per complaint: the same customer filing at two stores at
                # once is a separate matter (test_one_customer_filing_at_two_stores_at_once).
                customer = {"name": "Aino Virtanen", "email": f"aino.{uuid4().hex[:12]}@example.com"}
                response = await self.api.file(store=store, customer=customer, description=f"Kettle leaks, {store}.")
                assert response.status_code == 201, response.text
                complaint = UUID(response.json()["id"])
                self.filed[complaint] = store
                opened.append(complaint)
            self.committed += 1
            self.by_phase[self.phase] += 1


# ---- relays as tasks, each with its own stop event ----------------------------------------


class Relays:
    def __init__(self, session_factory, platform: PlatformSettings) -> None:
        self.session_factory, self.platform = session_factory, platform
        self.running: dict[str, tuple[Relay, asyncio.Event, asyncio.Task]] = {}
        self.names: dict[str, str] = {}  # lease holder -> relay name

    def start(self, name: str) -> Relay:
        relay = Relay(
            self.session_factory, OutboxEvent, Lease, self.platform, utc_now, client_id=f"outbox-test-{name}",
            poll_s=0.05, batch_size=20, lease_ttl=timedelta(seconds=2),
        )
        stop = asyncio.Event()
        self.running[name] = (relay, stop, asyncio.create_task(relay.run(stop), name=f"relay {name}"))
        self.names[relay.holder] = name
        return relay

    async def lease_holder(self) -> str | None:
        """The name of the relay whose lease is current, if any."""
        async with self.session_factory() as session:
            lease = await session.scalar(select(Lease).where(Lease.name == RELAY_LEASE))
        if lease.holder is None or lease.expires_at is None or lease.expires_at <= utc_now():
            return None
        return self.names.get(lease.holder, lease.holder)

    def check(self) -> None:
        """Fails the test if a relay task ended without being told to stop (a crash)."""
        for name, (_relay, stop, task) in self.running.items():
            if task.done() and not stop.is_set():
                error = task.exception() if not task.cancelled() else "cancelled"
                raise AssertionError(f"relay {name} ended on its own: {error!r}") from (
                    error if isinstance(error, BaseException) else None
                )

    async def stop(self, name: str) -> float:
        relay, stop, task = self.running[name]
        stop.set()
        started = time.monotonic()
        try:
            async with asyncio.timeout(STOP_TIMEOUT_S):
                await asyncio.shield(task)
        except TimeoutError:
            raise AssertionError(
                f"relay {name} did not stop within {STOP_TIMEOUT_S}s (its producer is {relay.producer!r})"
            ) from None
        self.running.pop(name)
        return time.monotonic() - started

    async def cancel_all(self) -> None:
        for _relay, stop, task in self.running.values():
            stop.set()
            task.cancel()
        await asyncio.gather(*(task for _r, _s, task in self.running.values()), return_exceptions=True)


# ---- reading back ------------------------------------------------------------------------


@dataclass
class Record:
    partition: int
    offset: int
    key: str
    envelope: Envelope


async def read_topic(bootstrap: str, timeout_s: float = 30.0) -> list[Record]:
    """The whole `complaints` topic from the beginning, with a fresh group, each record decoded
    strictly against the contracts (a record that does not decode fails the test)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=f"outbox-check-{uuid4()}", enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        partitions = [TopicPartition(COMPLAINTS.name, number) for number in range(COMPLAINTS.partitions)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        records: list[Record] = []
        async with asyncio.timeout(timeout_s):
            while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
                for tp, batch in (await consumer.getmany(*partitions, timeout_ms=200)).items():
                    for record in batch:
                        try:
                            envelope = decode(record.value, COMPLAINTS.event_classes)
                        except InvalidEvent as error:
                            pytest.fail(f"{tp} offset {record.offset} is not a valid event: {error}")
                        records.append(Record(tp.partition, record.offset, record.key.decode(), envelope))
        return records
    finally:
        await consumer.stop()


# ---- the scenario ------------------------------------------------------------------------


async def _started_api(database_url: str, platform: PlatformSettings) -> tuple[Api, AsyncIterator[Api]]:
    running = start_api(database_url, platform, relay_enabled=False)
    return await anext(running), running


async def test_relays_and_broker_stopped_mid_stream_publish_every_change_once_in_order(broker, new_database):
    began = time.monotonic()
    platform = PlatformSettings(kafka_bootstrap_servers=broker.bootstrap, kafka_send_timeout_s=3.0)
    database_url = await new_database()
    api, api_running = await _started_api(database_url, platform)
    engine = make_engine(database_url)
    session_factory = sessions(engine)
    relays = Relays(session_factory, platform)
    writes = Writes(api)
    holders: list[str] = []  # relay names in the order they held the lease (sampled)
    workers = [
        asyncio.create_task(writes.worker(store, number), name=f"writer {store} {number}")
        for store in STORES
        for number in range(WORKERS_PER_STORE)
    ]

    async def unpublished() -> int:
        async with session_factory() as session:
            return await session.scalar(select(func.count()).where(OutboxEvent.published_at.is_(None)))

    def saw_holder(name: str | None) -> None:
        if name is not None and (not holders or holders[-1] != name):
            holders.append(name)

    async def watch_lease() -> None:
        while True:
            saw_holder(await relays.lease_holder())
            await asyncio.sleep(0.05)  # a sampling interval, not a wait for a condition

    def check_tasks() -> None:
        relays.check()
        for task in workers:
            if task.done() and not task.cancelled() and task.exception() is not None:
                raise AssertionError(f"{task.get_name()} failed") from task.exception()

    async def committed_at_least(count: int, timeout_s: float = 30.0) -> None:
        async def probe() -> bool:
            check_tasks()
            return writes.committed >= count

        await eventually(probe, timeout_s=timeout_s, what=f"{count} committed changes")

    lease_watch = asyncio.create_task(watch_lease())
    timings: dict[str, float] = {}
    try:
        relays.start("R1")
        relays.start("R2")
        await committed_at_least(await writes.allow(60))

        # Mid-stream, with writes going on: stop the relay that holds the lease; the other must take over.
        target = await writes.allow(60)
        await committed_at_least(target - 40)
        holder = await eventually(relays.lease_holder, timeout_s=10, what="a relay holding the lease")
        saw_holder(holder)
        timings[f"{holder} stop"] = await relays.stop(holder)
        await committed_at_least(target)

        # Stop the broker while writes go on; the remaining relay keeps trying.
        writes.phase = "broker stopping"
        target = await writes.allow(40)
        started = time.monotonic()
        await asyncio.to_thread(broker.stop)
        timings["broker stop"] = time.monotonic() - started
        await committed_at_least(target)

        # With the broker down: the API still answers (it only writes the database), and a relay
        # started now keeps retrying to reach Kafka instead of failing.
        writes.phase = "broker down"
        late = relays.start("R3")
        await committed_at_least(await writes.allow(60))
        check_tasks()
        assert late.producer is None, "R3 started a producer while the broker was down"
        waiting_during_outage = await unpublished()
        assert waiting_during_outage > 0, "the broker is down, yet nothing waits in the outbox"

        # Start the broker again (same dir and port) while writes go on.
        writes.phase = "broker starting"
        target = await writes.allow(40)
        started = time.monotonic()
        assert await asyncio.to_thread(broker.start) == platform.kafka_bootstrap_servers
        timings["broker start"] = time.monotonic() - started
        await committed_at_least(target)
        writes.phase = "after restart"
        await committed_at_least(await writes.allow(60))
        await writes.close()
        async with asyncio.timeout(10):
            await asyncio.gather(*workers)

        async def all_published() -> bool:
            check_tasks()
            return await unpublished() == 0

        started = time.monotonic()
        await eventually(all_published, timeout_s=30, what="every outbox row published")
        timings["drain"] = time.monotonic() - started
        check_tasks()
        await eventually(_true(lambda: late.producer is not None), timeout_s=15, what="R3 reaching the broker")
        for name in list(relays.running):
            timings[f"{name} stop"] = await relays.stop(name)
    finally:
        lease_watch.cancel()
        for task in workers:
            task.cancel()
        await asyncio.gather(lease_watch, *workers, return_exceptions=True)
        await relays.cancel_all()
        try:
            await api_running.aclose()
            await broker.ensure_running()
        finally:
            async with session_factory() as session:
                rows = (await session.execute(select(OutboxEvent).order_by(OutboxEvent.seq))).scalars().all()
            await engine.dispose()

    # The lease moved: the relay stopped mid-stream was not the only one to publish.
    assert len(set(holders)) >= 2, holders

    records = await read_topic(broker.bootstrap)

    # The outbox: one row per committed change, each a valid event keyed by its store.
    outbox = {row.event_id: decode(row.payload, COMPLAINTS.event_classes) for row in rows}
    assert len(rows) == len(outbox) == writes.committed
    for row in rows:
        assert row.topic == COMPLAINTS.name
        assert row.key == outbox[row.event_id].data.store_id
        assert row.published_at is not None

    # (a) Nothing lost, nothing extra: the ids on Kafka are the ids in the outbox.
    consumed: dict[UUID, Envelope] = {}
    for record in records:
        assert record.key == record.envelope.data.store_id, f"{record.envelope.id} keyed {record.key!r}"
        first = consumed.setdefault(record.envelope.id, record.envelope)
        assert first == record.envelope, f"{record.envelope.id} published with different contents"
    assert set(consumed) == set(outbox), (
        f"lost {len(set(outbox) - set(consumed))}, extra {len(set(consumed) - set(outbox))}"
    )
    assert all(consumed[event_id] == outbox[event_id] for event_id in outbox)
    duplicates = len(records) - len(consumed)

    # (b) Every committed change under exactly one event id (duplicates of one id are fine).
    ids_by_change: dict[tuple[str, UUID], set[UUID]] = defaultdict(set)
    for envelope in consumed.values():
        ids_by_change[envelope.type, envelope.data.complaint_id].add(envelope.id)
    assert {key: len(ids) for key, ids in ids_by_change.items() if len(ids) != 1} == {}
    assert {c for (kind, c) in ids_by_change if kind == FILED} == set(writes.filed)
    assert {c for (kind, c) in ids_by_change if kind == ACKNOWLEDGED} == writes.acknowledged
    assert {c for (kind, c) in ids_by_change if kind == RESOLVED} == writes.resolved
    assert {envelope.type for envelope in consumed.values()} <= set(LIFECYCLE)

    # (c) Per store: the first occurrences on Kafka follow the outbox's seq order; one partition per store.
    records.sort(key=lambda record: (record.partition, record.offset))
    kafka_order: dict[str, list[UUID]] = defaultdict(list)
    partitions: dict[str, set[int]] = defaultdict(set)
    seen: set[UUID] = set()
    for record in records:
        partitions[record.key].add(record.partition)
        if record.envelope.id not in seen:
            seen.add(record.envelope.id)
            kafka_order[record.key].append(record.envelope.id)
    outbox_order: dict[str, list[UUID]] = defaultdict(list)
    for row in rows:
        outbox_order[row.key].append(row.event_id)
    assert set(outbox_order) == set(STORES)
    for store in STORES:
        assert len(partitions[store]) == 1, f"{store} spread over partitions {partitions[store]}"
        assert kafka_order[store] == outbox_order[store], f"{store}: Kafka order differs from the outbox's seq order"

    # (d) Per complaint: filed, then acknowledged, then resolved.
    position = {event_id: index for order in kafka_order.values() for index, event_id in enumerate(order)}
    steps: dict[UUID, list[tuple[int, str]]] = defaultdict(list)
    for envelope in consumed.values():
        steps[envelope.data.complaint_id].append((position[envelope.id], envelope.type))
    for complaint, happened in steps.items():
        kinds = [kind for _position, kind in sorted(happened)]
        assert kinds == list(LIFECYCLE[: len(kinds)]), f"{complaint}: {kinds}"

    assert writes.by_phase["broker down"] > 0 and waiting_during_outage > 0
    elapsed = time.monotonic() - began
    print(
        f"\noutbox: {len(rows)} events ({len(writes.filed)} filed, {len(writes.acknowledged)} acknowledged, "
        f"{len(writes.resolved)} resolved); {len(records)} records on Kafka, {duplicates} duplicates; "
        f"writes by phase {dict(writes.by_phase)}; {waiting_during_outage} unpublished during the outage; "
        f"lease holders in turn: {holders}; timings {({k: round(v, 2) for k, v in timings.items()})}; "
        f"total {elapsed:.1f}s"
    )


# ---- found while writing the above ---------------------------------------------------------


async def test_a_relay_told_to_stop_while_the_broker_is_down_stops_without_waiting_for_kafka(broker, new_database):
    """Shutting the service down during a Kafka outage must not wait for Kafka to come back: what
    the relay could not publish stays unpublished in the outbox for the next relay, so there is
    nothing to wait for. A bound of a few send timeouts is generous."""
    platform = PlatformSettings(kafka_bootstrap_servers=broker.bootstrap, kafka_send_timeout_s=2.0)
    bound_s = 3 * platform.kafka_send_timeout_s + 2
    api, api_running = await _started_api(await new_database(), platform)
    relays = Relays(api.app.state.sessions, platform)
    relay = relays.start("R")
    try:
        assert (await api.file()).status_code == 201
        await eventually(lambda: _all_published(api), timeout_s=15, what="the first event published")
        await asyncio.to_thread(broker.stop)
        assert (await api.file(store="tre-koskikeskus")).status_code == 201
        committed = utc_now()

        async def relay_is_sending_it() -> bool:
            # It renewed its lease after the commit, so it read the row; or a send failed, and it
            # left the lease (expires_at None) for healthier relays.
            relays.check()
            async with api.app.state.sessions() as session:
                lease = await session.scalar(select(Lease).where(Lease.name == RELAY_LEASE))
            return lease.holder == relay.holder and (
                lease.expires_at is None or lease.expires_at - relay.lease_ttl > committed
            )

        await eventually(relay_is_sending_it, timeout_s=10, what="the relay taking the new event")
        _relay, stop, task = relays.running["R"]
        stop.set()
        done, _pending = await asyncio.wait([task], timeout=bound_s)
        stack = _stack(task) if not done else ""
        assert done, f"the relay did not stop within {bound_s}s of being told to, while the broker was down:\n{stack}"
        assert not await _all_published(api), "an event the broker never acknowledged was marked published"
    finally:
        await broker.ensure_running()
        _relay, stop, task = relays.running["R"]
        stop.set()
        await asyncio.wait([task], timeout=30)
        await relays.cancel_all()
        await api_running.aclose()


async def test_one_customer_filing_at_two_stores_at_once_gets_201_at_both(broker, new_database):
    """The same customer (same contact data) files at two stores at the same moment, for example in
    store and through the call centre. Both are valid complaints; both must be filed, under one
    customer_ref."""
    platform = PlatformSettings(kafka_bootstrap_servers=broker.bootstrap)
    api, api_running = await _started_api(await new_database(), platform)
    try:
        for attempt in range(5):
            customer = {"name": "Kaisa Mäkinen", "email": f"kaisa.{attempt}.{uuid4().hex[:8]}@example.com"}
            answers = await asyncio.gather(
                api.file(store="hel-kamppi", customer=customer),
                api.file(store="tre-koskikeskus", customer=customer),
                return_exceptions=True,
            )
            outcomes = [
                answer.status_code if not isinstance(answer, BaseException)
                else f"unhandled {type(answer).__name__} (HTTP 500 behind a server): {str(answer).splitlines()[0]}"
                for answer in answers
            ]
            assert outcomes == [201, 201], f"attempt {attempt}: {outcomes}"
            assert len({answer.json()["customer"]["customer_ref"] for answer in answers}) == 1
    finally:
        await api_running.aclose()


async def test_a_new_customer_filing_twice_and_asking_a_return_at_one_store_at_once_gets_every_answer(broker, new_database):
    """The same new customer files two complaints and asks for a return at one store at the same
    moment. Each is answered (two transactions waiting for each other would have one of them end in a
    500), and the complaint filed second counts the first among the customer's earlier complaints, as
    do two more filed at once once the customer is known."""
    platform = PlatformSettings(kafka_bootstrap_servers=broker.bootstrap)
    api, api_running = await _started_api(await new_database(), platform)
    purchased_on = (utc_now() - timedelta(days=3)).date().isoformat()
    try:
        for attempt in range(5):
            customer = {"name": "Kaisa Mäkinen", "email": f"kaisa.{attempt}.{uuid4().hex[:8]}@example.com"}
            answers = await asyncio.gather(
                api.file(customer=customer),
                api.file(customer=customer),
                api.client.post("/v1/returns", headers=api.token(Role.associate), json={
                    "store_id": "hel-kamppi", "kind": "refund", "tender": "cash", "product_category": "small-appliances",
                    "amount": {"minor_units": 1990, "currency": "EUR"}, "purchased_on": purchased_on,
                    "receipt_number": "R-1", "customer": customer,
                }),
                return_exceptions=True,
            )
            outcomes = [
                answer.status_code if not isinstance(answer, BaseException)
                else f"unhandled {type(answer).__name__} (HTTP 500 behind a server): {str(answer).splitlines()[0]}"
                for answer in answers
            ]
            assert outcomes == [201, 201, 201], f"attempt {attempt}: {outcomes}"
            filed = {answer.json()["id"] for answer in answers[:2]}
            assert sorted(event.data.prior_complaints_30d for event in await _filed_events(api, filed)) == [0, 1]
            again = await asyncio.gather(api.file(customer=customer), api.file(customer=customer))  # known now
            filed = {answer.json()["id"] for answer in again}
            assert sorted(event.data.prior_complaints_30d for event in await _filed_events(api, filed)) == [2, 3]
    finally:
        await api_running.aclose()


async def _filed_events(api: Api, complaint_ids: set[str]) -> list:
    async with api.app.state.sessions() as session:
        payloads = await session.scalars(select(OutboxEvent.payload).where(OutboxEvent.topic == COMPLAINTS.name))
        events = [decode(payload, COMPLAINTS.event_classes) for payload in payloads]
    return [event for event in events
            if event.type == "retail.complaint.filed.v1" and str(event.data.complaint_id) in complaint_ids]


async def _all_published(api: Api) -> bool:
    async with api.app.state.sessions() as session:
        waiting = await session.scalar(select(func.count()).where(OutboxEvent.published_at.is_(None)))
        total = await session.scalar(select(func.count()).select_from(OutboxEvent))
    return total > 0 and waiting == 0


def _true(condition):
    async def probe() -> bool:
        return condition()

    return probe


def _stack(task: asyncio.Task) -> str:
    out = io.StringIO()
    task.print_stack(file=out)
    return out.getvalue()


async def test_the_relay_publishes_while_the_requests_loop_is_busy(broker, new_database):
    """A service's relay runs on a loop of its own: requests that keep their loop busy do not hold up
    the publishing of what they committed. Here the requests' loop is held outright after a filing's
    201, while a thread of the test's looks on a loop of its own; the filing is published and stamped
    (in the relay's next batch, a poll later). On the requests' loop it was not, until they let go."""
    database_url = await new_database()
    platform = PlatformSettings(kafka_bootstrap_servers=broker.bootstrap)
    running = start_api(database_url, platform, relay_poll_ms=100)
    api = await anext(running)
    try:
        assert (await api.file()).status_code == 201
        with ThreadPoolExecutor(1) as looking:
            looking.submit(asyncio.run, _published_all(database_url)).result()  # holds the requests' loop
    finally:
        await running.aclose()


async def _published_all(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        async def published() -> bool:
            async with sessions(engine)() as session:
                return await session.scalar(select(func.count()).where(OutboxEvent.published_at.is_(None))) == 0

        await eventually(published, timeout_s=15, what="the filing published while the requests' loop is busy")
    finally:
        await engine.dispose()
