"""B2 routing: N complaint.filed events, produced beforehand as the complaints service publishes them,
read by the escalation worker as operators run it (python -m services.escalation, its clock stopped:
ESCALATION_TICK_SECONDS=0), until every record it writes for them is on its topic: the routing decision
(and a page) on `escalations`, the observations (a record per region and batch), the `cases`
changelog, and what the common-problem detector writes for the observations (its `watches` changelog, a
problem now and then). A complaint's routing mark is its case (the `routed` table takes it only when the
case is forgotten, with the clock stopped never). Every store has a roster on duty, so routing reads one.

The baseline (bench.routing_baseline, its own process) reads the same records in its own consumer
group, validates each envelope with the contracts, and writes for each the records the worker wrote per
input: as many, as large, to topics of the same shape, with an idempotent producer (acks=all), awaiting
every delivery of a batch before committing its offsets. How many and how large is counted on the
topics after a first, unmeasured run of the worker, not assumed.

A run's figure is its inputs ÷ the time from its first record written to its last (the records' own
timestamps), so the processes' start-up and the harness's polling are not counted."""

import asyncio
import contextlib
import json
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from uuid import uuid4

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from rich.progress import Progress

from bench.harness import Figure, Goal, Infra, Options, Sample, alternate, cpu_seconds, profiled, skip_to_end
from services.escalation.topics import APP_ID, CHANGELOGS, INTERNAL_TOPICS, OBSERVATIONS
from services.shared.events.complaints import ComplaintFiled
from services.shared.events.envelope import Envelope, wrap
from services.shared.kafka import ensure_topics, make_producer, publish
from services.shared.settings import PlatformSettings
from services.shared.topics import ALL_TOPICS, COMPLAINTS, COORDINATION, ESCALATIONS, Topic
from tests.support import ServiceProcess, eventually
from tests.support.escalation import Worker, publish_roster, worker_has_read
from tests.support.infra import REPO

INPUTS = 10_000  # complaints per measured run, times --scale
GOAL = Goal(0.5)
BASELINE_GROUP = "bench-routing-baseline"
# Eight stores of one region, each with a roster on duty.
STORES = {f"bench-store-{n}": "bench-region" for n in range(1, 9)}
ON_DUTY = [(f"emp-{n:04d}", "associate") for n in range(1, 6)] + [("crd-0001", "coordinator"), ("mgr-0001", "store_manager")]
# What the worker writes to for complaints: its decisions, its detector's problems, its observations and its
# tables' changelogs (not the rosters', written when a roster is published).
WRITTEN = (ESCALATIONS, COORDINATION, OBSERVATIONS, *(c for table, c in CHANGELOGS.items() if table != "rosters"))


def filed(count: int) -> list[Envelope]:
    """New complaints as the complaints service publishes them: three in four as filed in B1 (medium
    severity, upset), one in four the contract's example (a high-severity angry refund to the store
    manager), every other one of those critical (which pages the manager on duty)."""
    example = ComplaintFiled.model_config["json_schema_extra"]["examples"][0]
    b1 = {**example, "category": "product_quality", "severity": "medium", "mood": "upset", "amount": None,
          "product_category": None, "prior_complaints_30d": 0}
    stores, now, envelopes = list(STORES.items()), datetime.now(UTC), []
    for n in range(count):
        store, region = stores[n % len(stores)]
        event = ComplaintFiled.model_validate({
            **(example if n % 4 == 3 else b1), **({"severity": "critical"} if n % 8 == 7 else {}),
            "complaint_id": str(uuid4()), "store_id": store, "region_id": region, "customer_ref": f"cref_{uuid4().hex}",
            "filed_at": now.isoformat(),
        })
        envelopes.append(wrap(event, source="/services/complaints", time=now, subject=str(event.complaint_id)))
    return envelopes


@dataclass(frozen=True)
class Written:
    """What one side wrote per input to one topic, counted on the topic."""

    topic: str
    per_input: float
    key_bytes: int
    value_bytes: int


def baseline_topic(topic: Topic) -> Topic:
    """A topic shaped as the worker's (partitions, clean-up) for the baseline's writes."""
    return Topic(f"bench.baseline.{topic.name}", topic.description, topic.partitions, topic.key_field,
                 topic.cleanup_policy, topic.retention_ms, ())


