"""The fault suite's machinery: the platform's processes on ports of their own, a till that files and
works complaints through the public API (retrying with the same Idempotency-Key, as a real till
does), SIGKILLs of every process, of the broker and of partition leaders, poison records, and the
checks that afterwards nothing was lost and no effect happened twice, with the figures of the run."""

import asyncio
import contextlib
import json
import os
import random
import signal
import subprocess
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import httpx
import orjson
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from kafka.admin import KafkaAdminClient
from kafka.errors import KafkaError as AdminError
from kafka.structs import TopicPartition
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from services.analytics.topics import CHANGELOGS as ANALYTICS_CHANGELOGS
from services.complaints.service.escalations import TOPICS as COMPLAINTS_WORKER_INPUTS
from services.complaints.store.outbox import OUTBOX as COMPLAINTS_OUTBOX
from services.complaints.worker import GROUP as COMPLAINTS_WORKER_GROUP
from services.escalation.events import Tick
from services.escalation.topics import CASES_CHANGELOG, CLOCK, INTERNAL_TOPICS
from services.notifications.service.sender import CONSUMER as NOTIFICATIONS_GROUP
from services.notifications.service.sender import TOPICS as NOTIFICATIONS_INPUTS
from services.notifications.store.outbox import OUTBOX as NOTIFICATIONS_OUTBOX
from services.scheduling.service.intake import TOPICS as SCHEDULING_WORKER_INPUTS
from services.scheduling.store.outbox import OUTBOX as SCHEDULING_OUTBOX
from services.scheduling.worker import GROUP as SCHEDULING_WORKER_GROUP
from services.shared.auth import mint_token
from services.shared.db import make_engine
from services.shared.events.envelope import InvalidEvent, decode, encode, wrap
from services.shared.kafka import ensure_topics, make_producer, send_all, stop_producer
from services.shared.principal import Role
from services.shared.settings import PlatformSettings
from services.shared.topics import ALL_TOPICS, COMPLAINTS, ESCALATIONS, RETURNS, Topic
from tests.support import ServiceProcess, eventually, read_records
from tests.support.builders import filed
from tests.support.infra import free_port, script

REGIONS = {"faults-east": ["flt-east-1", "flt-east-2", "flt-east-3"], "faults-west": ["flt-west-1", "flt-west-2"]}
STORES = {store: region for region, stores in REGIONS.items() for store in stores}
# Each consumer group of the platform and the topics it reads.
GROUP_INPUTS = {
    "escalation": (COMPLAINTS, RETURNS, CLOCK), "analytics": (COMPLAINTS, ESCALATIONS, RETURNS),
    SCHEDULING_WORKER_GROUP: SCHEDULING_WORKER_INPUTS, COMPLAINTS_WORKER_GROUP: COMPLAINTS_WORKER_INPUTS,
    NOTIFICATIONS_GROUP: NOTIFICATIONS_INPUTS,
}
POISONED = (COMPLAINTS, ESCALATIONS)  # the topics poison records are offered on
# The consumer groups that read each of them, and so must each dead-letter a poison record offered on it.
READERS = {topic.name: tuple(group for group, inputs in GROUP_INPUTS.items() if topic in inputs) for topic in POISONED}
DLQS = {topic.name: topic.dlq for topic in POISONED}
DATABASES = ("complaints", "scheduling", "notifications", "boards")  # the services with a database, each its own
OUTBOXES = {"complaints": COMPLAINTS_OUTBOX, "scheduling": SCHEDULING_OUTBOX, "notifications": NOTIFICATIONS_OUTBOX}
READY_S = 120.0  # how long a process (or a broker) may take to be ready again after a kill
SETTLE_S = 180.0  # how long the platform may take to catch up once the load and the faults stop


@dataclass
class Plan:
    """What a run does: its load and its faults."""

    kills: int = 3  # per process
    broker_kills: int = 2
    leader_kills: int = 5
    rate: float = 4.0  # complaints filed per second
    pause_s: float = 2.0  # between two faults, while the load goes on
    clock_step_s: float = 60.0  # how far the escalation worker's clock moves per second, so SLA deadlines pass
    poison: tuple[str, ...] = ("malformed_json", "schema_invalid", "oversized", "far_future")
    processes: tuple[str, ...] = ()  # the processes to kill; all when empty
    seed: int = 11

    @classmethod
    def from_env(cls, **defaults) -> "Plan":
        """The plan with RETAIL_FAULTS_KILLS, _BROKER_KILLS, _LEADER_KILLS, _RATE, _PAUSE_S, _CLOCK_STEP_S,
        _POISON and _PROCESSES (comma-separated) and _SEED taken from the environment where set."""
        plan = cls(**defaults)
        for name, default in asdict(plan).items():
            value = os.environ.get(f"RETAIL_FAULTS_{name.upper()}")
            if value is not None:
                listed = isinstance(default, tuple)
                setattr(plan, name, tuple(v for v in value.split(",") if v) if listed else type(default)(value))
        return plan


