"""B3 end to end: complaints filed at a steady offered rate (50% and 80% of B1's maximum, from B1's
figures of the same run, or measured quickly first when B1 did not run) for 60 s (times --scale), each
from its HTTP 201 by the complaints API as operators run it (its outbox relay on) to its routing
decision on `escalations`, written by the escalation worker as operators run it; p50, p95 and p99, and
the complaints answered 201 whose decision never came (lost). The load is open: each request leaves at
its time whether or not the ones before it were answered, so a slow pipeline shows in the latency
instead of slowing the load down.

The baseline is the broker's own round trip at the same rate: one record produced (the services'
idempotent producer, acks=all) and consumed by the same reader, from the send to its arrival. The goal
is on the p99s: the pipeline's at most 3× the broker's."""

import asyncio
import contextlib
import itertools
import tempfile
import time
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from uuid import uuid4

import aiohttp
import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition
from rich.progress import Progress

from bench import filing
from bench.harness import AtMost, Figure, Infra, Options, Sample, alternate, cpu_seconds, percentile, sample
from services.escalation.topics import INTERNAL_TOPICS
from services.shared.events.complaints import ComplaintFiled
from services.shared.events.escalations import EscalationRouted
from services.shared.kafka import ensure_topics, make_producer
from services.shared.principal import Role
from services.shared.settings import PlatformSettings
from services.shared.topics import ALL_TOPICS, COMPLAINTS, ESCALATIONS, STORE_PARTITIONS, Topic
from tests.support import eventually
from tests.support.complaints import add_stores, running_service
from tests.support.escalation import Worker, publish_roster

LOADS = (0.5, 0.8)  # of B1's maximum
SECONDS = 60  # per run, times --scale
GRACE_S = 30  # how long a decision may still come after the last request before it counts as lost
GOAL = AtMost(3)
REGION = "bench-e2e"
STORES = [f"bench-e2e-{n}" for n in range(1, 9)]
ON_DUTY = [(f"emp-{n:04d}", "associate") for n in range(1, 6)] + [("crd-0001", "coordinator"), ("mgr-0001", "store_manager")]
ROUND_TRIP = Topic("bench.round-trip", "B3's baseline: one record produced and consumed.", STORE_PARTITIONS, "store_id",
                   "delete", 3_600_000, ())
RECORD = b"x" * 700  # about a complaint.filed envelope


