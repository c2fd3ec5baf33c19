"""B5 memory: the resident memory of each process that keeps complaints in its state — the escalation
and analytics workers (RocksDB tables restored from their changelogs) and the read replicas that
follow those changelogs (the boards API into PostgreSQL, the reports API into a RocksDB of its own) —
with 1M open complaints across 500 stores (--scale 0.1: 100k across 50), filed over the 400 days the
reports keep daily windows for (ANALYTICS_DAY_WINDOWS_DAYS). The state is written straight to the changelogs by
bench.state, with the services' own code; each process is then started as operators run it, on a
fresh data directory, and measured once it has caught up:

- the workers once their tables are restored (/readyz) and they are in their steady state: the
  escalation worker has handled a tick of its clock on every partition (the first tick of a
  partition reads its cases to index their deadlines), the analytics worker has counted one event
  of every store (which decodes that store's totals, as traffic does);
- the read replicas once /readyz says they have read the changelog to its end; then one board, or
  one report, is asked for and the memory after it is shown too (not the figure: a request's
  memory is returned, mostly).

The figure is VmRSS after catch-up, with VmHWM (the peak) beside it. The goal is absolute (≤ 300
MiB, the issue's "300 MB" read in the MiB its other figures use); the same-run baseline is the fixed
cost: a bare interpreter importing the same modules as the process, with the same settings. The
ratio is RSS ÷ that fixed cost, and the goal is shown as the ratio 300 MiB makes of it."""

import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import httpx
from kafka.admin import KafkaAdminClient
from kafka.errors import KafkaError
from kafka.structs import TopicPartition
from prometheus_client.parser import text_string_to_metric_families
from rich.progress import Progress

from bench import state
from bench.harness import AtMost, Figure, Infra, Options, Sample, alternate, cpu_seconds
from services.analytics.settings import AnalyticsSettings
from services.analytics.topics import CHANGELOGS as ANALYTICS_CHANGELOGS
from services.escalation.topics import CLOCK, INTERNAL_TOPICS
from services.shared.auth import mint_token
from services.shared.events.envelope import wrap
from services.shared.events.escalations import EscalationRouted
from services.shared.kafka import ensure_topics, make_producer, publish
from services.shared.principal import Role
from services.shared.settings import PlatformSettings
from services.shared.topics import ALL_TOPICS, ESCALATIONS
from tests.support import ServiceProcess
from tests.support.infra import REPO, free_port, kafka_broker

COMPLAINTS, STORES = 1_000_000, 500  # times --scale
DAYS = AnalyticsSettings().day_windows_days  # the complaints are filed over the days the reports keep
GOAL_MIB = 300
MIB = 2**20


@dataclass
class Run:
    """What the benchmark shares between its processes."""

    infra: Infra
    platform: PlatformSettings
    shape: state.Shape
    written: dict[str, int]
    progress: Progress
    workdir: Path

    def env(self, port: int) -> dict[str, str]:
        data = tempfile.mkdtemp(dir=self.workdir)
        return {
            "RETAIL_KAFKA_BOOTSTRAP_SERVERS": self.infra.bootstrap, "RETAIL_LOG_LEVEL": "WARNING", "PYTHONPATH": str(REPO),
            "ESCALATION_DATA_DIR": data, "ESCALATION_WORKER_PORT": str(port), "ESCALATION_PORT": str(port),
            "ESCALATION_INSTANCE_ID": "bench-memory", "ANALYTICS_DATA_DIR": data, "ANALYTICS_PORT": str(port),
            "ANALYTICS_REPORTS_PORT": str(port), "ANALYTICS_INSTANCE_ID": "bench-memory",
        }

    def token(self, role: Role, **claims: str) -> dict[str, str]:
        token = mint_token(self.platform, sub="bench-0001", role=role, now=datetime.now(UTC), ttl=timedelta(hours=2), **claims)
        return {"Authorization": f"Bearer {token}"}