# -- the platform's processes ---------------------------------------------------------------------------


@dataclass
class Service:
    """One of the platform's processes, on a port of its own that stays the same across restarts."""

    name: str
    module: str
    port_variable: str
    env: dict[str, str]
    port: int = field(default_factory=free_port)
    runs: list[ServiceProcess] = field(default_factory=list)
    kills: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.runs.append(ServiceProcess(self.module, {**self.env, self.port_variable: str(self.port)}))

    def kill(self) -> None:
        process = self.runs[-1].process
        process.send_signal(signal.SIGKILL)
        process.wait()
        self.kills += 1

    def stop(self) -> None:
        self.runs[-1].stop()

    async def ready(self) -> bool:
        assert self.runs[-1].process.poll() is None, f"{self.name} exited:\n{self.last_words()}"
        try:
            async with httpx.AsyncClient(base_url=self.url, timeout=5) as client:
                return (await client.get("/readyz")).status_code == 200
        except httpx.TransportError:
            return False

    def last_words(self, lines: int = 60) -> str:
        return self.runs[-1].last_words(lines)


def platform_services(platform: PlatformSettings, databases: Mapping[str, str], data_dir: Path) -> list[Service]:
    """Every process of the platform, as operators run them (deploy/local/run.sh): each service with
    a database on one of its own (`databases`, by the names in DATABASES), its worker on the same.
    No mail server listens: e-mail (pages, CSAT surveys) goes to a closed port and is tried again
    later, as when the relay is down."""
    common = {
        "RETAIL_KAFKA_BOOTSTRAP_SERVERS": platform.kafka_bootstrap_servers,
        "RETAIL_KAFKA_REPLICATION_FACTOR": str(platform.kafka_replication_factor),
    }
    no_mail = str(free_port())
    complaints_store = {"COMPLAINTS_DATABASE_URL": databases["complaints"], "COMPLAINTS_SMTP_PORT": no_mail}
    scheduling_store = {"SCHEDULING_DATABASE_URL": databases["scheduling"]}
    # Short leases: a killed relay's successor takes over sooner (the default is 15 s).
    complaints = Service("complaints", "services.complaints", "COMPLAINTS_PORT",
                         {**common, **complaints_store, "COMPLAINTS_RELAY_LEASE_S": "5"})
    scheduling = Service("scheduling", "services.scheduling", "SCHEDULING_PORT",
                         {**common, **scheduling_store, "SCHEDULING_RELAY_LEASE_S": "5"})
    notifications_port = free_port()
    notifications = Service("notifications", "services.notifications", "NOTIFICATIONS_PORT", {
        **common, "NOTIFICATIONS_DATABASE_URL": databases["notifications"], "NOTIFICATIONS_RELAY_LEASE_S": "5",
        "NOTIFICATIONS_SCHEDULING_URL": scheduling.url, "NOTIFICATIONS_COMPLAINTS_URL": complaints.url,
        "NOTIFICATIONS_PUBLIC_URL": f"http://127.0.0.1:{notifications_port}", "NOTIFICATIONS_SMTP_PORT": no_mail,
    }, port=notifications_port)
    return [
        complaints,
        Service("complaints-worker", "services.complaints.worker", "COMPLAINTS_WORKER_PORT", {**common, **complaints_store}),
        Service("escalation", "services.escalation", "ESCALATION_WORKER_PORT", {
            **common, "ESCALATION_DATA_DIR": str(data_dir / "escalation"), "ESCALATION_TICK_SECONDS": "0",
            "ESCALATION_INSTANCE_ID": "escalation-faults",
        }),
        Service("boards", "services.escalation.boards", "ESCALATION_PORT",
                {**common, "ESCALATION_BOARDS_DATABASE_URL": databases["boards"]}),
        Service("analytics", "services.analytics", "ANALYTICS_PORT", {
            **common, "ANALYTICS_DATA_DIR": str(data_dir / "analytics"), "ANALYTICS_INSTANCE_ID": "analytics-faults",
        }),
        Service("reports", "services.analytics.reports", "ANALYTICS_REPORTS_PORT", common),
        scheduling,
        Service("scheduling-worker", "services.scheduling.worker", "SCHEDULING_WORKER_PORT", {**common, **scheduling_store}),
        notifications,
    ]


