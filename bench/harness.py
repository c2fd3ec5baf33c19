"""What every benchmark shares: the infrastructure it runs on, rounds that alternate the baseline and
the subject, the figure made of them, and the table and bench/results.json that report them.

A figure's ratio is the median of its rounds' ratios (subject ÷ baseline, each pair measured back to
back, the first of the pair alternating), so drift of the shared machine cancels within a pair."""

import asyncio
import json
import math
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import CommitFailedError
from kafka.admin import KafkaAdminClient
from kafka.errors import KafkaError
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy import text
from sqlalchemy.engine import make_url

from services.shared.db import make_engine
from services.shared.topics import Topic
from tests.support.infra import REPO, free_port, kafka_broker, script

RESULTS = REPO / "bench" / "results.json"


@dataclass(frozen=True)
class Options:
    rounds: int = 3
    scale: float = 1.0  # multiplies every benchmark's amount of work (requests, events)
    profile: str | None = None  # a folder for the subjects' py-spy profiles (which slows them down a little)


@contextmanager
def profiled(pid: int, options: Options, name: str) -> Iterator[None]:
    """With --profile, py-spy samples process `pid` for the block into <folder>/<name>.txt, collapsed
    stacks (speedscope.app and flamegraph.pl read them), each under its thread (the outbox relay's apart
    from the requests'); it counts only samples where the process holds the GIL, so its CPU and not its waiting."""
    if options.profile is None:
        yield
        return
    py_spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if py_spy is None:
        raise RuntimeError("--profile needs py-spy: .venv/bin/pip install py-spy")
    Path(options.profile).mkdir(parents=True, exist_ok=True)
    output = Path(options.profile) / f"{name}.txt"
    sampler = subprocess.Popen(
        [py_spy, "record", "--pid", str(pid), "--gil", "--threads", "--rate", "100", "--format", "raw", "--output", str(output)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        yield
    finally:
        sampler.send_signal(signal.SIGINT)  # py-spy writes its output on Ctrl-C
        sampler.wait(timeout=60)


@dataclass
class Infra:
    """The broker and PostgreSQL the benchmarks run on: the harness's own, or a test session's."""

    bootstrap: str
    postgres_url: str  # its `retail` database, from which the others are made
    measured: list["Figure"] = field(default_factory=list)  # this run's figures so far (B3 offers a share of B1's maximum)

    async def new_database(self, prefix: str) -> str:
        """An empty database on the PostgreSQL; its URL."""
        name = f"{prefix}_{uuid4().hex[:8]}"
        admin = make_engine(self.postgres_url).execution_options(isolation_level="AUTOCOMMIT")
        try:
            async with admin.connect() as connection:
                await connection.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            await admin.dispose()
        return make_url(self.postgres_url).set(database=name).render_as_string(hide_password=False)


@asynccontextmanager
async def own_infra() -> AsyncIterator[Infra]:
    """A broker and a PostgreSQL of the harness's own, as the tests start them (tests/conftest.py)."""
    directory = Path(tempfile.mkdtemp(prefix="retail-bench-"))
    os.chmod(directory, 0o755)  # PostgreSQL runs as its own user and must reach its folder
    postgres = directory / "postgres"
    try:
        with kafka_broker(directory / "kafka") as bootstrap:
            url = script("postgres.sh", "start", "--dir", str(postgres), "--port", str(free_port()))
            try:
                yield Infra(bootstrap, url)
            finally:
                script("postgres.sh", "stop", "--dir", str(postgres))
    finally:
        shutil.rmtree(directory, ignore_errors=True)


async def skip_to_end(bootstrap: str, group: str, topics: Iterable[Topic], timeout_s: float = 180.0) -> None:
    """Commits the group's offsets at the topics' current ends: what earlier runs and benchmarks left on
    the shared broker is not the group's to read. The broker takes the commit only once the group has no
    members: a worker stopped without leaving holds it until its session times out (60 s by default)."""
    deadline = time.monotonic() + timeout_s
    # Waited for here, not by retrying the commit: aiokafka logs each commit the broker refuses.
    while (members := await asyncio.to_thread(_members, bootstrap, group)) != 0:
        if time.monotonic() > deadline:
            raise TimeoutError(f"consumer group {group} still has members ({members}) after {timeout_s:.0f} s")
        await asyncio.sleep(1.0)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic.name, p) for topic in topics for p in range(topic.partitions)]
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        while True:  # a member may join meanwhile
            try:
                await consumer.commit(ends)
                return
            except CommitFailedError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(1.0)
    finally:
        await consumer.stop()


