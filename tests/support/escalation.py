"""The escalation service as operators run it — the worker and the boards API as their own
processes on the real broker — and what tests send it: rosters and the ticks of its clock (the
worker runs with ESCALATION_TICK_SECONDS=0, so only the ticks a test sends move it)."""

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from kafka.admin import KafkaAdminClient
from kafka.errors import KafkaError
from kafka.structs import TopicPartition

from services.escalation.events import Tick
from services.escalation.topics import CLOCK, INTERNAL_TOPICS
from services.shared.auth import mint_token
from services.shared.events.envelope import encode, wrap
from services.shared.events.roster import RosterPublished
from services.shared.kafka import ensure_topics, make_producer, publish
from services.shared.principal import Role
from services.shared.topics import ALL_TOPICS, ROSTER
from tests.support import ServiceProcess, eventually, read_topic
from tests.support.infra import free_port


@dataclass
class Worker:
    platform: object
    data_dir: str
    env: dict[str, str] = field(default_factory=dict)
    process: ServiceProcess | None = None
    port: int = field(default_factory=free_port)

    def start(self) -> ServiceProcess:
        self.process = ServiceProcess("services.escalation", {
            "RETAIL_KAFKA_BOOTSTRAP_SERVERS": self.platform.kafka_bootstrap_servers,
            "ESCALATION_DATA_DIR": self.data_dir, "ESCALATION_TICK_SECONDS": "0",
            "ESCALATION_INSTANCE_ID": "escalation-test", "ESCALATION_WORKER_PORT": str(self.port), **self.env,
        })
        return self.process

    async def get(self, path: str, role: Role | None = None) -> httpx.Response | None:
        """The worker's own HTTP endpoint; None while it does not answer yet."""
        headers = {}
        if role is not None:
            token = mint_token(self.platform, sub="ops-0001", role=role, now=datetime.now(UTC), ttl=timedelta(hours=1))
            headers["Authorization"] = f"Bearer {token}"
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{self.port}") as client:
                return await client.get(path, headers=headers)
        except httpx.TransportError:
            return None

    def kill(self) -> None:
        """Ends the worker at once, without a clean shutdown."""
        self.process.process.kill()
        self.process.process.wait()

    def logs(self) -> str:
        return self.process.logs()

    def last_words(self, lines: int = 40) -> str:
        return self.process.last_words(lines)

    async def has_read(self, *topics) -> bool:
        """True once the worker has committed offsets up to the end of every partition of the topics."""
        assert self.process.process.poll() is None, self.logs()
        return await worker_has_read(self.platform, *topics)


async def worker_has_read(platform, *topics, group: str = "escalation") -> bool:
    """True once consumer group `group` has committed offsets up to the end of every partition of the topics."""
    admin = KafkaAdminClient(bootstrap_servers=platform.kafka_bootstrap_servers)
    try:
        committed = admin.list_group_offsets(group)[group]
        ends = admin.list_partition_offsets(
            {TopicPartition(topic.name, p): -1 for topic in topics for p in range(topic.partitions)}
        )
    except KafkaError:  # the group has no coordinator until the worker has joined it
        return False
    finally:
        admin.close()
    return all(committed.get(tp) is not None and committed[tp].offset >= end.offset
               for tp, end in ends.items() if end.offset > 0)


async def running_worker(platform, data_dir: Path, **settings: str) -> AsyncIterator[Worker]:
    """The worker as its own process, with `settings` as its ESCALATION_ variables (its clock stopped
    unless `tick_seconds` is given), for as long as the caller iterates."""
    ensure_topics(platform, ALL_TOPICS + INTERNAL_TOPICS)
    running = Worker(platform, str(data_dir), {f"ESCALATION_{name.upper()}": value for name, value in settings.items()})
    running.start()
    try:
        yield running
    finally:
        running.process.stop()