# -- Kafka nodes ---------------------------------------------------------------------------------------


class Node:
    """A Kafka node started by deploy/local/kafka.sh, killed with SIGKILL and started again with the
    very command line, environment and directory it ran with (its pid file follows, so kafka.sh
    stops it as usual)."""

    def __init__(self, directory: Path, node_id: int) -> None:
        self.directory, self.node_id = directory, node_id
        self._process: subprocess.Popen | None = None

    @property
    def pid_file(self) -> Path:
        return self.directory / f"node-{self.node_id}.pid"

    def kill(self) -> tuple[list[str], dict[str, str], str]:
        pid = int(self.pid_file.read_text())
        proc = Path(f"/proc/{pid}")
        command = (proc / "cmdline").read_bytes().decode().split("\0")[:-1]
        environ = dict(entry.split("=", 1) for entry in (proc / "environ").read_bytes().decode().split("\0") if "=" in entry)
        directory = os.readlink(proc / "cwd")
        os.kill(pid, signal.SIGKILL)
        if self._process is not None:
            self._process.wait()
        return command, environ, directory

    async def gone(self) -> bool:
        pid = int(self.pid_file.read_text())
        try:
            return b"kafka.Kafka" not in Path(f"/proc/{pid}/cmdline").read_bytes()
        except FileNotFoundError:
            return True

    async def restart(self, command: list[str], environ: dict[str, str], directory: str) -> None:
        await eventually(self.gone, timeout_s=30, what=f"Kafka node {self.node_id} to exit")
        log = self.directory / f"node-{self.node_id}" / "server.log"
        offset = log.stat().st_size if log.exists() else 0
        with open(self.directory / f"node-{self.node_id}.log", "ab") as output:
            self._process = subprocess.Popen(command, env=environ, cwd=directory, stdin=subprocess.DEVNULL,
                                             stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
        self.pid_file.write_text(f"{self._process.pid}\n")

        async def started() -> bool:
            assert self._process.poll() is None, f"Kafka node {self.node_id} exited; see {self.directory}"
            with open(log, "rb") as lines:
                lines.seek(offset)
                return b"Kafka Server started" in lines.read()

        await eventually(started, timeout_s=READY_S, what=f"Kafka node {self.node_id} to start again")


def leader_of(platform: PlatformSettings, topic: str, partition: int) -> int:
    admin = KafkaAdminClient(bootstrap_servers=platform.kafka_bootstrap_servers, client_id="faults-admin")
    try:
        (described,) = admin.describe_topics([topic])
    finally:
        admin.close()
    return next(p["leader_id"] for p in described["partitions"] if p["partition_index"] == partition)


async def all_in_sync(platform: PlatformSettings, topics: list[str]) -> bool:
    """True when every replica of every partition of the topics is in sync again."""
    admin = KafkaAdminClient(bootstrap_servers=platform.kafka_bootstrap_servers, client_id="faults-admin")
    try:
        described = admin.describe_topics(topics)
    except AdminError:
        return False
    finally:
        admin.close()
    return all(p["leader_id"] >= 0 and set(p["isr_nodes"]) == set(p["replica_nodes"]) for t in described for p in t["partitions"])


# -- the platform ---------------------------------------------------------------------------------------


@dataclass
class Platform:
    settings: PlatformSettings
    services: list[Service]
    nodes: list[Node]
    databases: Mapping[str, str]  # by service, as DATABASES names them

    def service(self, name: str) -> Service:
        return next(s for s in self.services if s.name == name)

    def token(self, role: Role, store: str | None = None, region: str | None = None, sub: str = "emp-7100") -> dict:
        bearer = mint_token(self.settings, sub=sub, role=role, store_id=store, region_id=region,
                            now=datetime.now(UTC), ttl=timedelta(hours=2))
        return {"Authorization": f"Bearer {bearer}"}


async def all_ready(services: list[Service]) -> bool:
    return all([await service.ready() for service in services])


@asynccontextmanager
async def running_platform(directory: Path, databases: Mapping[str, str], nodes: int = 1) -> AsyncIterator[Platform]:
    """A broker (or a 3-node cluster: replication 3, min ISR 2) of the run's own, and every process
    of the platform on it and on its own `databases`, ready, with the fault regions and stores registered."""
    kafka_dir = directory / "kafka"
    bootstrap = await asyncio.to_thread(
        script, "kafka.sh", "start", "--dir", str(kafka_dir), "--port", str(free_port(consecutive=nodes)), "--nodes", str(nodes)
    )
    settings = PlatformSettings(kafka_bootstrap_servers=bootstrap, kafka_replication_factor=3 if nodes == 3 else 1)
    services = platform_services(settings, databases, directory)
    try:
        await asyncio.to_thread(ensure_topics, settings, [*ALL_TOPICS, *INTERNAL_TOPICS, *ANALYTICS_CHANGELOGS.values()])
        for service in services:
            service.start()
        try:
            await eventually(lambda: all_ready(services), timeout_s=READY_S, what="every process to be ready")
        except AssertionError as error:
            raise AssertionError(f"{error}\n" + "\n".join(f"--- {s.name}\n{s.last_words()}" for s in services)) from None
        running = Platform(settings, services, [Node(kafka_dir, i) for i in range(1, nodes + 1)], databases)
        await register_chain(running)
        yield running
    finally:
        for service in services:
            if service.runs:
                service.stop()
        await asyncio.to_thread(script, "kafka.sh", "stop", "--dir", str(kafka_dir))


async def register_chain(platform: Platform) -> None:
    admin = platform.token(Role.service, sub="svc-faults")
    async with httpx.AsyncClient(base_url=platform.service("complaints").url, headers=admin) as client:
        for region, stores in REGIONS.items():
            assert (await client.put(f"/v1/regions/{region}", json={"name": region})).status_code == 204
            for store in stores:
                response = await client.put(f"/v1/stores/{store}", json={"region_id": region, "name": store})
                assert response.status_code == 204, response.text


# -- the load -------------------------------------------------------------------------------------------


@dataclass
class Filed:
    complaint_id: str
    store_id: str
    region_id: str
    severity: str
    acknowledged: bool = False
    resolved: bool = False


@dataclass
class Ledger:
    """What the till was answered: the complaints that got a 201, what was done to them, the returns."""

    complaints: dict[str, Filed] = field(default_factory=dict)  # by Idempotency-Key
    returns: Counter = field(default_factory=Counter)  # by region
    retries: int = 0
    server_errors: int = 0

    def by_id(self) -> dict[str, Filed]:
        return {c.complaint_id: c for c in self.complaints.values()}


class Till:
    """Files complaints at the fault stores, acknowledges every third, resolves every sixth and
    requests a return for every fifth, each request retried with its Idempotency-Key on a
    connection error or a 5xx until it is answered."""

    def __init__(self, platform: Platform, ledger: Ledger, rng: random.Random) -> None:
        self.platform, self.ledger, self.rng = platform, ledger, rng
        self.tokens = {store: platform.token(Role.associate, store, region) for store, region in STORES.items()}

    async def run(self, stop: asyncio.Event, rate: float) -> None:
        async with httpx.AsyncClient(base_url=self.platform.service("complaints").url, timeout=10) as client:
            work: set[asyncio.Task] = set()
            n = 0
            while not stop.is_set():
                task = asyncio.create_task(self.serve(client, n))
                work.add(task)
                task.add_done_callback(work.discard)
                n += 1
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 1 / rate)  # the pace of the load
            await asyncio.gather(*work)

    async def serve(self, client: httpx.AsyncClient, n: int) -> None:
        store = self.rng.choice(sorted(STORES))
        severity = "critical" if n % 7 == 0 else self.rng.choice(["low", "medium", "high"])
        key = f"faults-{uuid4()}"
        body = {
            "store_id": store, "customer": {"name": "Till Customer", "email": f"till-{n}@example.com"},
            "channel": "in_store", "category": self.rng.choice(["service", "product_quality", "wait_time"]),
            "severity": severity, "mood": "upset", "description": "Filed under faults.",
        }
        answer = await self.post(client, "/v1/complaints", body, store, key, 201)
        complaint = Filed(answer["id"], store, STORES[store], severity)
        self.ledger.complaints[key] = complaint
        if n % 3 == 0:
            await self.post(client, f"/v1/complaints/{complaint.complaint_id}/acknowledge", None, store, f"{key}-ack", 200)
            complaint.acknowledged = True
        if n % 6 == 0:
            resolution = {"technique": "defuse", "outcome": "apology", "summary": "Sorted out."}
            await self.post(client, f"/v1/complaints/{complaint.complaint_id}/resolve", resolution, store, f"{key}-resolve", 200)
            complaint.resolved = True
        if n % 5 == 0:
            await self.post(client, "/v1/returns", {
                "store_id": store, "kind": "refund", "tender": "cash", "amount": {"minor_units": 1990, "currency": "EUR"},
                "product_category": "toys", "purchased_on": datetime.now(UTC).date().isoformat(), "receipt_number": "R-1",
            }, store, f"{key}-return", 201)
            self.ledger.returns[STORES[store]] += 1

    async def post(self, client: httpx.AsyncClient, path: str, body: dict | None, store: str, key: str, status: int) -> dict:
        content = orjson.dumps(body) if body is not None else b""  # a retry repeats the request byte for byte
        headers = {**self.tokens[store], "Idempotency-Key": key, "Content-Type": "application/json"}
        deadline = time.monotonic() + READY_S
        pause = 0.2
        while True:
            try:
                response = await client.post(path, content=content, headers=headers)
                if response.status_code < 500:
                    assert response.status_code == status, f"POST {path}: {response.status_code} {response.text}"
                    return response.json()
                self.ledger.server_errors += 1
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"POST {path} got no answer within {READY_S}s"
            self.ledger.retries += 1
            await asyncio.sleep(pause)  # a till's back-off between retries
            pause = min(pause * 2, 2.0)


