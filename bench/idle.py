"""B6 idle: the latency of the first event after an idle period ÷ a warm event's, on the path from a
complaint.filed published (by a long-lived idempotent producer, as the complaints service's outbox
relay publishes) to the analytics worker (python -m services.analytics) having counted it (its
store's totals on the totals changelog say so).

Thirty idle minutes are simulated on a broker of its own that closes connections idle for
IDLE_CLOSE_MS (`connections.max.idle.ms`, 10 minutes by default; the clients' own default, aiokafka's
`connections_max_idle_ms`, is 9): the benchmark waits IDLE_S, past it, so every connection that
was idle has been closed when the next event comes, as after half an hour. The worker's fetching
consumer is never idle (it long-polls); the connections the broker closed, and the clients opened
again, are counted by their local ports and shown with the figure.

A warm event is sent at a random moment (seeded) within half a second of the last one counted. The
worker's batch closes a quarter second after its first event, so a warm event and the first after
an idle period both wait about that long (until 927e35d batches closed on a quarter-second timer, and
an event sent right after the last was counted waited the whole quarter, one after idle a random part).
Each run after idle measures IDLES_PER_RUN idle periods' first events; the figure compares
medians (p50), the goal is at most 3×, and shows how much of each was the broker's acknowledgement
of the publish and the worker's writing of the totals."""

import asyncio
import os
import random
import re
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import orjson
from aiokafka import AIOKafkaProducer
from rich.progress import Progress

from bench.analytics import end_offsets, following, worker
from bench.harness import AtMost, Figure, Infra, Options, Sample, alternate, cpu_seconds, sample
from services.analytics.topics import CHANGELOGS, TOTALS_TABLE
from services.shared.events.complaints import ComplaintFiled
from services.shared.events.envelope import encode, wrap
from services.shared.kafka import ensure_topics, make_producer
from services.shared.settings import PlatformSettings
from services.shared.topics import ALL_TOPICS, COMPLAINTS
from tests.support.builders import example
from tests.support.infra import kafka_broker

IDLE_CLOSE_MS = 5_000  # the broker's connections.max.idle.ms here
IDLE_S = 15.0  # each idle period: three times that, so every idle connection is closed
IDLES_PER_RUN = 5
WARM_EVENTS = 10  # per warm run, times --scale (at least 3)
STORE, REGION = "bench-idle-store", "bench-idle-region"
TIMEOUT_S = 120.0
GOAL = AtMost(3)


@dataclass
class Counted:
    """Follows the worker's totals changelog: when each complaints offset of the store was counted."""

    # complaints offset → when its totals were written (the record's timestamp, s since the epoch) and seen (perf_counter)
    waiting: dict[int, asyncio.Future[tuple[float, float]]] = field(default_factory=dict)
    latest: tuple[int, tuple[float, float]] = (-1, (0.0, 0.0))  # the last offset seen counted, and when

    def seen(self, counted_up_to: int, written_ms: int) -> None:
        self.latest = counted_up_to, (written_ms / 1000, time.perf_counter())
        for offset in [offset for offset in self.waiting if offset <= counted_up_to]:
            self.waiting.pop(offset).set_result(self.latest[1])

    def when(self, offset: int) -> asyncio.Future[tuple[float, float]]:
        """When the offset was counted (it may have been before its producer heard it was delivered)."""
        future = asyncio.get_running_loop().create_future()
        if offset <= self.latest[0]:
            future.set_result(self.latest[1])
        else:
            self.waiting[offset] = future
        return future


@dataclass
class Bench:
    platform: PlatformSettings
    producer: AIOKafkaProducer
    counted: Counted
    pid: int
    warm_events: int
    progress: Progress
    jitter: random.Random = field(default_factory=lambda: random.Random(6))
    # by process ("worker", "publisher"): its broker connections before each idle period, and how many of them were replaced
    replaced: dict[str, list[tuple[int, int]]] = field(default_factory=lambda: {"worker": [], "publisher": []})
    # by kind ("warm", "after idle"): seconds from the publish to the broker's acknowledgement, and to the totals written
    parts: dict[str, list[tuple[float, float]]] = field(default_factory=lambda: {"warm": [], "after idle": []})