class Topics:
    """Reads where topics end and what their records are, without a consumer group."""

    def __init__(self, bootstrap: str) -> None:
        self.consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)

    async def __aenter__(self) -> "Topics":
        await self.consumer.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.consumer.stop()

    async def ends(self, topics: tuple[Topic, ...]) -> dict[TopicPartition, int]:
        return await self.consumer.end_offsets([TopicPartition(t.name, p) for t in topics for p in range(t.partitions)])

    async def between(self, start: dict[TopicPartition, int], end: dict[TopicPartition, int], *,
                      edges_only: bool = False) -> list[ConsumerRecord]:
        """The records from `start` to `end` (exclusive) of each partition; with `edges_only`, only each
        partition's first and last of them."""
        wanted = {tp: (start.get(tp, 0), end[tp]) for tp in end if end[tp] > start.get(tp, 0)}
        if not wanted:
            return []
        self.consumer.assign(list(wanted))
        found: list[ConsumerRecord] = []
        for tp, (first, _) in wanted.items():
            self.consumer.seek(tp, first)
        left = dict(wanted)
        while left:
            for tp, records in (await self.consumer.getmany(*left, timeout_ms=1000)).items():
                first, last = left[tp]
                kept = [r for r in records if r.offset < last]
                found += [r for r in kept if r.offset in (first, last - 1)] if edges_only else kept
                if edges_only and kept and kept[0].offset < last - 1:
                    self.consumer.seek(tp, last - 1)
                    left[tp] = (last - 1, last)
                if records and records[-1].offset >= last - 1:
                    del left[tp]
        return found


@dataclass
class Bench:
    platform: PlatformSettings
    worker: Worker
    options: Options
    progress: Progress
    topics: Topics
    inputs: int
    written: list[Written] = field(default_factory=list)  # the worker's, per input, counted by `calibrate`
    unread: dict[str, int] = field(default_factory=lambda: {"baseline": 0, "subject": 0})
    runs: int = 0