async def run_clock(platform: PlatformSettings, stop: asyncio.Event, step_s: float) -> None:
    """Ticks the escalation worker's clock every second on every partition, moving it `step_s` ahead of
    the wall clock each time, so SLA deadlines pass during the run. Ticks lost to a broker outage are
    simply followed by later ones."""
    producer: AIOKafkaProducer | None = None
    ahead = timedelta()
    try:
        while not stop.is_set():
            ahead += timedelta(seconds=step_s)
            now = datetime.now(UTC) + ahead
            ticks = [wrap(Tick(partition=p, now=now), source="/tests/faults", time=now) for p in range(CLOCK.partitions)]
            try:
                if producer is None:
                    producer = make_producer(platform, client_id="faults-clock")
                    await producer.start()
                await send_all(producer, ((CLOCK.name, None, encode(t)) for t in ticks), platform.kafka_send_timeout_s)
            except (KafkaError, TimeoutError):
                if producer is not None:
                    await stop_producer(producer)
                producer = None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1.0)
    finally:
        if producer is not None:
            await stop_producer(producer)


# -- poison records ---------------------------------------------------------------------------------------


@dataclass
class Poison:
    kind: str
    topic: str
    partition: int = -1
    offset: int = -1
    dead_lettered_by: list[str] = field(default_factory=list)