async def run(infra: Infra, options: Options, progress: Progress) -> list[Figure]:
    warm_events = max(3, round(WARM_EVENTS * options.scale))
    properties = {"connections.max.idle.ms": str(IDLE_CLOSE_MS)}
    with tempfile.TemporaryDirectory(prefix="bench-b6-") as directory, \
            kafka_broker(Path(directory) / "kafka", properties=properties) as bootstrap:
        platform = PlatformSettings(kafka_bootstrap_servers=bootstrap)
        ensure_topics(platform, [*ALL_TOPICS, *CHANGELOGS.values()])
        totals = CHANGELOGS[TOTALS_TABLE]
        start = await end_offsets(platform, (totals,))
        producer, counted = make_producer(platform, client_id="bench-idle"), Counted()
        await producer.start()
        try:
            async with following(platform, totals, start) as changelog, \
                    worker(platform, Path(directory) / "analytics") as process:
                follower = asyncio.create_task(_follow(changelog, counted))
                bench = Bench(platform, producer, counted, process.process.pid, warm_events, progress)
                await _counted_once(bench, timeout_s=TIMEOUT_S)  # the worker has joined and counts
                task = progress.add_task("B6 idle", total=options.rounds * (IDLES_PER_RUN * IDLE_S + warm_events))
                figure = Figure(
                    f"B6 idle · first event after {IDLE_S:.0f} s idle (the broker closes connections idle "
                    f"{IDLE_CLOSE_MS / 1000:.0f} s) ÷ a warm one", "complaint.filed → counted, after idle",
                    "the same, warm", "events/s", GOAL,
                )
                figure.rounds = await alternate(
                    options.rounds, lambda: _warm(bench, lambda: progress.advance(task, 1)),
                    lambda: _after_idle(bench, lambda: progress.advance(task, IDLE_S)), compared="p50_ms",
                )
                progress.remove_task(task)
                follower.cancel()
        finally:
            await producer.stop()
    shown = "; ".join(f"{name} {sum(r for _, r in counts)} of {sum(n for n, _ in counts)}"
                      for name, counts in bench.replaced.items())
    figure.subject += f" ({_parts(bench.parts['after idle'])}; broker connections closed and opened again while idle: {shown})"
    figure.baseline += f" ({_parts(bench.parts['warm'])})"
    return [figure]


def _parts(parts: list[tuple[float, float]]) -> str:
    acknowledged, written = (statistics.median(part) * 1000 for part in zip(*parts, strict=True))
    return f"p50 publish acknowledged after {acknowledged:.0f} ms, totals written after {written:.0f} ms"


async def _follow(changelog, counted: Counted) -> None:
    while True:
        for part in (await changelog.getmany(timeout_ms=1000)).values():
            for record in part:
                if record.key == STORE.encode():
                    counted.seen(orjson.loads(record.value)["offsets"].get(COMPLAINTS.name, -1), record.timestamp)


async def _counted_once(bench: Bench, timeout_s: float = 30.0) -> tuple[float, float, float]:
    """Publishes one complaint.filed and waits until the worker counted it; the seconds until the
    broker acknowledged it, until the worker wrote the totals counting it, and until they were seen."""
    now = datetime.now(UTC)
    event = example(ComplaintFiled, store_id=STORE, region_id=REGION, complaint_id=uuid4(), filed_at=now)
    envelope = wrap(event, source="/bench", time=now)
    started, started_epoch = time.perf_counter(), time.time()
    async with asyncio.timeout(timeout_s):
        delivered = await (await bench.producer.send(COMPLAINTS.name, encode(envelope), key=COMPLAINTS.key(event)))
        acknowledged = time.perf_counter()
        written_epoch, seen = await bench.counted.when(delivered.offset)
    return acknowledged - started, written_epoch - started_epoch, seen - started


async def _warm(bench: Bench, advance: Callable[[], None]) -> Sample:
    await _counted_once(bench)

    async def warm() -> tuple[float, float, float]:
        await asyncio.sleep(bench.jitter.uniform(0, 0.5))
        return await _counted_once(bench)

    return await _measured(bench, "warm", bench.warm_events, warm, advance)


async def _after_idle(bench: Bench, advance: Callable[[], None]) -> Sample:
    processes = {"worker": bench.pid, "publisher": os.getpid()}

    async def after_idle() -> tuple[float, float, float]:
        before = {name: broker_connections(pid, bench.platform) for name, pid in processes.items()}
        await asyncio.sleep(IDLE_S)
        for name, pid in processes.items():
            bench.replaced[name].append((len(before[name]), len(before[name] - broker_connections(pid, bench.platform))))
        return await _counted_once(bench)

    return await _measured(bench, "after idle", IDLES_PER_RUN, after_idle, advance)


async def _measured(bench: Bench, kind: str, events: int, latency: Callable[[], Awaitable[tuple[float, float, float]]],
                    advance: Callable[[], None]) -> Sample:
    latencies, cpu, own = [], cpu_seconds(bench.pid), time.process_time()
    for _ in range(events):
        acknowledged, written, seen = await latency()
        bench.parts[kind].append((acknowledged, written))
        latencies.append(seen)
        advance()
    return sample(events, sum(latencies), latencies, cpu_seconds(bench.pid) - cpu, time.process_time() - own)


def broker_connections(pid: int, platform: PlatformSettings) -> set[int]:
    """The local ports of the process's established TCP connections to the broker."""
    port = int(platform.kafka_bootstrap_servers.split(",")[0].rsplit(":", 1)[1])
    sockets = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            if match := re.fullmatch(r"socket:\[(\d+)\]", os.readlink(fd)):
                sockets.add(match.group(1))
        except OSError:
            continue  # closed meanwhile
    established = set()
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            columns = line.split()
            if int(columns[2].rsplit(":", 1)[1], 16) == port and columns[3] == "01" and columns[9] in sockets:
                established.add(int(columns[1].rsplit(":", 1)[1], 16))
    return established

