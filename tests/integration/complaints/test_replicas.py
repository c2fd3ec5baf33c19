"""Two replicas of the complaints API behind one address, on one PostgreSQL database and the real
broker, as a cluster runs them: staff keep filing through the address while one replica and then the
other is killed with kill -9 (the first started again in between). A filing cut off by a kill is sent
again with its idempotency key, as clients do, and lands on the surviving replica. Every complaint
answered 201 is kept once and published once on Kafka, and the outbox relay's lease moves to a
surviving replica when its holder dies."""

import asyncio
from collections import defaultdict
from uuid import uuid4

import httpx
import pytest
from sqlalchemy import select

from services.complaints.store.models import Lease
from services.shared.db import make_engine, sessions
from services.shared.events.complaints import ComplaintFiled
from services.shared.kafka import ensure_topics
from services.shared.outbox import RELAY_LEASE
from services.shared.principal import Role
from services.shared.topics import ALL_TOPICS, COMPLAINTS
from tests.support import eventually, read_all, ready_process
from tests.support.balancer import balancing
from tests.support.complaints import Api, add_stores, service_env
from tests.support.infra import free_port, own_platform

RUN = uuid4().hex[:8]
REGION = f"replicas-{RUN}"
STORES = [f"replicas-{RUN}-{n}" for n in range(4)]
FILERS = 4  # staff filing at once
EACH_PHASE = 25  # complaints answered 201 before the next kill or start


class Replica:
    def __init__(self, database_url: str, platform) -> None:
        self.port, self.process = free_port(), None
        self.env = service_env(database_url, platform, self.port, relay_lease_s="3")

    async def start(self) -> None:
        self.process = await ready_process("services.complaints", self.env, f"http://127.0.0.1:{self.port}")

    def kill(self) -> None:
        self.process.process.kill()
        self.process.process.wait()


class Filers:
    """Staff filing complaints through the one address until stopped, each filing retried with its
    idempotency key until it is answered."""

    def __init__(self, api: Api) -> None:
        self.api, self.accepted, self.retries, self.stopping = api, {}, 0, asyncio.Event()

    async def file(self, n: int) -> None:
        while not self.stopping.is_set():
            key, store = str(uuid4()), STORES[len(self.accepted) % len(STORES)]
            for _ in range(20):
                try:
                    response = await self.api.file(store=store, headers={"Idempotency-Key": key}, description=f"Filer {n}.")
                    break
                except httpx.TransportError:  # the replica died under the request or its connection
                    self.retries += 1
            assert response.status_code == 201, response.text
            self.accepted[key] = response.json()["id"]

    async def until(self, count: int) -> None:
        target = len(self.accepted) + count

        async def enough() -> bool:
            return len(self.accepted) >= target

        await eventually(enough, timeout_s=90, what=f"{count} more complaints answered 201")


@pytest.fixture(scope="module")
def platform(infra_dir):
    """A broker of the module's own: the hundreds of complaints filed here would otherwise be routed by
    every later escalation worker of the session's broker, and their assignments slow later tests."""
    with own_platform(infra_dir / "kafka-complaints-replicas") as platform:
        yield platform


@pytest.fixture
async def replicas(new_database, platform):
    ensure_topics(platform, ALL_TOPICS)
    database_url = await new_database()
    both = [Replica(database_url, platform), Replica(database_url, platform)]
    try:
        for replica in both:  # one after the other: the first brings the schema up to date
            await replica.start()
        yield both
    finally:
        for replica in both:
            if replica.process:
                replica.process.stop()


async def test_filing_through_one_address_goes_on_while_replicas_are_killed_and_loses_nothing(replicas, platform):
    first, second = replicas
    holders: list[str] = []
    engine = make_engine(first.env["COMPLAINTS_DATABASE_URL"])

    async def watch_the_lease() -> None:
        while True:
            async with sessions(engine)() as session:
                holder = await session.scalar(select(Lease.holder).where(Lease.name == RELAY_LEASE))
            if holder and holder not in holders[-1:]:
                holders.append(holder)
            await asyncio.sleep(0.1)  # a sampling interval, not a synchronisation

    async with balancing([first.port, second.port]) as url, httpx.AsyncClient(base_url=url, timeout=30) as client:
        api = Api(client, platform, None, stores={})
        await add_stores(api, REGION, STORES)
        filers = Filers(api)
        watcher = asyncio.create_task(watch_the_lease())
        tasks = [asyncio.create_task(filers.file(n)) for n in range(FILERS)]
        try:
            await filers.until(EACH_PHASE)
            first.kill()  # the relay's holder: the first replica took the lease as it started
            await filers.until(EACH_PHASE)
            await published(platform, set(filers.accepted.values()))  # by the second's relay, once the lease ran out
            await first.start()
            await filers.until(EACH_PHASE)
            second.kill()
            await filers.until(EACH_PHASE)
        finally:
            filers.stopping.set()
            await asyncio.gather(*tasks)
            watcher.cancel()
            await engine.dispose()

        # Each filing is one complaint, however often it was sent: the stores list exactly those.
        listed = set()
        for store in STORES:
            cursor = None
            while True:
                response = await client.get("/v1/complaints", params={"store_id": store, "limit": 200, **(
                    {"cursor": cursor} if cursor else {})}, headers=api.token(Role.store_manager, store, region=REGION))
                assert response.status_code == 200, response.text
                listed |= {complaint["id"] for complaint in response.json()["items"]}
                if not (cursor := response.json()["next_cursor"]):
                    break
    accepted = set(filers.accepted.values())
    assert len(accepted) == len(filers.accepted) and listed == accepted

    # Each is published once: one event id for each complaint (a relay taking over may send a row again
    # under the same id, which consumers drop), and every one arrives.
    events = await published(platform, accepted)
    assert set(events) == accepted
    assert {complaint: ids for complaint, ids in events.items() if len(ids) > 1} == {}
    assert len(set(holders)) >= 2, f"the relay's lease never moved: {holders}"


async def published(platform, complaints: set[str]) -> dict[str, set]:
    """The event ids of the stores' filed complaints on Kafka, by complaint, once `complaints` are all there."""
    async def all_there() -> dict:
        found = defaultdict(set)
        for envelope in await read_all(platform.kafka_bootstrap_servers, COMPLAINTS):
            if isinstance(envelope.data, ComplaintFiled) and envelope.data.store_id in STORES:
                found[str(envelope.data.complaint_id)].add(envelope.id)
        return found if complaints <= set(found) else {}

    return await eventually(all_there, timeout_s=60, what="every complaint answered 201 on Kafka")
