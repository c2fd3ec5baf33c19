"""B4 analytics: events per second the analytics worker counts into its stores' totals and windows,
run as operators run it (python -m services.analytics: faust, RocksDB tables, acks=all, idempotent),
against bench.analytics_baseline, a plain aiokafka loop doing the same durable I/O.

On a broker of its own (the worker reads the registry's topics from their start, so another
benchmark's events there would be counted too). Each round pre-produces N events of the mix the
worker counts (per complaint: filed, routed, acknowledged, paged, resolved, CSAT; and two returns,
one approved, one rejected) over 48 stores; then the worker, restarted with its state, counts
them, and the baseline reads the same N. A warm-up run first measures what the worker writes per
input, from its topics' offsets (its tables' changelogs, its signals, the dead-letter queues): that
is what the baseline writes.

Counted, for the worker, is what its totals changelog says it counted (each store's totals carry
the last offset counted per topic, and are written only after the batch's windows were delivered);
for the baseline, what it committed. Both are timed from the progress point that passed 10% of N
to the last, so joining the group and the first batch are left out alike. No latencies: the
events were all there before either started."""

import asyncio
import bisect
import contextlib
import itertools
import json
import os
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition
from rich.progress import Progress

from bench.harness import Figure, Goal, Infra, Options, Sample, alternate, cpu_seconds, profiled
from services.analytics.topics import CHANGELOGS, SOURCES, TOTALS_TABLE
from services.shared.events import complaints as c
from services.shared.events import escalations as e
from services.shared.events import returns as r
from services.shared.events.envelope import Envelope, encode, wrap
from services.shared.kafka import ensure_topics, make_producer
from services.shared.settings import PlatformSettings
from services.shared.topics import ALL_TOPICS, COMPLAINTS, ESCALATIONS, RETURNS, SIGNALS, Topic
from tests.support import ServiceProcess
from tests.support.builders import example
from tests.support.infra import REPO, free_port, kafka_broker

EVENTS = 20_000  # per measured run, times --scale
STORES, REGIONS, STAFF = 48, 4, 4
MEASURED_FROM = 0.1  # of N: timing starts at the progress point that passed it
TIMEOUT_S = 600.0
GOAL = Goal(0.5)
# What the worker may write per input: its tables' changelogs, its signals, the dead-letter queues.
WRITTEN = (*CHANGELOGS.values(), SIGNALS, *(topic.dlq for topic in SOURCES))
BASELINE_GROUP = "bench-analytics-baseline"


def baseline_topic(topic: Topic) -> Topic:
    """Where the baseline writes what the worker writes on `topic`: a topic of its own, shaped alike."""
    return Topic(f"bench-baseline.{topic.name}", topic.description, topic.partitions, topic.key_field,
                 topic.cleanup_policy, topic.retention_ms, ())


@dataclass
class Produced:
    """One run's events: how many, and per store and topic the offsets they got, sorted."""

    count: int
    offsets: dict[tuple[str, str], list[int]]

    def counted(self, store: str, last_counted: dict[str, int]) -> int:
        """How many of the store's events a totals value that counted up to `last_counted` includes."""
        return sum(bisect.bisect_right(self.offsets.get((store, topic), []), offset)
                   for topic, offset in last_counted.items())


@dataclass(frozen=True)
class Write:
    topic: Topic
    per_input: float
    mean_bytes: int  # key and value


@dataclass
class Bench:
    platform: PlatformSettings
    data_dir: Path
    events: int
    options: Options
    advance: Callable[[float], None]
    writes: list[Write] = field(default_factory=list)
    produced: list[Produced] = field(default_factory=list)  # by run: the warm-up's, then each round's
    runs: defaultdict[str, int] = field(default_factory=lambda: defaultdict(int))  # by side


