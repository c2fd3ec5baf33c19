"""B1 filing: POST /v1/complaints of the complaints API as operators run it (python -m
services.complaints: uvicorn, its outbox relay publishing to the broker) with a minted bearer token,
the body validated, an Idempotency-Key, the complaint and its outbox row in one transaction, every
request a new customer; against bench.filing_baseline, served the same way on the same PostgreSQL.
Both are driven by this process over HTTP with the same aiohttp client and the same requests, at 16
and 64 concurrent clients, spread over 8 stores and all at 1 store. The client is aiohttp's: httpx
cost this process 1.8 ms of CPU a request (3.5–12.9 ms in B3's open load, with one pool), as much as
the subject's own on a machine of two cores they share."""

import asyncio
import itertools
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from uuid import uuid4

import aiohttp
from rich.progress import Progress
from sqlalchemy import text

from bench.harness import Figure, Goal, Infra, Options, Sample, alternate, cpu_seconds, profiled, sample
from services.shared.db import make_engine
from services.shared.kafka import ensure_topics
from services.shared.principal import Role
from services.shared.settings import PlatformSettings
from services.shared.topics import ALL_TOPICS
from tests.support import ServiceProcess, eventually, ready_process
from tests.support.complaints import add_stores, running_service
from tests.support.infra import REPO, free_port

CLIENTS = (16, 64)
STORE_COUNTS = (8, 1)
REQUESTS = 1000  # per measured run, times --scale
REGION = "bench-region"
GOAL = Goal(0.5)


@dataclass
class Bench:
    subject: ServiceProcess
    baseline: ServiceProcess
    tokens: dict[str, dict]  # an associate's Authorization header, by store
    options: Options
    progress: Progress
    filed: Counter = field(default_factory=Counter)  # 201s, by server URL
    customers: itertools.count = field(default_factory=itertools.count)


async def run(infra: Infra, options: Options, progress: Progress) -> list[Figure]:
    platform = PlatformSettings(kafka_bootstrap_servers=infra.bootstrap)
    ensure_topics(platform, ALL_TOPICS)  # the relay publishes each filing, as it does in service
    subject_db, baseline_db = await infra.new_database("bench_subject"), await infra.new_database("bench_baseline")
    stores = [f"bench-store-{n}" for n in range(1, max(STORE_COUNTS) + 1)]
    async with asynccontextmanager(running_service)(subject_db, platform) as api, serving_baseline(baseline_db) as baseline:
        await add_stores(api, REGION, stores)
        bench = Bench(api.app, baseline, {store: api.token(Role.associate, store) for store in stores}, options, progress)
        progress.console.print(f"B1: subject pid {bench.subject.process.pid}, baseline pid {baseline.process.pid}")
        try:
            with profiled(bench.subject.process.pid, options, "b1-subject"):
                figures = [
                    await _figure(bench, clients, stores[:store_count])
                    for clients, store_count in itertools.product(CLIENTS, STORE_COUNTS)
                ]
        except Exception:
            for name, process in (("subject", bench.subject), ("baseline", baseline)):
                progress.console.print(f"--- the {name}'s last output ---", *process.logs().splitlines()[-20:], sep="\n")
            raise
        await _check_published(subject_db)
    await _check_stored(subject_db, "complaints", bench.filed[bench.subject.url])
    await _check_stored(baseline_db, "filed", bench.filed[baseline.url])
    return figures


@asynccontextmanager
async def serving_baseline(database_url: str) -> AsyncIterator[ServiceProcess]:
    port = free_port()
    process = await ready_process("bench.filing_baseline", {
        "BENCH_DATABASE_URL": database_url, "BENCH_PORT": str(port), "PYTHONPATH": str(REPO),
    }, f"http://127.0.0.1:{port}")
    try:
        yield process
    finally:
        process.stop()


async def _figure(bench: Bench, clients: int, stores: list[str]) -> Figure:
    figure = Figure(
        f"B1 filing · {clients} clients · {len(stores)} store{'s' if len(stores) > 1 else ''}",
        "POST /v1/complaints", "bare FastAPI insert", "req/s", GOAL,
    )
    requests = max(1, round(REQUESTS * bench.options.scale))
    task = bench.progress.add_task(figure.name, total=bench.options.rounds * 2 * requests)
    turn = itertools.cycle(stores)
    figure.rounds = await alternate(
        bench.options.rounds,
        lambda: measure(bench, bench.baseline, clients, requests, turn, lambda: bench.progress.advance(task)),
        lambda: measure(bench, bench.subject, clients, requests, turn, lambda: bench.progress.advance(task)),
    )
    bench.progress.remove_task(task)
    return figure


