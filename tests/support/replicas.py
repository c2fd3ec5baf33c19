"""Replicas of a worker sharing one consumer group, as operators run them (each its own process,
data directory and instance id): stores whose records land on every partition, which partitions of a
topic each member of the group is given (read from the broker), and the replicas started, killed and
added by name. Replicas of an API behind one address: each replica, the staff writing through the
address, and who held the outbox relay's lease."""

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
from aiokafka.partitioner import murmur2
from kafka.admin import KafkaAdminClient
from kafka.errors import KafkaError

from services.analytics.topics import CHANGELOGS as ANALYTICS_CHANGELOGS
from services.escalation.topics import INTERNAL_TOPICS as ESCALATION_TOPICS
from services.shared.events.complaints import ComplaintFiled
from services.shared.events.envelope import Envelope, wrap
from services.shared.kafka import ensure_topics
from services.shared.settings import PlatformSettings
from services.shared.topics import ALL_TOPICS, COMPLAINTS, Topic
from tests.support import ServiceProcess, eventually, ready_process
from tests.support.builders import example
from tests.support.infra import free_port, kafka_broker

# faust's members describe themselves in a format of its own, which kafka-python warns about (at length)
# before it decodes their assignments, which are Kafka's.
logging.getLogger("kafka.admin._groups").setLevel(logging.ERROR)


def partition_of(key: str, topic: Topic) -> int:
    """The partition the producers' default partitioner puts the key on (Kafka's murmur2)."""
    return (murmur2(key.encode()) & 0x7FFFFFFF) % topic.partitions


def stores_on_every_partition(topic: Topic, region: str, per_partition: int) -> list[str]:
    """Store ids of the region whose records fill every partition of the store-keyed topic, `per_partition` each."""
    stores: dict[int, list[str]] = {p: [] for p in range(topic.partitions)}
    n = 0
    while any(len(found) < per_partition for found in stores.values()):
        n += 1
        store = f"{region}-{n}"
        if len(found := stores[partition_of(store, topic)]) < per_partition:
            found.append(store)
    return sorted(store for found in stores.values() for store in found)


def assignments(bootstrap: str, group: str, topic: Topic) -> list[set[int]] | None:
    """The partitions of the topic given to each member of the group, once the group is stable; None
    while it is rebalancing or cannot be described."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="test-replicas")
    try:
        described = admin.describe_groups([group])[group]
    except KafkaError:
        return None
    finally:
        admin.close()
    if described["group_state"] != "Stable":
        return None
    return [{p for given in member["member_assignment"]["assigned_partitions"] if given["topic"] == topic.name
             for p in given["partitions"]} for member in described["members"]]


def spread(given: list[set[int]] | None, members: int, topic: Topic) -> bool:
    """True when `members` replicas each have some of the topic's partitions, and each partition is one's."""
    return (given is not None and len(given) == members and all(given)
            and sum(map(len, given)) == topic.partitions and set().union(*given) == set(range(topic.partitions)))


# -- replicas as operators run them ----------------------------------------------------------------------

REGIONS = ("scale-north", "scale-south")
BATCH = 240  # complaints per phase of a run: ten on each store
REPLICA = {"RETAIL_KAFKA_SESSION_TIMEOUT_S": "10"}  # a replica killed for good gives its partitions up after this long
READY_S = 120.0


@contextmanager
def scale_out_broker(directory: Path) -> Iterator[PlatformSettings]:
    """A broker of the caller's own, with every topic of the stream workers created."""
    with kafka_broker(directory) as bootstrap:
        platform = PlatformSettings(kafka_bootstrap_servers=bootstrap)
        ensure_topics(platform, [*ALL_TOPICS, *ESCALATION_TOPICS, *ANALYTICS_CHANGELOGS.values()])
        yield platform


def complaints(count: int) -> list[Envelope]:
    """New complaints spread evenly over a store on each partition in each region; every fourth critical
    (which pages at once)."""
    stores = [(store, region) for region in REGIONS for store in stores_on_every_partition(COMPLAINTS, region, 1)]
    now, envelopes = datetime.now(UTC), []
    for n in range(count):
        store, region = stores[n % len(stores)]
        event = example(ComplaintFiled, complaint_id=uuid4(), store_id=store, region_id=region, filed_at=now,
                        severity="critical" if n % 4 == 0 else "medium")
        envelopes.append(wrap(event, source="/tests", time=now, subject=str(event.complaint_id)))
    return envelopes


