"""Replicas of a worker sharing one consumer group, as operators run them (each its own process,
data directory and instance id): stores whose records land on every partition, which partitions of a
topic each member of the group is given (read from the broker), and the replicas started, killed and
added by name."""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

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
from tests.support import ServiceProcess, eventually
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