@dataclass(frozen=True)
class Subject:
    name: str
    module: str  # python -m
    imports: tuple[str, ...]  # what the baseline imports: the process's modules, not started
    changelogs: tuple[str, ...]  # what it restores or follows
    settle: Callable[[Run, str], Awaitable[None]]  # after /readyz, until its steady state
    ask: Callable[[Run, str], Awaitable[str]] | None = None  # one request a user would make; says what it got
    database: str | None = None  # the setting that gives it a fresh PostgreSQL database, if it keeps one


async def run(infra: Infra, options: Options, progress: Progress) -> list[Figure]:
    # On a broker of its own: the earlier benchmarks' records on the shared one are not this state. After
    # B1 to B4, a worker read their complaints (114,586 more counted) and their cases on the same changelog
    # (the escalation worker's first round held 428 MiB; 191 MiB with this state alone).
    with tempfile.TemporaryDirectory(prefix="bench-b5-") as directory, kafka_broker(Path(directory) / "kafka") as bootstrap:
        return await _measured(replace(infra, bootstrap=bootstrap), options, progress)


async def _measured(infra: Infra, options: Options, progress: Progress) -> list[Figure]:
    platform = PlatformSettings(kafka_bootstrap_servers=infra.bootstrap)
    shape = state.Shape(max(1, round(COMPLAINTS * options.scale)), max(1, round(STORES * options.scale)), DAYS)
    ensure_topics(platform, [*ALL_TOPICS, *INTERNAL_TOPICS, *ANALYTICS_CHANGELOGS.values()])
    task = progress.add_task(f"B5: writing {shape.complaints:,} complaints' state", total=None)
    now = state.now()
    written = await state.written_in_parallel(platform, shape, now)
    progress.remove_task(task)
    progress.console.print(f"B5: {shape.complaints:,} complaints across {shape.stores} stores written in "
                           f"{written.seconds:.0f} s: " + ", ".join(f"{n:,} to {topic}" for topic, n in written.records.items()))
    figures = []
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as workdir:
        bench = Run(infra, platform, shape, written.records, progress, Path(workdir))
        for subject in SUBJECTS:
            figure = Figure(
                f"B5 memory · {subject.name} · {shape.complaints:,} complaints / {shape.stores} stores",
                f"VmRSS after catch-up ({subject.module})", "the same imports, not started", "MiB", AtMost(0),
            )
            task = progress.add_task(figure.name, total=options.rounds * 2)

            async def measured(measure: Callable[[Run, Subject], Awaitable[Sample]], subject: Subject = subject,
                               task: int = task) -> Sample:
                result = await measure(bench, subject)
                progress.advance(task)
                return result

            figure.rounds = await alternate(options.rounds, lambda: measured(fixed_cost), lambda: measured(measure))
            figure.goal = AtMost(round(GOAL_MIB / figure.median("baseline").rate, 2))
            progress.remove_task(task)
            figures.append(figure)
    return figures