class GroupWorker:
    """One replica of a worker that consumes in a plain consumer group and keeps its state in a database
    (`python -m <module>`, its settings under `prefix`), for `Replicas`; it keeps no local state."""

    def __init__(self, module: str, prefix: str, database_url: str, platform: PlatformSettings,
                 env: dict[str, str]) -> None:
        self.module, self.process = module, None
        self.env = {f"{prefix}_DATABASE_URL": database_url, f"{prefix}_WORKER_PORT": str(free_port()),
                    "RETAIL_KAFKA_BOOTSTRAP_SERVERS": platform.kafka_bootstrap_servers, **env}

    def start(self) -> None:
        self.process = ServiceProcess(self.module, self.env)

    def kill(self) -> None:
        self.process.process.kill()
        self.process.process.wait()

    def last_words(self, lines: int = 40) -> str:
        return self.process.last_words(lines)


class Replicas:
    """The live replicas of one worker by name, each with its own data directory and instance id.
    `start` makes a replica of the worker (a tests.support Worker or Analytics, or a GroupWorker)."""

    def __init__(self, group: str, start: Callable[[str, dict[str, str]], Any], directory: Path) -> None:
        self.group, self._start, self.directory = group, start, directory
        self.live: dict[str, Any] = {}

    def add(self, name: str) -> None:
        instance = {f"{self.group.upper()}_INSTANCE_ID": f"{self.group}-{name}"}
        replica = self._start(str(self.directory / f"{self.group}-{name}"), {**REPLICA, **instance})
        replica.start()
        self.live[name] = replica

    def kill(self, name: str) -> None:
        self.live.pop(name).kill()

    async def started(self, platform: PlatformSettings, topic: Topic, *names: str) -> None:
        """Starts the named replicas, and waits until the live ones share the topic's partitions."""
        for name in names:
            self.add(name)
        await self.until(lambda: self.spread(platform, topic), f"{len(self.live)} replicas to share the partitions")

    async def killed_while(self, name: str, platform: PlatformSettings, topic: Topic, publishing: Coroutine) -> None:
        """Kills the replica while `publishing` runs, and waits until the others have its partitions."""
        arriving = asyncio.create_task(publishing)
        self.kill(name)
        await arriving
        await self.until(lambda: self.spread(platform, topic), f"the other replicas to take {name}'s partitions")

    async def spread(self, platform: PlatformSettings, topic: Topic) -> bool:
        """The live replicas share the topic's partitions, none held twice or by none."""
        for replica in self.live.values():
            assert replica.process.process.poll() is None, replica.last_words()
        given = await asyncio.to_thread(assignments, platform.kafka_bootstrap_servers, self.group, topic)
        return spread(given, len(self.live), topic)

    async def until(self, probe: Callable[[], Awaitable[Any]], what: str,
                    detail: Callable[[], Awaitable[str]] | None = None) -> None:
        """`eventually`, failing with `detail()`, the end of every live replica's log and where the whole logs are."""
        try:
            await eventually(probe, timeout_s=READY_S, what=what)
        except AssertionError as error:
            message = [f"{error}{': ' + await detail() if detail else ''} (whole logs in {self.directory})"]
            for name, replica in self.live.items():
                (self.directory / f"{self.group}-{name}.log").write_text(replica.process.logs())
                message.append(f"--- {self.group} {name}\n{replica.last_words()}")
            raise AssertionError("\n".join(message)) from None

    def stop(self) -> None:
        for replica in self.live.values():
            replica.process.stop()


class ApiReplica:
    """One replica of an HTTP service (`python -m <module>`) on a port of its own, with `env_of(port)` as
    its environment; started, and killed with kill -9, by the test."""

    def __init__(self, module: str, env_of: Callable[[int], dict[str, str]]) -> None:
        self.module, self.port, self.process = module, free_port(), None
        self.env = env_of(self.port)

    async def start(self) -> None:
        self.process = await ready_process(self.module, self.env, f"http://127.0.0.1:{self.port}")

    def kill(self) -> None:
        self.process.process.kill()
        self.process.process.wait()

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()