@dataclass
class BoardsApi:
    url: str
    platform: object
    process: ServiceProcess

    def token(self, role: Role, region: str | None, sub: str = "rc-0001") -> str:
        claims = {"region_id": region} if region else {}
        return mint_token(self.platform, sub=sub, role=role, now=datetime.now(UTC), ttl=timedelta(hours=1), **claims)

    def headers(self, role: Role = Role.regional_coordinator, region: str | None = "uusimaa", sub: str = "rc-0001") -> dict:
        return {"Authorization": f"Bearer {self.token(role, region, sub)}"}

    async def board(self, region: str, role: Role = Role.regional_coordinator) -> httpx.Response:
        async with httpx.AsyncClient(base_url=self.url) as client:
            return await client.get(f"/regions/{region}/board", headers=self.headers(role, region if role != Role.senior_manager else None))

    async def post(self, path: str, body: dict, headers: dict) -> httpx.Response:
        async with httpx.AsyncClient(base_url=self.url) as client:
            return await client.post(path, json=body, headers=headers)


async def running_boards(platform, worker: Worker, database_url: str, **settings: str) -> AsyncIterator[BoardsApi]:
    """The boards API as its own process on its read model's database, with `settings` as its ESCALATION_
    variables, once it is ready, for as long as the caller iterates."""
    port = free_port()
    process = ServiceProcess("services.escalation.boards", {
        "RETAIL_KAFKA_BOOTSTRAP_SERVERS": platform.kafka_bootstrap_servers, "ESCALATION_PORT": str(port),
        "ESCALATION_BOARDS_DATABASE_URL": database_url,
        **{f"ESCALATION_{name.upper()}": value for name, value in settings.items()},
    })
    running = BoardsApi(f"http://127.0.0.1:{port}", platform, process)

    async def ready() -> bool:
        assert process.process.poll() is None, process.logs()
        try:
            async with httpx.AsyncClient(base_url=running.url) as client:
                return (await client.get("/readyz")).status_code == 200
        except httpx.TransportError:
            return False

    try:  # stopped however the caller leaves: at the end, on a failure, or by closing the generator early
        try:
            await eventually(ready, timeout_s=60, what="the boards API to be ready")
        except AssertionError as error:
            raise AssertionError(f"{error}\nboards:\n{process.logs()}\nworker:\n{worker.logs()}") from None
        yield running
    finally:
        process.stop()


async def publish_roster(platform, store: str, region: str, on_duty: list[tuple[str, str]]) -> None:
    now = datetime.now(UTC)
    roster = RosterPublished(
        store_id=store, region_id=region, valid_from=now - timedelta(hours=1),
        on_duty=[
            {"staff_id": staff, "role": role, "starts_at": now - timedelta(hours=1), "ends_at": now + timedelta(hours=8)}
            for staff, role in on_duty
        ],
    )
    producer = make_producer(platform, client_id="test-roster")
    await producer.start()
    try:
        await publish(producer, ROSTER, [wrap(roster, source="/tests", time=now)], platform)
    finally:
        await producer.stop()


async def tick(platform, now: datetime) -> None:
    """Moves the worker's clock to `now`, on every partition."""
    producer = make_producer(platform, client_id="test-clock")
    await producer.start()
    try:
        for partition in range(CLOCK.partitions):
            envelope = wrap(Tick(partition=partition, now=now), source="/tests", time=now)
            await producer.send_and_wait(CLOCK.name, encode(envelope), partition=partition)
    finally:
        await producer.stop()


async def worker_knows_roster(worker: Worker, kafka_bootstrap: str, store_id: str, on_duty: set[str]) -> None:
    """Waits for the store's latest roster on the topic to be exactly `on_duty`, then for the worker
    to have read it."""
    def latest_is_expected(found: list) -> bool:
        mine = [envelope.data for envelope in found if envelope.data.store_id == store_id]
        return bool(mine) and {person.staff_id for person in mine[-1].on_duty} == on_duty

    await read_topic(kafka_bootstrap, ROSTER, latest_is_expected, timeout_s=60)
    try:
        await eventually(lambda: worker.has_read(ROSTER), timeout_s=120, what="the worker to read the roster")
    except AssertionError as error:
        raise AssertionError(f"{error}\nworker:\n{worker.last_words()}") from None