def poison_value(kind: str, store: str, rng: random.Random) -> bytes:
    valid = orjson.loads(encode(filed(store)))
    if kind == "malformed_json":
        return b'{"type": "retail.complaint.filed.v1", "data": {'
    if kind == "schema_invalid":
        return orjson.dumps({**valid, "data": {**valid["data"], "severity": "extreme"}})
    if kind == "oversized":
        return rng.randbytes(900 * 1024)
    if kind == "far_future":  # schema-valid once, but dated 9999-12-31; a region of its own keeps it out of the counts
        far = "9999-12-31T23:59:59Z"
        return orjson.dumps({**valid, "time": far, "data": {**valid["data"], "filed_at": far, "region_id": "faults-poison"}})
    raise ValueError(f"unknown poison {kind!r}")


async def offer_poison(platform: PlatformSettings, kinds: tuple[str, ...], rng: random.Random) -> list[Poison]:
    """Each kind of poison on `complaints` keyed by a fault store (so valid events share its partition),
    and malformed JSON on `escalations`."""
    producer = AIOKafkaProducer(bootstrap_servers=platform.kafka_bootstrap_servers, client_id="faults-poison",
                                acks="all", max_request_size=2 * 1024 * 1024)
    await producer.start()
    offered = [Poison(kind, COMPLAINTS.name) for kind in kinds] + [Poison("malformed_json", ESCALATIONS.name)]
    try:
        for poison in offered:
            store = rng.choice(sorted(STORES))
            sent = await producer.send_and_wait(poison.topic, poison_value(poison.kind, store, rng), key=store.encode())
            poison.partition, poison.offset = sent.partition, sent.offset
    finally:
        await producer.stop()
    return offered


# -- faults -----------------------------------------------------------------------------------------------


async def kill_and_restart(service: Service) -> None:
    service.kill()
    service.start()
    try:
        await eventually(service.ready, timeout_s=READY_S, what=f"{service.name} to be ready after kill -9")
    except AssertionError as error:
        raise AssertionError(f"{error}\n{service.last_words()}") from None