async def run(infra: Infra, options: Options, progress: Progress) -> list[Figure]:
    events = max(100, round(EVENTS * options.scale))
    with tempfile.TemporaryDirectory(prefix="bench-b4-") as directory, kafka_broker(Path(directory) / "kafka") as bootstrap:
        platform = PlatformSettings(kafka_bootstrap_servers=bootstrap)
        ensure_topics(platform, [*ALL_TOPICS, *CHANGELOGS.values()])
        task = progress.add_task("B4 analytics", total=((options.rounds + 1) * 2 + (options.profile is not None)) * events)
        bench = Bench(platform, Path(directory) / "analytics", events, options, lambda n: progress.advance(task, n))

        # Warm-up, unmeasured: the worker's write pattern per input, then the baseline on the same events.
        await bench_events(bench, "subject")
        warm = await count_with_worker(bench, measure_writes=True)
        progress.console.print(f"B4: worker warm-up {warm.rate:,.0f} events/s; it wrote per input: " + ", ".join(
            f"{w.topic.name} {w.per_input:.3f} × {w.mean_bytes:,} B" for w in bench.writes if w.per_input))
        ensure_topics(platform, [baseline_topic(w.topic) for w in bench.writes if w.per_input])
        await bench_events(bench, "baseline")
        await count_with_baseline(bench)

        pattern = " + ".join(f"{w.per_input:.2f} × {w.mean_bytes:,} B" for w in bench.writes if w.per_input)
        figure = Figure(f"B4 analytics · {events:,} events · {STORES} stores", "python -m services.analytics",
                        f"aiokafka loop writing {pattern or 'nothing'} per input", "events/s", GOAL)
        figure.rounds = await alternate(
            options.rounds,
            lambda: bench_events(bench, "baseline", count_with_baseline),
            lambda: bench_events(bench, "subject", count_with_worker),
        )
        if options.profile is not None:
            progress.console.print("B4: one more run of the worker, profiled (not in the figure)")
            await bench_events(bench, "subject")
            await count_with_worker(bench, profile="b4-subject")
        progress.remove_task(task)
    return [figure]


async def bench_events(bench: Bench, side: str, then: Callable[[Bench], Awaitable[Sample]] | None = None) -> Sample | None:
    """The side's next run's events (produced by whichever side reaches a run first), then `then`."""
    number = bench.runs[side]
    bench.runs[side] += 1
    if number == len(bench.produced):
        bench.produced.append(await produce(bench.platform, bench.events))
    return None if then is None else await then(bench)


def mix(count: int) -> list[tuple[Topic, Envelope]]:
    """`count` events of what the worker counts, store after store, each complaint's and return's in order."""
    now = datetime.now(UTC)
    events: list[tuple[Topic, Envelope]] = []
    for n in itertools.count():
        store = {"store_id": f"bench-store-{n % STORES:02d}", "region_id": f"bench-region-{n % STORES % REGIONS}"}
        staff = f"emp-{n % STAFF:04d}"
        complaint, returned, rejected = uuid4(), uuid4(), uuid4()
        about = {**store, "complaint_id": complaint, "at": now}
        story = [
            (COMPLAINTS, example(c.ComplaintFiled, **store, complaint_id=complaint, filed_at=now, filed_by=staff)),
            (ESCALATIONS, example(e.EscalationRouted, **about)),
            (COMPLAINTS, example(c.ComplaintAcknowledged, **about, by=staff)),
            (ESCALATIONS, example(e.EscalationPaged, **about, page_id=uuid4())),
            (COMPLAINTS, example(c.ComplaintResolved, **about)),
            (COMPLAINTS, example(c.CsatSubmitted, **about, score=1 + n % 5)),
            (RETURNS, example(r.ReturnRequested, **store, return_id=returned, requested_by=staff, at=now)),
            (RETURNS, example(r.ReturnApproved, **store, return_id=returned, at=now)),
            (RETURNS, example(r.ReturnRequested, **store, return_id=rejected, requested_by=staff, at=now)),
            (RETURNS, example(r.ReturnRejected, **store, return_id=rejected, at=now)),
        ]
        for topic, event in story:
            if len(events) == count:
                return events
            events.append((topic, wrap(event, source="/bench", time=now)))
    raise AssertionError("unreachable")