async def run(infra: Infra, options: Options, progress: Progress) -> list[Figure]:
    platform = PlatformSettings(kafka_bootstrap_servers=infra.bootstrap)
    ensure_topics(platform, ALL_TOPICS + INTERNAL_TOPICS + tuple(baseline_topic(t) for t in WRITTEN))
    for store, region in STORES.items():
        await publish_roster(platform, store, region, ON_DUTY)
    worker = Worker(platform, tempfile.mkdtemp(prefix="bench-routing-"))  # logging at its default level, as operators run it
    inputs = max(100, round(INPUTS * options.scale))
    figure = Figure(f"B2 routing · {inputs:,} complaints", "escalation worker", "aiokafka loop, same writes", "inputs/s", GOAL)
    task = progress.add_task(figure.name, total=options.rounds * 2 + 1)  # the calibration counts as one
    async with Topics(infra.bootstrap) as topics:
        bench = Bench(platform, worker, options, progress, topics, inputs)
        try:
            bench.written = await calibrate(bench, max(100, inputs // 4))
            progress.advance(task)
            progress.console.print("B2: the worker wrote per complaint " + ", ".join(
                f"{w.topic} {w.per_input:.3g} × {w.key_bytes}+{w.value_bytes} B" for w in bench.written))
            figure.rounds = await alternate(
                options.rounds,
                lambda: _advancing(measure(bench, "baseline"), progress, task),
                lambda: _advancing(measure(bench, "subject"), progress, task),
            )
        except Exception:
            if worker.process is not None:
                progress.console.print("--- the worker's last output ---", worker.last_words(), sep="\n")
            raise
    progress.remove_task(task)
    figure.subject = f"escalation worker ({sum(w.per_input for w in bench.written):.2f} records/input)"
    return [figure]


async def _advancing(measuring, progress: Progress, task) -> Sample:
    measured = await measuring
    progress.advance(task)
    return measured


async def calibrate(bench: Bench, inputs: int) -> list[Written]:
    """Runs the worker over as many complaints as a measured run, then over `inputs` more, and counts
    what it wrote per input of the second run to each topic, and how large. The first run fills its
    state as a worker's that has been running a while: the common-problem detector's watches keep the
    last 2,000 ids of each region and kind, and are as large as that from then on."""
    for run in (bench.inputs, inputs):
        before = await bench.topics.ends(WRITTEN)
        await _produce(bench, run)
        await _side(bench, "subject", before, run)
    bench.unread = {"baseline": 0, "subject": 0}  # the baseline group skips the calibration's complaints
    await skip_to_end(bench.platform.kafka_bootstrap_servers, BASELINE_GROUP, (COMPLAINTS,))
    after = await bench.topics.ends(WRITTEN)
    records = await bench.topics.between(before, after)
    written = []
    for topic in WRITTEN:
        mine = [r for r in records if r.topic == topic.name]
        if mine:
            written.append(Written(
                topic.name, len(mine) / inputs, round(sum(len(r.key or b"") for r in mine) / len(mine)),
                round(sum(len(r.value or b"") for r in mine) / len(mine)),
            ))
    if not any(w.topic == ESCALATIONS.name for w in written):
        raise RuntimeError(f"the worker wrote no decision for {inputs} complaints:\n{bench.worker.last_words()}")
    return written


async def measure(bench: Bench, side: str) -> Sample:
    """One run of `side` over `bench.inputs` complaints no one of its group has read yet (produced when
    the side finds none left: each round's two runs read the same complaints)."""
    if bench.unread[side] == 0:
        await _produce(bench, bench.inputs)
        bench.unread = {name: unread + bench.inputs for name, unread in bench.unread.items()}
    bench.unread[side] -= bench.inputs
    written = WRITTEN if side == "subject" else tuple(baseline_topic(t) for t in WRITTEN)
    before = await bench.topics.ends(written)
    bench.runs += 1
    return await _side(bench, side, before, bench.inputs)


async def _side(bench: Bench, side: str, before: dict[TopicPartition, int], inputs: int) -> Sample:
    written = tuple(TopicPartition(tp.topic, tp.partition) for tp in before)
    topics = WRITTEN if side == "subject" else tuple(baseline_topic(t) for t in WRITTEN)
    window = [time.time()]
    process = bench.worker.start() if side == "subject" else _start_baseline(bench)
    pid, client_cpu = process.process.pid, time.process_time()
    try:
        with contextlib.ExitStack() as stack:
            await _first_write(bench, process, topics, before)  # started: the profile and CPU count the load only
            if side == "subject" and bench.runs:
                stack.enter_context(profiled(pid, bench.options, f"b2-subject-{bench.runs}"))
            server_cpu = cpu_seconds(pid)
            group, read = (APP_ID, (COMPLAINTS, OBSERVATIONS)) if side == "subject" else (BASELINE_GROUP, (COMPLAINTS,))
            await eventually(lambda: _alive_and_read(process, bench.platform, read, group), timeout_s=600,
                             what=f"the {side} to read every complaint")
            after = await _settled(bench, topics)
            window.append(time.time())
            server_cpu = cpu_seconds(pid) - server_cpu
    finally:
        process.stop()
    if side == "baseline":  # done before the harness sees its first write: it counts its CPU itself
        server_cpu = next(json.loads(line)["cpu_s"] for line in process.logs().splitlines() if line.startswith('{"cpu_s"'))
    assert set(after) == set(written)
    edges = await bench.topics.between(before, after, edges_only=True)
    first, last = min(r.timestamp for r in edges) / 1000, max(r.timestamp for r in edges) / 1000
    if not window[0] - 1 <= first <= last <= window[1] + 1:  # timestamps are the writers' clocks: the same machine's
        raise RuntimeError(f"the {side}'s records are stamped {first:.1f}–{last:.1f}, outside its run {window}")
    seconds = last - first
    return Sample(inputs / seconds, 0.0, 0.0, inputs, server_cpu / inputs * 1000,
                  (time.process_time() - client_cpu) / inputs * 1000)


async def _first_write(bench: Bench, process: ServiceProcess, topics: tuple[Topic, ...], before: dict) -> None:
    async def written() -> bool:
        assert process.process.poll() is None, process.logs()[-3000:]
        return any(end > before[tp] for tp, end in (await bench.topics.ends(topics)).items())

    await eventually(written, timeout_s=120, what="the first record written")


async def _alive_and_read(process: ServiceProcess, platform: PlatformSettings, topics, group: str) -> bool:
    assert process.process.poll() is None, process.logs()[-3000:]
    return await worker_has_read(platform, *topics, group=group)


async def _settled(bench: Bench, topics: tuple[Topic, ...], quiet_s: float = 1.0) -> dict[TopicPartition, int]:
    """The topics' ends once they have not moved for `quiet_s`: the records written after the last
    input was committed (a table's changelog, the detector's writes) are in."""
    ends, since = await bench.topics.ends(topics), time.monotonic()
    while time.monotonic() - since < quiet_s:
        await asyncio.sleep(0.1)
        if (now := await bench.topics.ends(topics)) != ends:
            ends, since = now, time.monotonic()
    return ends


def _start_baseline(bench: Bench) -> ServiceProcess:
    plan = [[baseline_topic(_topic(w.topic)).name, w.per_input, w.key_bytes, w.value_bytes] for w in bench.written]
    return ServiceProcess("bench.routing_baseline", {
        "RETAIL_KAFKA_BOOTSTRAP_SERVERS": bench.platform.kafka_bootstrap_servers, "BENCH_GROUP": BASELINE_GROUP,
        "BENCH_WRITES": json.dumps(plan), "PYTHONPATH": str(REPO),
    })


def _topic(name: str) -> Topic:
    return next(t for t in WRITTEN if t.name == name)


async def _produce(bench: Bench, count: int) -> None:
    producer = make_producer(bench.platform, client_id="bench-routing")
    await producer.start()
    try:
        await publish(producer, COMPLAINTS, filed(count), bench.platform)
    finally:
        await producer.stop()