def memory(pid: int) -> tuple[float, float]:
    """VmRSS and VmHWM of the process, in MiB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


async def measure(bench: Run, subject: Subject) -> Sample:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    records = sum(bench.written.get(name, 0) for name in subject.changelogs)
    started = time.monotonic()
    database = {subject.database: await bench.infra.new_database("bench_memory")} if subject.database else {}
    process = ServiceProcess(subject.module, {**bench.env(port), **database})
    pid = process.process.pid
    try:
        timeout_s = 300 + records / 1000  # a busy 2-core machine restores well over 1,000 records a second
        async with httpx.AsyncClient(base_url=url, timeout=600) as client:
            while not await _ready(client):
                if process.process.poll() is not None:
                    raise RuntimeError(f"{subject.module} ended:\n{process.logs()[-3000:]}")
                if time.monotonic() - started > timeout_s:
                    raise RuntimeError(f"{subject.module} not ready after {timeout_s:.0f} s:\n{process.logs()[-3000:]}")
                await asyncio.sleep(0.5)
            ready_s = time.monotonic() - started
            _, peak_ready = memory(pid)
            if _unread(process):  # a generated record the process could not read: the state is not its own
                raise RuntimeError(f"{subject.module} could not read the generated state:\n{process.logs()[-3000:]}")
            await subject.settle(bench, url)
            caught_up_s = time.monotonic() - started
            await asyncio.sleep(5)  # what a caught-up process keeps, not what it is still letting go of
            rss, peak = memory(pid)
            cpu = cpu_seconds(pid)
            note = ""
            if subject.ask is not None:
                asked = time.monotonic()
                what = await subject.ask(bench, url)
                after, peak_after = memory(pid)
                if _unread(process):
                    raise RuntimeError(f"{subject.module} could not read the generated state:\n{process.logs()[-3000:]}")
                note = f"; after {what} ({time.monotonic() - asked:.1f} s): RSS {after:,.0f} MiB, peak {peak_after:,.0f} MiB"
        bench.progress.console.print(
            f"B5 {subject.name}: RSS {rss:,.0f} MiB, peak {peak:,.0f} MiB ({peak_ready:,.0f} MiB when ready in {ready_s:.0f} s), "
            f"steady in {caught_up_s:.0f} s, {records:,} records, CPU {cpu:.0f} s{note}"
        )
        return Sample(rss, 0.0, 0.0, records, cpu * 1000 / max(records, 1), 0.0, peak_mib=peak, catch_up_s=caught_up_s)
    finally:
        process.stop()


async def fixed_cost(bench: Run, subject: Subject) -> Sample:
    """A bare interpreter that imports the process's modules with its settings, and stops there."""
    started = time.monotonic()
    script = "import importlib, sys\nfor name in sys.argv[1:]:\n    importlib.import_module(name)\n" \
             "print(open('/proc/self/status').read())"
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, *subject.imports, env={**os.environ, **bench.env(free_port())}, cwd=REPO,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )
    out, _ = await child.communicate()
    if child.returncode != 0:
        raise RuntimeError(f"importing {subject.imports} failed")
    fields = dict(line.split(":", 1) for line in out.decode().splitlines() if ":" in line)
    rss, peak = (int(fields[name].split()[0]) / 1024 for name in ("VmRSS", "VmHWM"))
    return Sample(rss, 0.0, 0.0, 0, 0.0, 0.0, peak_mib=peak, catch_up_s=time.monotonic() - started)


def _unread(process: ServiceProcess) -> bool:
    """Whether the process logged a table value, or a followed record, it could not read."""
    return any(said in process.logs() for said in ("table value unreadable", "record skipped"))


async def _ready(client: httpx.AsyncClient) -> bool:
    try:
        return (await client.get("/readyz")).status_code == 200
    except httpx.TransportError:
        return False


def _committed_past(platform: PlatformSettings, group: str, targets: dict[TopicPartition, int]) -> bool:
    admin = KafkaAdminClient(bootstrap_servers=platform.kafka_bootstrap_servers)
    try:
        committed = admin.list_group_offsets(group)[group]
    except (KafkaError, KeyError):
        return False
    finally:
        admin.close()
    return all(tp in committed and committed[tp].offset >= end for tp, end in targets.items())


def _ends(platform: PlatformSettings, topic: str, partitions: int) -> dict[TopicPartition, int]:
    admin = KafkaAdminClient(bootstrap_servers=platform.kafka_bootstrap_servers)
    try:
        found = admin.list_partition_offsets({TopicPartition(topic, p): -1 for p in range(partitions)})
    finally:
        admin.close()
    return {tp: offset.offset for tp, offset in found.items()}


