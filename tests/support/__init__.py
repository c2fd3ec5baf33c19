"""What tests share: polling with a deadline instead of sleeping, services started as their own
processes, and reading topics back. The rest of tests/support holds the infrastructure (`infra`),
event builders (`builders`) and each service's starters and scenarios; no test module imports
another."""

import asyncio
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

T = TypeVar("T")


async def eventually(probe: Callable[[], Awaitable[T]], *, timeout_s: float = 30.0, what: str = "condition") -> T:
    """Awaits `probe` until it returns something truthy, or fails after the deadline."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = await probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")
        await asyncio.sleep(0.1)


class ServiceProcess:
    """A service started as its own process with `python -m`, as an operator would run it."""

    started: "weakref.WeakSet[ServiceProcess]" = weakref.WeakSet()  # for a failed test's report (tests/conftest.py)

    def __init__(self, module: str, env: dict[str, str]) -> None:
        import os
        import subprocess
        import sys
        import tempfile

        self.output = tempfile.TemporaryFile()
        self.url: str | None = None  # where it answers HTTP, once `ready_process` has seen it ready
        self.process = subprocess.Popen(
            [sys.executable, "-m", module], env={**os.environ, "PYTHONUNBUFFERED": "1", **env}, stdout=self.output, stderr=subprocess.STDOUT
        )
        self.module = module
        ServiceProcess.started.add(self)

    def logs(self) -> str:
        self.output.seek(0)
        return self.output.read().decode(errors="replace")

    def last_words(self, lines: int = 40) -> str:
        """The end of the process's log without its heartbeats and requests (a test polling an
        endpoint fills the log with them), for a failure message."""
        kept = [line for line in self.logs().splitlines()
                if "heartbeat" not in line.lower() and '"event": "request"' not in line]
        return "\n".join(kept[-lines:])

    def stop(self) -> None:
        import subprocess

        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()  # not left running, and using the CPU, after the test that failed to stop it
                self.process.wait()
                raise


async def ready_process(module: str, env: dict[str, str], url: str, *, timeout_s: float = 60.0) -> ServiceProcess:
    """Starts the service as its own process and returns it once `url`/readyz answers 200."""
    import httpx

    process = ServiceProcess(module, env)

    async def ready() -> bool:
        assert process.process.poll() is None, process.logs()
        try:
            async with httpx.AsyncClient(base_url=url) as client:
                return (await client.get("/readyz")).status_code == 200
        except httpx.TransportError:
            return False

    try:
        await eventually(ready, timeout_s=timeout_s, what=f"{module} to be ready")
    except BaseException:
        process.stop()
        raise
    process.url = url
    return process


async def running_worker_process(module: str, prefix: str, database_url: str, bootstrap: str) -> AsyncIterator[ServiceProcess]:
    """A service's consuming worker as operators run it (`python -m <module>`, its settings under
    `prefix`: <PREFIX>_DATABASE_URL, <PREFIX>_WORKER_PORT), once ready, for as long as the caller iterates."""
    from tests.support.infra import free_port

    port = free_port()
    process = await ready_process(module, {
        f"{prefix}_DATABASE_URL": database_url, f"{prefix}_WORKER_PORT": str(port), "RETAIL_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
    }, f"http://127.0.0.1:{port}")
    try:
        yield process
    finally:
        process.stop()


@asynccontextmanager
async def consuming(topic, handler, *, group_id: str, settings, producer) -> AsyncIterator[asyncio.Task]:
    """Runs the shared consumer helper in the background for the block, then stops it."""
    from services.shared.kafka import consume

    stop = asyncio.Event()
    task = asyncio.create_task(consume(topic, handler, group_id=group_id, settings=settings, producer=producer, stop=stop))
    try:
        yield task
    finally:
        stop.set()
        await task


def recorder() -> tuple[list, Callable[..., Awaitable[None]]]:
    """A handler that records every envelope it is given, and the list it records into."""
    received: list = []

    async def handler(envelope) -> None:
        received.append(envelope)

    return received, handler


class ManualClock:
    """A clock tests move by hand: time passes only when the test says so."""

    def __init__(self, start):
        self.now = start

    def __call__(self):
        return self.now

    def advance(self, delta) -> None:
        self.now += delta


async def read_topic(bootstrap: str, topic, until: Callable[[list], bool], *, timeout_s: float = 30.0) -> list:
    """Reads `topic` from the beginning, decoding every record strictly against its contracts (a
    record that does not decode fails the test), until `until(envelopes)` holds."""
    from uuid import uuid4

    from aiokafka import AIOKafkaConsumer

    from services.shared.events.envelope import decode

    consumer = AIOKafkaConsumer(
        topic.name, bootstrap_servers=bootstrap, group_id=f"test-reader-{uuid4()}", auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    envelopes: list = []
    try:
        async def more() -> bool:
            for records in (await consumer.getmany(timeout_ms=200)).values():
                envelopes.extend(decode(record.value, topic.event_classes) for record in records)
            return until(envelopes)

        await eventually(more, timeout_s=timeout_s, what=f"events on {topic.name}")
        return envelopes
    finally:
        await consumer.stop()


async def read_all(bootstrap: str, topic) -> list:
    """Every event on `topic` now: read from the beginning up to the end offsets at the call."""
    from services.shared.events.envelope import decode

    return [decode(record.value, topic.event_classes) for record in await read_records(bootstrap, topic.name, topic.partitions)]


async def read_records(bootstrap: str, name: str, partitions: int) -> list:
    """Every record on the topic now, as stored (key, value, offset), from the beginning up to the end offsets at the call."""
    from aiokafka import AIOKafkaConsumer
    from aiokafka.structs import TopicPartition

    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        assigned = [TopicPartition(name, p) for p in range(partitions)]
        consumer.assign(assigned)
        await consumer.seek_to_beginning(*assigned)
        ends = await consumer.end_offsets(assigned)
        records: list = []

        async def done() -> bool:
            for batch in (await consumer.getmany(timeout_ms=200)).values():
                records.extend(batch)
            return all([await consumer.position(tp) >= end for tp, end in ends.items()])

        await eventually(done, what=f"the end of {name}")
        return records
    finally:
        await consumer.stop()