async def kill_broker(platform: Platform) -> None:
    """SIGKILL of the (single) broker, started again at once."""
    (node,) = platform.nodes
    await node.restart(*node.kill())


async def kill_leader(platform: Platform, topic: str, partition: int) -> None:
    """SIGKILL of the node leading the partition; it is started again once another node leads, and
    the next fault waits until every replica is back in sync."""
    settings = platform.settings
    leader = await asyncio.to_thread(leader_of, settings, topic, partition)
    node = platform.nodes[leader - 1]
    how = node.kill()

    async def moved() -> bool:
        try:
            return await asyncio.to_thread(leader_of, settings, topic, partition) not in (leader, -1)
        except AdminError:
            return False

    await eventually(moved, timeout_s=READY_S, what=f"a new leader of {topic}-{partition}")
    await node.restart(*how)
    await eventually(lambda: all_in_sync(settings, [COMPLAINTS.name, ESCALATIONS.name, CASES_CHANGELOG]),
                     timeout_s=READY_S, what="every replica back in sync")


async def faults(platform: Platform, plan: Plan, rng: random.Random) -> None:
    """Every process killed `plan.kills` times, in turns; the broker and the partition leaders after them."""
    async def pause() -> None:
        await asyncio.sleep(plan.pause_s)  # the load runs between two faults

    for _ in range(plan.kills):
        for service in (s for s in platform.services if s.name in plan.processes or not plan.processes):
            await kill_and_restart(service)
            await pause()
    for _ in range(plan.broker_kills):
        await kill_broker(platform)
        await pause()
    leaders = [(topic, p) for topic in (COMPLAINTS.name, CASES_CHANGELOG) for p in range(COMPLAINTS.partitions)]
    for _ in range(plan.leader_kills):
        await kill_leader(platform, *rng.choice(leaders))
        await pause()


# -- checks -----------------------------------------------------------------------------------------------


@dataclass
class Check:
    """One invariant measured: what is missing (lost) and what happened more than once (duplicated)."""

    lost: int = 0
    duplicated: int = 0
    detail: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.lost and not self.duplicated

    def compare(self, what: str, expected: float, got: float) -> None:
        if got < expected:
            self.lost += round(expected - got)
        elif got > expected:
            self.duplicated += round(got - expected)
        else:
            return
        self.detail.append(f"{what}: expected {expected}, got {got}")


async def events_of(platform: PlatformSettings, topic: Topic) -> list:
    """Every valid event on the topic now (the poison offered on it left out)."""
    found = []
    for record in await read_records(platform.kafka_bootstrap_servers, topic.name, topic.partitions):
        try:
            found.append(decode(record.value or b"", topic.event_classes))
        except InvalidEvent:
            pass
    return found


async def check_filed(platform: Platform, ledger: Ledger) -> Check:
    """Every 201 complaint was published once: no complaint without its 201 (a retry that filed twice)."""
    answered = set(ledger.by_id())
    published = {str(e.data.complaint_id) for e in await events_of(platform.settings, COMPLAINTS)
                 if e.type == "retail.complaint.filed.v1" and e.data.region_id in REGIONS}
    check = Check(lost=len(answered - published), duplicated=len(published - answered))
    check.detail += [f"not published: {c}" for c in sorted(answered - published)[:5]]
    check.detail += [f"published without a 201: {c}" for c in sorted(published - answered)[:5]]
    return check


async def check_outbox(platform: Platform, _ledger: Ledger) -> Check:
    """Every event each service wrote to its outbox was published."""
    check = Check()
    for service, outbox in OUTBOXES.items():
        engine = make_engine(platform.databases[service])
        try:
            async with engine.connect() as connection:
                unsent = (await connection.execute(
                    select(func.count()).select_from(outbox.table).where(outbox.table.published_at.is_(None))
                )).scalar_one()
        finally:
            await engine.dispose()
        check.lost += unsent
        if unsent:
            check.detail.append(f"{unsent} {service} outbox rows not published")
    return check