def _members(bootstrap: str, group: str) -> int | None:
    """The group's members now; None while the broker cannot say (a new broker has no coordinator yet)."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="bench-admin")
    try:
        return len(admin.describe_groups([group])[group]["members"])
    except KafkaError as error:
        if error.retriable:
            return None
        raise
    finally:
        admin.close()


@dataclass(frozen=True)
class Sample:
    """One measured run: its throughput and its requests' latencies."""

    rate: float  # per second
    p50_ms: float
    p99_ms: float
    count: int
    server_cpu_ms: float  # per request, of the server process measured
    client_cpu_ms: float  # per request, of the harness driving it (if near 1000 / rate, the client was the limit)
    p95_ms: float = 0.0
    lost: int = 0  # requests answered but whose effect never arrived (B3)
    failed: int = 0  # requests the client gave up on: no answer after a retry, or an error status (B3)
    peak_mib: float = 0.0  # B5: the process's peak resident memory (VmHWM), when `rate` is its RSS in MiB
    catch_up_s: float = 0.0  # B5: from its start until it had read its state
    relay_p50_ms: float = 0.0  # B3: from the HTTP 201 to the complaint's filing on its topic (the outbox relay's leg)
    relay_p99_ms: float = 0.0


def sample(count: int, seconds: float, latencies_s: list[float], server_cpu_s: float, client_cpu_s: float) -> Sample:
    ordered = sorted(latencies_s)
    return Sample(
        count / seconds, percentile(ordered, 0.50) * 1000, percentile(ordered, 0.99) * 1000, count,
        server_cpu_s / count * 1000, client_cpu_s / count * 1000, p95_ms=percentile(ordered, 0.95) * 1000,
    )


def cpu_seconds(pid: int) -> float:
    """The CPU time (user and system) process `pid` has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(ordered: list[float], q: float) -> float:
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]  # nearest rank


@dataclass(frozen=True)
class Round:
    baseline: Sample
    subject: Sample
    first: str  # "baseline" or "subject"
    compared: str = "rate"  # the Sample measure the ratio divides: "rate", or "p99_ms" for a latency goal (B3)

    @property
    def ratio(self) -> float:
        return getattr(self.subject, self.compared) / getattr(self.baseline, self.compared)


@dataclass(frozen=True)
class Goal:
    ratio_at_least: float

    def met(self, ratio: float) -> bool:
        return ratio >= self.ratio_at_least

    def __str__(self) -> str:
        return f"≥ {self.ratio_at_least}"


@dataclass(frozen=True)
class AtMost:
    """A goal on a ratio that must stay low, such as a latency's (B3: p99 ≤ 3× the baseline's)."""

    ratio_at_most: float

    def met(self, ratio: float) -> bool:
        return ratio <= self.ratio_at_most

    def __str__(self) -> str:
        return f"≤ {self.ratio_at_most}"


@dataclass
class Figure:
    name: str
    subject: str
    baseline: str
    unit: str
    goal: Goal | AtMost
    rounds: list[Round] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return statistics.median(r.ratio for r in self.rounds)

    def median(self, side: str) -> Sample:
        """The median of each of the side's measures over the rounds ("subject" or "baseline")."""
        samples = [getattr(r, side) for r in self.rounds]
        return Sample(*(statistics.median(getattr(s, f.name) for s in samples) for f in fields(Sample)))


async def alternate(
    rounds: int, baseline: Callable[[], Awaitable[Sample]], subject: Callable[[], Awaitable[Sample]], compared: str = "rate"
) -> list[Round]:
    """`rounds` pairs of runs, the baseline first in even rounds and the subject first in odd ones."""
    measured = []
    for number in range(rounds):
        if number % 2 == 0:
            first, b = "baseline", await baseline()
            s = await subject()
        else:
            first, s = "subject", await subject()
            b = await baseline()
        measured.append(Round(b, s, first, compared))
    return measured