async def _until(probe: Callable[[], bool], what: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not await asyncio.to_thread(probe):
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        await asyncio.sleep(1.0)


async def ticked(bench: Run, _url: str) -> None:
    """Until the worker has handled a tick of its clock on every partition after it was ready (its
    leader ticks every ESCALATION_TICK_SECONDS, 5 s by default): past the end each partition had then,
    so that the ticks a worker of an earlier round handled do not count."""
    targets = {tp: end + 1 for tp, end in _ends(bench.platform, CLOCK.name, CLOCK.partitions).items()}
    await _until(lambda: _committed_past(bench.platform, "escalation", targets), "a tick handled on every partition",
                 600 + bench.shape.complaints / 500)


async def counted_every_store(bench: Run, _url: str) -> None:
    """Sends one routing decision of each store to the escalations topic (which only analytics reads),
    and waits until the worker has counted them: each store's totals are then decoded, as traffic keeps them."""
    example = EscalationRouted.model_config["json_schema_extra"]["examples"][0]
    now = datetime.now(UTC)
    events = [
        wrap(EscalationRouted.model_validate({**example, "complaint_id": str(uuid4()), "store_id": store, "region_id": region,
                                              "at": now.isoformat()}), source="/bench", time=now)
        for region, store in bench.shape.places
    ]
    producer = make_producer(bench.platform, client_id="bench-memory")
    await producer.start()
    try:
        await publish(producer, ESCALATIONS, events, bench.platform)
    finally:
        await producer.stop()
    targets = {tp: end for tp, end in _ends(bench.platform, ESCALATIONS.name, ESCALATIONS.partitions).items() if end}
    await _until(lambda: _committed_past(bench.platform, "analytics", targets), "the stores' events counted", 600)


async def ready_only(_bench: Run, _url: str) -> None:
    return None


async def one_board(bench: Run, url: str) -> str:
    region = bench.shape.places[0][0]
    async with httpx.AsyncClient(base_url=url, timeout=600) as client:
        response = await client.get(f"/regions/{region}/board", headers=bench.token(Role.regional_coordinator, region_id=region))
    response.raise_for_status()
    board = response.json()
    return (f"one board of {board['summary']['open']:,} open complaints ({len(board['complaints'])} listed), "
            f"{len(response.content) / MIB:.1f} MiB")


async def scraped(bench: Run, url: str) -> str:
    """Two scrapes of the worker's /metrics, as Prometheus makes them: the first writes every store's
    lines, the second only those of stores changed since. Each must count every generated complaint
    (the totals were restored as written)."""
    seconds = []
    async with httpx.AsyncClient(base_url=url, timeout=600) as client:
        for _ in range(2):
            started = time.monotonic()
            response = await client.get("/metrics", headers=bench.token(Role.ops))
            seconds.append(time.monotonic() - started)
            response.raise_for_status()
            filed = sum(sample.value for family in text_string_to_metric_families(response.text)
                        if family.name == "retail_complaints_filed" for sample in family.samples)
            if filed != bench.shape.complaints:
                raise RuntimeError(f"the worker's totals count {filed:,.0f} complaints filed, not {bench.shape.complaints:,}")
    return (f"two scrapes of /metrics ({filed:,.0f} complaints counted, {len(response.content) / MIB:.1f} MiB) in "
            f"{seconds[0]:.2f} s and {seconds[1]:.2f} s")


async def one_report(bench: Run, url: str) -> str:
    async with httpx.AsyncClient(base_url=url, timeout=600) as client:
        response = await client.get("/v1/reports/satisfaction", headers=bench.token(Role.senior_manager))
    response.raise_for_status()
    return f"the chain's satisfaction report over 24 h ({len(response.json()['period']['stores'])} stores)"


CASES, ROUTED, ROSTERS = (f"escalation-{table}-changelog" for table in ("cases", "routed", "rosters"))
TOTALS, REPORTS = (ANALYTICS_CHANGELOGS[table].name for table in ("totals", "reports"))
SUBJECTS = (
    Subject("escalation worker", "services.escalation",
            ("services.escalation.streams", "services.shared.web", "uvicorn"), (CASES, ROUTED, ROSTERS), ticked),
    Subject("boards API", "services.escalation.boards", ("services.escalation.boards.api", "uvicorn"), (CASES,),
            ready_only, one_board, "ESCALATION_BOARDS_DATABASE_URL"),
    Subject("analytics worker", "services.analytics",
            ("services.analytics.streams", "services.analytics.metrics", "services.analytics.pipeline", "uvicorn"),
            (TOTALS, REPORTS), counted_every_store, scraped),
    Subject("reports API", "services.analytics.reports", ("services.analytics.reports.api", "uvicorn"), (REPORTS,),
            ready_only, one_report),
)