async def check_escalations(platform: Platform, ledger: Ledger) -> Check:
    """One routing decision per 201 complaint, one page per critical complaint, and each SLA deadline
    breached at most once (events are told apart by id: a record published twice under one id is
    the at-least-once delivery consumers drop)."""
    complaints = ledger.by_id()
    routed, pages, breaches = defaultdict(set), defaultdict(set), defaultdict(set)
    for e in await events_of(platform.settings, ESCALATIONS):
        complaint = str(getattr(e.data, "complaint_id", ""))
        if complaint not in complaints:
            continue
        if e.type == "retail.escalation.routed.v1":
            routed[complaint].add(e.id)
        elif e.type == "retail.escalation.paged.v1":
            pages[complaint].add(e.id)
        elif e.type == "retail.escalation.breached.v1":
            breaches[complaint, e.data.tier, e.data.deadline_kind, e.data.deadline].add(e.id)
    check = Check()
    for complaint, filed_ in complaints.items():
        check.compare(f"routing decisions of {complaint}", 1, len(routed[complaint]))
        if filed_.severity == "critical":
            check.compare(f"pages of {complaint}", 1, len(pages[complaint]))
    for timer, ids in breaches.items():
        check.compare(f"breaches of {timer[0]}'s {timer[2]} deadline at {timer[1]}", 1, len(ids))
    return check


async def check_boards(platform: Platform, ledger: Ledger) -> Check:
    """Every open 201 complaint on its region's board once, a resolved one no more."""
    check = Check()
    async with httpx.AsyncClient(base_url=platform.service("boards").url, timeout=10) as client:
        for region in REGIONS:
            shown, after = Counter(), None
            while True:  # the board lists its complaints a page at a time
                response = await client.get(f"/regions/{region}/board", params={"after": after} if after else {},
                                            headers=platform.token(Role.senior_manager))
                if response.status_code != 200:
                    break
                shown.update(c["complaint_id"] for c in response.json()["complaints"])
                if not (after := response.json()["next"]):
                    break
            if response.status_code != 200:
                check.lost += 1
                check.detail.append(f"board of {region}: {response.status_code}")
                continue
            for c in ledger.complaints.values():
                if c.region_id == region:
                    check.compare(f"{c.complaint_id} on the board of {region}", 0 if c.resolved else 1, shown[c.complaint_id])
    return check


def expected_totals(ledger: Ledger, region: str) -> dict[str, int]:
    """The analytics worker's totals of the region, by metric, as the till's answers make them."""
    here = [c for c in ledger.complaints.values() if c.region_id == region]
    return {
        "retail_complaints_filed_total": len(here),
        "retail_escalations_routed_total": len(here),
        "retail_complaints_acknowledged_total": sum(c.acknowledged for c in here),
        "retail_complaints_resolved_total": sum(c.resolved for c in here),
        "retail_pages_total": sum(c.severity == "critical" for c in here),
        "retail_return_requests_total": ledger.returns[region],
    }


async def check_analytics(platform: Platform, ledger: Ledger) -> Check:
    """Counted exactly once: the worker's /metrics totals per region equal what the till was answered."""
    check = Check()
    async with httpx.AsyncClient(base_url=platform.service("analytics").url, timeout=10) as client:
        try:
            response = await client.get("/metrics", headers=platform.token(Role.ops, sub="ops-0001"))
        except httpx.TransportError as error:
            return Check(lost=1, detail=[f"/metrics: {error!r}"])
    totals: Counter = Counter()
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if sample.labels.get("region") in REGIONS:
                totals[sample.name, sample.labels["region"]] += sample.value
    for region in REGIONS:
        for name, expected in expected_totals(ledger, region).items():
            check.compare(f"{name} of {region}", expected, totals[name, region])
    return check


async def check_reports(platform: Platform, ledger: Ledger) -> Check:
    """The reports API's satisfaction report of each region counts every complaint once."""
    check = Check()
    async with httpx.AsyncClient(base_url=platform.service("reports").url, timeout=10) as client:
        for region in REGIONS:
            response = await client.get("/v1/reports/satisfaction", params={"region_id": region},
                                        headers=platform.token(Role.senior_manager))
            if response.status_code != 200:
                check.lost += 1
                check.detail.append(f"report of {region}: {response.status_code} {response.text[:200]}")
                continue
            report = response.json()["satisfaction"]
            filed_here = [c for c in ledger.complaints.values() if c.region_id == region]
            check.compare(f"complaints filed in {region}'s report", len(filed_here), report["complaints_filed"])
            check.compare(f"resolved in {region}'s report", sum(c.resolved for c in filed_here), report["resolved"])
    return check


async def check_dead_letters(platform: Platform, poison: list[Poison]) -> Check:
    """Every poison record dead-lettered by every group that reads its topic."""
    check = Check()
    for topic in {p.topic for p in poison}:
        letters = {(e.data.partition, e.data.offset, e.data.consumer) for e in await events_of(platform.settings, DLQS[topic])}
        for p in (p for p in poison if p.topic == topic):
            p.dead_lettered_by = [group for group in READERS[topic] if (p.partition, p.offset, group) in letters]
            check.compare(f"dead letters of the {p.kind} record on {topic}", len(READERS[topic]), len(p.dead_lettered_by))
    return check