async def measure(bench: Bench, server: ServiceProcess, clients: int, requests: int, stores: itertools.cycle,
                  advance: Callable[[], None]) -> Sample:
    """`requests` filings at `server` by `clients` concurrent clients, after a warm-up of one per client."""
    clients = min(clients, requests)
    async with http_client(clients) as client:
        await _load(bench, client, server.url, clients, clients, stores, lambda: None)
        pid = server.process.pid
        started, server_cpu, client_cpu = time.perf_counter(), cpu_seconds(pid), time.process_time()
        latencies = await _load(bench, client, server.url, clients, requests, stores, advance)
        elapsed = time.perf_counter() - started
        bench.filed[server.url] += clients + requests
        return sample(requests, elapsed, latencies, cpu_seconds(pid) - server_cpu, time.process_time() - client_cpu)


def http_client(connections: int) -> aiohttp.ClientSession:
    """The load's client: up to `connections` kept open at once."""
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=connections, keepalive_timeout=2),
                                 timeout=aiohttp.ClientTimeout(total=60))


class Refused(RuntimeError):
    """The server answered a filing with anything but 201."""


async def file(client: aiohttp.ClientSession, url: str, store: str, email: str, token: dict) -> str:
    """Files a complaint for the customer at `email` at `store` with a new Idempotency-Key, again under
    the same key if the connection failed (as a till would); its id, once answered 201."""
    body = {
        "store_id": store, "customer": {"name": "Aino Virtanen", "email": email},
        "channel": "in_store", "category": "product_quality", "severity": "medium", "mood": "upset",
        "description": "The kettle leaks.",
    }
    headers = {**token, "Idempotency-Key": str(uuid4())}
    try:
        return await _filed(client, url, body, headers)
    except aiohttp.ClientConnectionError:
        return await _filed(client, url, body, headers)


async def _filed(client: aiohttp.ClientSession, url: str, body: dict, headers: dict) -> str:
    async with client.post(f"{url}/v1/complaints", json=body, headers=headers) as response:
        if response.status != 201:
            raise Refused(f"{url} answered {response.status}: {await response.text()}")
        return (await response.json())["id"]


async def _load(bench: Bench, client: aiohttp.ClientSession, url: str, clients: int, requests: int,
                stores: itertools.cycle, advance: Callable[[], None]) -> list[float]:
    """`requests` filings shared out among `clients` concurrent senders, each sending one at a time, each
    for a new customer at the next store in turn; their latencies."""
    latencies: list[float] = []
    left = iter(range(requests))

    async def one_client() -> None:
        for _ in left:
            store = next(stores)
            started = time.perf_counter()
            try:
                await file(client, url, store, f"customer-{next(bench.customers)}@example.com", bench.tokens[store])
            except (aiohttp.ClientError, TimeoutError) as error:
                raise RuntimeError(f"{url}: {error!r} after {time.perf_counter() - started:.1f} s") from error
            latencies.append(time.perf_counter() - started)
            advance()

    await asyncio.gather(*(one_client() for _ in range(clients)))
    return latencies


UNPUBLISHED = text("SELECT count(*) FROM outbox WHERE published_at IS NULL")


async def _check_published(database_url: str) -> None:
    """The subject's relay published every filing: a subject whose events never reached Kafka did
    less than the service does (on a broker without the platform's topics, its relay only retried)."""
    engine = make_engine(database_url)

    async def drained() -> bool:
        async with engine.connect() as connection:
            return (await connection.execute(UNPUBLISHED)).scalar_one() == 0

    try:
        await eventually(drained, timeout_s=60, what="the subject's relay to publish every filing")
    finally:
        await engine.dispose()


async def _check_stored(database_url: str, table: str, filed: int) -> None:
    """Every 201 is a row: a benchmark that stored less than it was answered measured nothing."""
    engine = make_engine(database_url)
    try:
        async with engine.connect() as connection:
            stored = (await connection.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one()
    finally:
        await engine.dispose()
    if stored != filed:
        raise RuntimeError(f"{filed} filings answered 201 but {stored} rows in {table}")