async def produce(platform: PlatformSettings, count: int) -> Produced:
    producer = make_producer(platform, client_id="bench-b4")
    await producer.start()
    try:
        events = mix(count)
        sends = [await producer.send(topic.name, encode(envelope), key=topic.key(envelope.data)) for topic, envelope in events]
        delivered = await asyncio.gather(*sends)
    finally:
        await producer.stop()
    offsets: dict[tuple[str, str], list[int]] = defaultdict(list)
    for (topic, envelope), metadata in zip(events, delivered, strict=True):
        offsets[envelope.data.store_id, topic.name].append(metadata.offset)
    return Produced(count, {key: sorted(found) for key, found in offsets.items()})


@dataclass
class Progressed:
    """Progress points of one run: when, how many of its events were counted, the counting process's
    CPU and the harness's."""

    points: list[tuple[float, int, float, float]] = field(default_factory=list)

    def add(self, counted: int, pid: int) -> None:
        self.points.append((time.perf_counter(), counted, cpu_seconds(pid), time.process_time()))

    def sample(self, events: int) -> Sample:
        start = next(i for i, (_, counted, _, _) in enumerate(self.points) if counted >= MEASURED_FROM * events)
        start = min(start, len(self.points) - 2)  # a tiny run may be counted at once: from the worker's start
        measured = self.points[start:]
        (t0, c0, cpu0, own0), (t1, c1, cpu1, own1) = measured[0], measured[-1]
        return Sample(rate=(c1 - c0) / (t1 - t0), p50_ms=0.0, p99_ms=0.0, count=c1 - c0,
                      server_cpu_ms=(cpu1 - cpu0) / (c1 - c0) * 1000, client_cpu_ms=(own1 - own0) / (c1 - c0) * 1000)


async def count_with_worker(bench: Bench, *, measure_writes: bool = False, profile: str | None = None) -> Sample:
    """Starts the worker on its data directory, follows its totals changelog until every event of the
    run is counted, stops it. `measure_writes`: sets `bench.writes` from what it wrote per input."""
    produced = bench.produced[bench.runs["subject"] - 1]
    before = await end_offsets(bench.platform, WRITTEN)
    progressed, by_store, profiling_started = Progressed(), {}, False
    changelog_of_totals = following(bench.platform, CHANGELOGS[TOTALS_TABLE], before)
    async with changelog_of_totals as changelog, worker(bench.platform, bench.data_dir) as process:
        pid = process.process.pid
        progressed.add(0, pid)
        with contextlib.ExitStack() as profiling:
            deadline = time.monotonic() + TIMEOUT_S
            while sum(by_store.values()) < produced.count:
                if process.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the worker counted {sum(by_store.values())} of {produced.count}:\n"
                                       + "\n".join(process.logs().splitlines()[-30:]))
                records = [record for part in (await changelog.getmany(timeout_ms=200)).values() for record in part]
                if not records:
                    continue
                for record in records:
                    by_store[record.key.decode()] = produced.counted(record.key.decode(), orjson.loads(record.value)["offsets"])
                counted = sum(by_store.values())
                bench.advance(counted - (progressed.points[-1][1] if progressed.points else 0))
                progressed.add(counted, pid)
                if profile is not None and not profiling_started and counted >= MEASURED_FROM * produced.count:
                    profiling.enter_context(profiled(pid, bench.options, profile))
                    profiling_started = True
    if measure_writes:
        after = await end_offsets(bench.platform, WRITTEN)
        sizes = await mean_sizes(bench.platform, before, after, WRITTEN)
        bench.writes = [Write(topic, written(before, after, topic) / produced.count, sizes.get(topic.name, 0))
                        for topic in WRITTEN]
    return progressed.sample(produced.count)