async def groups_caught_up(platform: PlatformSettings) -> bool:
    """Every worker's group has committed to the end of every partition it reads."""
    admin = KafkaAdminClient(bootstrap_servers=platform.kafka_bootstrap_servers, client_id="faults-admin")
    try:
        for group, topics in GROUP_INPUTS.items():
            committed = admin.list_group_offsets(group)[group]
            ends = admin.list_partition_offsets({TopicPartition(t.name, p): -1 for t in topics for p in range(t.partitions)})
            if any(end.offset > (committed[tp].offset if tp in committed else 0) for tp, end in ends.items()):
                return False
        return True
    except AdminError:
        return False
    finally:
        admin.close()


async def settled(measure, timeout_s: float, what: str) -> Check:
    """The measure once it is clean, or as it stands at the deadline."""
    last = Check()

    async def clean() -> bool:
        nonlocal last
        last = await measure()
        return last.clean

    try:
        await eventually(clean, timeout_s=timeout_s, what=what)
    except AssertionError:
        pass
    return last


# -- a run ------------------------------------------------------------------------------------------------


@dataclass
class Figures:
    kills: dict[str, int]
    broker_kills: int
    leader_kills: int
    offered: dict[str, int]
    retries: int
    server_errors: int
    lost: dict[str, int]
    duplicated: dict[str, int]
    poison: list[dict]
    seconds: float
    detail: dict[str, list[str]]

    @property
    def clean(self) -> bool:
        return not any(self.lost.values()) and not any(self.duplicated.values())

    def summary(self) -> str:
        """What went wrong, for a failing assertion."""
        wrong = {"lost": self.lost, "duplicated": self.duplicated, "poison": self.poison, "detail": self.detail}
        return json.dumps(wrong, indent=1)


async def run_faults(platform: Platform, plan: Plan) -> Figures:
    """The plan's faults under steady load, then every check once the platform has caught up."""
    started, rng = time.monotonic(), random.Random(plan.seed)
    ledger, stop = Ledger(), asyncio.Event()
    till = asyncio.create_task(Till(platform, ledger, rng).run(stop, plan.rate))
    clock = asyncio.create_task(run_clock(platform.settings, stop, plan.clock_step_s))
    try:
        await asyncio.sleep(plan.pause_s)  # some load before the first fault
        poison = await offer_poison(platform.settings, plan.poison, rng)
        await faults(platform, plan, rng)
        await asyncio.sleep(plan.pause_s)  # and some after the last
    finally:
        stop.set()
        await asyncio.gather(till, clock)
    await eventually(lambda: all_ready(platform.services), timeout_s=READY_S, what="every process to be ready")
    checks = {"filed": check_filed, "outbox": check_outbox, "routing, pages and SLA": check_escalations,
              "boards": check_boards, "analytics": check_analytics, "reports": check_reports}
    try:
        await eventually(lambda: groups_caught_up(platform.settings), timeout_s=SETTLE_S, what="the workers to catch up")
    except AssertionError:
        pass  # the checks say what is behind
    results = {name: await settled(lambda m=measure: m(platform, ledger), SETTLE_S / 3, name) for name, measure in checks.items()}
    results["dead letters"] = await settled(lambda: check_dead_letters(platform, poison), SETTLE_S / 3, "dead letters")
    return Figures(
        kills={s.name: s.kills for s in platform.services},
        broker_kills=plan.broker_kills, leader_kills=plan.leader_kills,
        offered={
            "complaints": len(ledger.complaints),
            "acknowledgements": sum(c.acknowledged for c in ledger.complaints.values()),
            "resolutions": sum(c.resolved for c in ledger.complaints.values()),
            "returns": sum(ledger.returns.values()),
            "poison records": len(poison),
        },
        retries=ledger.retries, server_errors=ledger.server_errors,
        lost={name: check.lost for name, check in results.items()},
        duplicated={name: check.duplicated for name, check in results.items()},
        poison=[{"kind": p.kind, "topic": p.topic, "partition": p.partition, "offset": p.offset,
                 "ended in": f"{p.topic}.dlq" if p.dead_lettered_by else "nowhere", "dead-lettered by": p.dead_lettered_by}
                for p in poison],
        seconds=round(time.monotonic() - started, 1),
        detail={name: check.detail[:10] for name, check in results.items() if check.detail},
    )