class Arrivals:
    """When each routing decision (by complaint id), each complaint's filing on the complaints topic (the
    relay's leg, `filed`) and each round-trip record (by key) arrived, read from the topics' ends by one
    consumer in the background."""

    def __init__(self, bootstrap: str) -> None:
        self.consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
        self.at: dict[str, float] = {}
        self.filed: dict[str, float] = {}
        self._task: asyncio.Task | None = None

    async def __aenter__(self) -> "Arrivals":
        await self.consumer.start()
        partitions = [TopicPartition(t.name, p) for t in (ESCALATIONS, COMPLAINTS, ROUND_TRIP) for p in range(t.partitions)]
        self.consumer.assign(partitions)
        await self.consumer.seek_to_end(*partitions)
        for tp in partitions:
            await self.consumer.position(tp)
        self._task = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *_: object) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        await self.consumer.stop()

    async def _read(self) -> None:
        routed, filed = EscalationRouted.event_type, ComplaintFiled.event_type
        while True:
            for records in (await self.consumer.getmany(timeout_ms=100)).values():
                arrived = time.perf_counter()
                for record in records:
                    if record.topic == ROUND_TRIP.name:
                        self.at[record.key.decode()] = arrived
                    elif (kind := (envelope := orjson.loads(record.value)).get("type")) == routed:
                        self.at[envelope["subject"]] = arrived
                    elif kind == filed:
                        self.filed[envelope["subject"]] = arrived

    async def wait(self, ids: list[str], timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and any(i not in self.at for i in ids):
            if self._task.done():
                self._task.result()  # the reader failed: its error, not a count of lost decisions
            await asyncio.sleep(0.1)


@dataclass
class Bench:
    api: object  # tests.support.complaints.Api
    worker: Worker
    arrivals: Arrivals
    platform: PlatformSettings
    tokens: dict[str, dict]
    options: Options
    progress: Progress
    customers: itertools.count


async def run(infra: Infra, options: Options, progress: Progress) -> list[Figure]:
    platform = PlatformSettings(kafka_bootstrap_servers=infra.bootstrap)
    ensure_topics(platform, ALL_TOPICS + INTERNAL_TOPICS + (ROUND_TRIP,))
    for store in STORES:
        await publish_roster(platform, store, REGION, ON_DUTY)
    database = await infra.new_database("bench_e2e")
    worker = Worker(platform, tempfile.mkdtemp(prefix="bench-e2e-"))  # logging at its default level, as operators run it
    worker.start()
    try:
        async with asynccontextmanager(running_service)(database, platform) as api, Arrivals(infra.bootstrap) as arrivals:
            await add_stores(api, REGION, STORES)
            bench = Bench(api, worker, arrivals, platform, {s: api.token(Role.associate, s) for s in STORES}, options,
                          progress, itertools.count())
            await _warm_up(bench)
            maximum = await _b1_maximum(infra, bench)
            seconds = max(5.0, SECONDS * options.scale)
            figures = []
            for share in LOADS:
                rate = share * maximum
                figure = Figure(f"B3 end to end · {share:.0%} of B1's {maximum:.0f} req/s", "HTTP 201 → routing decision",
                                "produce → consume one record", "req/s", GOAL)
                task = progress.add_task(figure.name, total=options.rounds * 2)
                figure.rounds = await alternate(
                    options.rounds,
                    lambda: _advancing(round_trip(bench, rate, seconds), progress, task),
                    lambda: _advancing(end_to_end(bench, rate, seconds), progress, task),
                    compared="p99_ms",
                )
                progress.remove_task(task)
                figure.subject += (f" · lost {sum(r.subject.lost for r in figure.rounds)}"
                                   f" · failed {sum(r.subject.failed for r in figure.rounds)}")
                figure.baseline += f" · lost {sum(r.baseline.lost for r in figure.rounds)}"
                figures.append(figure)
    except Exception:
        progress.console.print("--- the worker's last output ---", worker.last_words(), sep="\n")
        raise
    finally:
        worker.process.stop()
    return figures


async def _advancing(measuring: Awaitable[Sample], progress: Progress, task) -> Sample:
    measured = await measuring
    progress.advance(task)
    return measured


async def _warm_up(bench: Bench) -> None:
    """Until the worker answers and routes: a few filings and their decisions."""
    async def ready() -> bool:
        assert bench.worker.process.process.poll() is None, bench.worker.last_words()
        response = await bench.worker.get("/readyz")
        return response is not None and response.status_code == 200

    await eventually(ready, timeout_s=180, what="the escalation worker to be ready")
    async with filing.http_client(1) as client:
        ids = [await _file(bench, client, n) for n in range(len(STORES))]
    await eventually(lambda: _arrived(bench, ids), timeout_s=120, what="the warm-up's routing decisions")


async def _arrived(bench: Bench, ids: list[str]) -> bool:
    return all(i in bench.arrivals.at for i in ids)


async def _b1_maximum(infra: Infra, bench: Bench) -> float:
    """The highest filing rate of B1's figures in this run, or of a quick B1 measurement here."""
    b1 = [figure.median("subject").rate for figure in infra.measured if figure.name.startswith("B1")]
    if b1:
        return max(b1)
    quick = filing.Bench(bench.api.app, bench.api.app, bench.tokens, bench.options, bench.progress)
    requests = max(100, round(300 * bench.options.scale))
    stores = itertools.cycle(STORES)
    rates = [(await filing.measure(quick, bench.api.app, clients, requests, stores, lambda: None)).rate
             for clients in filing.CLIENTS]
    bench.progress.console.print(f"B3: B1 did not run; a quick B1 maximum: {max(rates):.0f} req/s ({rates})")
    return max(rates)


async def offered(rate: float, seconds: float, one: Callable[[int], Awaitable[None]]) -> float:
    """Starts `one(n)` at n / rate seconds for `seconds`, whatever the earlier ones are doing; the
    seconds until the last one finished."""
    started, running = time.perf_counter(), []
    for n in range(max(1, round(rate * seconds))):
        if (delay := started + n / rate - time.perf_counter()) > 0:
            await asyncio.sleep(delay)
        running.append(asyncio.create_task(one(n)))
    await asyncio.gather(*running)
    return time.perf_counter() - started


async def end_to_end(bench: Bench, rate: float, seconds: float) -> Sample:
    answered: dict[str, float] = {}
    pids = [bench.api.app.process.pid, bench.worker.process.process.pid]
    server_cpu, client_cpu = sum(map(cpu_seconds, pids)), time.process_time()
    failed: list[str] = []
    async with filing.http_client(256) as client:
        async def one(n: int) -> None:
            try:
                complaint_id = await _file(bench, client, n)
            except (aiohttp.ClientError, TimeoutError, filing.Refused) as error:  # counted, as a user sees it; the run goes on
                failed.append(type(error).__name__)
                return
            answered[complaint_id] = time.perf_counter()

        elapsed = await offered(rate, seconds, one)
    if failed:
        bench.progress.console.print(f"B3 at {rate:.0f}/s: {len(failed)} filings failed ({', '.join(sorted(set(failed)))})")
    measured = await _measured(bench, answered, elapsed, sum(map(cpu_seconds, pids)) - server_cpu, client_cpu)
    measured = replace(measured, failed=len(failed))
    relay = sorted(max(0.0, bench.arrivals.filed[i] - answered[i]) for i in answered if i in bench.arrivals.filed)
    if not relay:
        return measured
    return replace(measured, relay_p50_ms=percentile(relay, 0.5) * 1000, relay_p99_ms=percentile(relay, 0.99) * 1000)


async def round_trip(bench: Bench, rate: float, seconds: float) -> Sample:
    sent: dict[str, float] = {}
    client_cpu = time.process_time()
    producer = make_producer(bench.platform, client_id="bench-round-trip")
    await producer.start()
    try:
        async def one(n: int) -> None:
            key = str(uuid4())
            sent[key] = time.perf_counter()
            await (await producer.send(ROUND_TRIP.name, RECORD, key=key.encode()))

        elapsed = await offered(rate, seconds, one)
    finally:
        await producer.stop()
    return await _measured(bench, sent, elapsed, 0.0, client_cpu)


async def _measured(bench: Bench, started: dict[str, float], elapsed: float, server_cpu_s: float, client_cpu: float) -> Sample:
    """The sample of a run whose requests started (or were answered) at `started`, by id: the latency to
    each one's arrival; those that never arrived are lost."""
    ids = list(started)
    await bench.arrivals.wait(ids, GRACE_S)
    latencies = [max(0.0, bench.arrivals.at[i] - started[i]) for i in ids if i in bench.arrivals.at]
    lost = len(ids) - len(latencies)
    if not latencies:
        raise RuntimeError(f"none of {len(ids)} arrived within {GRACE_S} s")
    measured = sample(len(ids), elapsed, latencies, server_cpu_s, time.process_time() - client_cpu)
    return replace(measured, lost=lost)


async def _file(bench: Bench, client: aiohttp.ClientSession, n: int) -> str:
    """Files a complaint for a new customer at the n-th store in turn; its id, once answered 201."""
    store = STORES[n % len(STORES)]
    # Not B1's customers: a quick B1 measurement files into the same database.
    return await filing.file(client, bench.api.app.url, store, f"e2e-{next(bench.customers)}@example.com", bench.tokens[store])