@asynccontextmanager
async def api_replicas(module: str, service_env: Callable[..., dict[str, str]], database_url: str,
                       platform: PlatformSettings, count: int = 2, **settings: str) -> AsyncIterator[list[ApiReplica]]:
    """`count` replicas of the service on one database, each with `service_env(database_url, platform, port,
    **settings)`, started one after the other (the first brings the schema up to date), stopped at the end."""
    replicas = [ApiReplica(module, lambda port: service_env(database_url, platform, port, **settings)) for _ in range(count)]
    try:
        for replica in replicas:
            await replica.start()
        yield replicas
    finally:
        for replica in replicas:
            replica.stop()


async def killed_in_turn(replicas: list[ApiReplica], writers: "Writers", each_phase: int,
                         after_first: Callable[[], Awaitable[Any]]) -> None:
    """Writes go on through the replicas' one address while the first replica (the relay's holder: it took
    the lease as it started) is killed, `after_first()` checks the survivor took over, the first starts
    again, and the second is killed; `each_phase` writes are answered between those steps."""
    first, second = replicas
    writers.start()
    try:
        await writers.until(each_phase)
        first.kill()
        await writers.until(each_phase)
        await after_first()
        await first.start()
        await writers.until(each_phase)
        second.kill()
        await writers.until(each_phase)
    finally:
        await writers.stop()


class Writers:
    """Staff writing through one address, each write sent again with its idempotency key until it is
    answered, as clients do when a replica dies under their request. `write(key, writer)` makes one
    write and returns the id it was answered with. They write what `until` allows and a write each
    beyond it, so that when it returns some writes are still on their way (a kill then cuts them off)."""

    def __init__(self, write: Callable[[str, int], Awaitable[str]], count: int = 4) -> None:
        self.write, self.count = write, count
        self.accepted: dict[str, str] = {}  # idempotency key → id answered
        self.retries, self.begun, self.allowed, self.target, self.stopping = 0, 0, count, 0, False
        self._turn, self.tasks = asyncio.Condition(), []

    def start(self) -> None:
        self.tasks = [asyncio.create_task(self._writing(n)) for n in range(self.count)]

    async def stop(self) -> None:
        async with self._turn:
            self.stopping = True
            self._turn.notify_all()
        await asyncio.gather(*self.tasks)

    async def _writing(self, writer: int) -> None:
        while True:
            async with self._turn:
                await self._turn.wait_for(lambda: self.stopping or self.begun < self.allowed)
                if self.stopping:
                    return
                self.begun += 1
            key = str(uuid4())
            for _ in range(20):
                try:
                    self.accepted[key] = await self.write(key, writer)
                    break
                except httpx.TransportError:  # the replica died under the request or its connection
                    self.retries += 1
            else:
                raise AssertionError(f"writer {writer}: no replica answered 20 times")

    async def until(self, count: int) -> None:
        """Until `count` more writes are answered."""
        async with self._turn:
            self.allowed += count
            self.target += count
            self._turn.notify_all()

        async def enough() -> bool:
            for task in self.tasks:
                if task.done():
                    task.result()  # a writer's failure, now
            return len(self.accepted) >= self.target

        await eventually(enough, timeout_s=90, what=f"{count} more writes answered")


@asynccontextmanager
async def lease_holders(database_url: str, lease_model) -> AsyncIterator[list[str]]:
    """The holders of the outbox relay's lease in the order they held it, sampled while the caller runs."""
    from sqlalchemy import select

    from services.shared.db import make_engine, sessions
    from services.shared.outbox import RELAY_LEASE

    engine, holders = make_engine(database_url), []

    async def watch() -> None:
        while True:
            async with sessions(engine)() as session:
                holder = await session.scalar(select(lease_model.holder).where(lease_model.name == RELAY_LEASE))
            if holder and holder not in holders[-1:]:
                holders.append(holder)
            await asyncio.sleep(0.1)  # a sampling interval, not a synchronisation

    watcher = asyncio.create_task(watch())
    try:
        yield holders
    finally:
        watcher.cancel()
        await engine.dispose()