async def machine(infra: Infra) -> dict:
    engine = make_engine(infra.postgres_url)
    try:
        async with engine.connect() as connection:
            postgresql = (await connection.execute(text("SHOW server_version"))).scalar_one()
    finally:
        await engine.dispose()
    default_kafka = re.search(r"KAFKA_VERSION:-([^}]+)}", (REPO / "deploy" / "local" / "kafka.sh").read_text())
    return {
        "cores": os.cpu_count(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "cpu": _cpu_model(),
        "system": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "kafka": os.environ.get("KAFKA_VERSION") or (default_kafka.group(1) if default_kafka else "unknown"),
        "postgresql": postgresql,
        "load_average": [round(load, 2) for load in os.getloadavg()],  # 1, 5, 15 min, when written: how shared it was
    }


def _cpu_model() -> str:
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return platform.processor()
    return next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), platform.processor())


def _side(sample: Sample, unit: str, latency_goal: bool = False) -> str:
    p95 = f" · p95 {sample.p95_ms:,.0f}" if sample.p95_ms else ""
    latency = f"p50 {sample.p50_ms:,.0f}{p95} · p99 {sample.p99_ms:,.0f} ms\n" if sample.p99_ms else ""
    lost = f"\nlost {sample.lost:,.0f}" if sample.lost or latency_goal else ""
    if sample.failed:
        lost += f" · failed {sample.failed:,.0f}"
    if sample.relay_p99_ms:
        lost += f"\nof which 201 → filed on Kafka p50 {sample.relay_p50_ms:,.0f} · p99 {sample.relay_p99_ms:,.0f} ms"
    if sample.peak_mib:  # B5 memory: resident memory, not a rate
        return f"{sample.rate:,.0f} {unit}\npeak {sample.peak_mib:,.0f} {unit}\ncaught up in {sample.catch_up_s:,.0f} s"
    return (f"{sample.rate:,.0f} {unit}\n{latency}"
            f"CPU {sample.server_cpu_ms:.1f} ms/req (client {sample.client_cpu_ms:.1f}){lost}")


def table(figures: list[Figure]) -> Table:
    shown = Table(title="Benchmarks: each subject against its same-run baseline (medians of the rounds)")
    for column in ("figure", "subject", "baseline", "ratio", "goal", "met?"):
        shown.add_column(column, justify="right" if column in ("ratio", "goal") else "left")
    for figure in figures:
        met = figure.goal.met(figure.ratio)
        shown.add_row(
            figure.name,
            *(_side(figure.median(side), figure.unit, isinstance(figure.goal, AtMost)) for side in ("subject", "baseline")),
            f"{figure.ratio:.2f}", str(figure.goal), "[green]yes[/]" if met else "[red]no[/]",
        )
    return shown


def results(figures: list[Figure], machine: dict, options: Options) -> dict:
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine,
        "options": asdict(options),
        "figures": [
            {
                "name": f.name, "subject": f.subject, "baseline": f.baseline, "unit": f.unit,
                "ratio": round(f.ratio, 3), "goal": str(f.goal), "met": f.goal.met(f.ratio),
                "subject_median": asdict(f.median("subject")), "baseline_median": asdict(f.median("baseline")),
                "rounds": [{**asdict(r), "ratio": round(r.ratio, 3)} for r in f.rounds],
            }
            for f in figures
        ],
    }


Benchmark = Callable[[Infra, Options, Progress], Awaitable[list[Figure]]]


async def run(benchmarks: dict[str, Benchmark], infra: Infra, options: Options, *, output: Path = RESULTS,
              console: Console | None = None) -> dict:
    """Runs the benchmarks with a progress bar, prints the table, writes `output` (after each benchmark, so
    that one that fails leaves the figures of those before it); returns what it wrote."""
    console = console or Console()
    figures: list[Figure] = []
    infra.measured = figures
    with Progress(console=console, transient=True) as progress:
        for benchmark in benchmarks.values():
            figures += await benchmark(infra, options, progress)
            written = results(figures, await machine(infra), options)
            output.write_text(json.dumps(written, indent=2, ensure_ascii=False) + "\n")
    console.print(table(figures))
    console.print(f"written to {output}")
    return written