async def count_with_baseline(bench: Bench) -> Sample:
    produced = bench.produced[bench.runs["baseline"] - 1]
    writes = [[baseline_topic(w.topic).name, w.per_input, w.mean_bytes] for w in bench.writes if w.per_input]
    with tempfile.TemporaryFile() as errors:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.analytics_baseline", cwd=REPO, stdout=asyncio.subprocess.PIPE, stderr=errors,
            env={**os.environ, "RETAIL_KAFKA_BOOTSTRAP_SERVERS": bench.platform.kafka_bootstrap_servers,
                 "BENCH_EVENTS": str(produced.count), "BENCH_GROUP": BASELINE_GROUP, "BENCH_WRITES": json.dumps(writes)},
        )
        progressed = Progressed()
        progressed.add(0, process.pid)
        try:
            async with asyncio.timeout(TIMEOUT_S):
                while line := await process.stdout.readline():
                    counted = int(line.split()[1])
                    bench.advance(counted - (progressed.points[-1][1] if progressed.points else 0))
                    progressed.add(counted, process.pid)
                await process.wait()
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        if process.returncode != 0 or progressed.points[-1][1] < produced.count:
            errors.seek(0)
            raise RuntimeError(f"the baseline stopped ({process.returncode}):\n{errors.read().decode(errors='replace')[-3000:]}")
    return progressed.sample(produced.count)


@contextlib.asynccontextmanager
async def worker(platform: PlatformSettings, data_dir: Path) -> AsyncIterator[ServiceProcess]:
    """The analytics worker as operators run it, on `data_dir`, for the block."""
    process = ServiceProcess("services.analytics", {
        "RETAIL_KAFKA_BOOTSTRAP_SERVERS": platform.kafka_bootstrap_servers, "ANALYTICS_DATA_DIR": str(data_dir),
        "ANALYTICS_PORT": str(free_port()), "ANALYTICS_INSTANCE_ID": "bench-analytics",
    })
    try:
        yield process
    finally:
        process.stop()


@contextlib.asynccontextmanager
async def following(platform: PlatformSettings, topic: Topic,
                    start: dict[tuple[str, int], int]) -> AsyncIterator[AIOKafkaConsumer]:
    """A consumer of every partition of the topic, from the given offsets, by (topic, partition)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=platform.kafka_bootstrap_servers, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic.name, p) for p in range(topic.partitions)]
        consumer.assign(partitions)
        for partition in partitions:
            consumer.seek(partition, start[partition.topic, partition.partition])
        yield consumer
    finally:
        await consumer.stop()


async def end_offsets(platform: PlatformSettings, topics: tuple[Topic, ...]) -> dict[tuple[str, int], int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=platform.kafka_bootstrap_servers, enable_auto_commit=False)
    await consumer.start()
    try:
        ends = await consumer.end_offsets([TopicPartition(t.name, p) for t in topics for p in range(t.partitions)])
    finally:
        await consumer.stop()
    return {(tp.topic, tp.partition): offset for tp, offset in ends.items()}


def written(before: dict[tuple[str, int], int], after: dict[tuple[str, int], int], topic: Topic) -> int:
    return sum(after[topic.name, p] - before[topic.name, p] for p in range(topic.partitions))


async def mean_sizes(platform: PlatformSettings, before: dict[tuple[str, int], int], after: dict[tuple[str, int], int],
                     topics: tuple[Topic, ...]) -> dict[str, int]:
    """The mean size (key and value) of the records written on each topic between the offsets."""
    sizes = {}
    for topic in topics:
        if not (expected := written(before, after, topic)):
            continue
        total = seen = 0
        async with following(platform, topic, before) as consumer:
            while seen < expected:
                for part in (await consumer.getmany(timeout_ms=500)).values():
                    for record in part:
                        if record.offset < after[record.topic, record.partition]:
                            total += len(record.key or b"") + len(record.value or b"")
                            seen += 1
        sizes[topic.name] = round(total / seen)
    return sizes
