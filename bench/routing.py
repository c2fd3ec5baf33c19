"""Routing throughput of the escalation worker, and the time from HTTP 201 to the routing decision.

    .venv/bin/python bench/routing.py --events 5000

Starts its own Kafka broker and PostgreSQL (deploy/local), pre-produces N complaint.filed events,
then starts the worker and times how fast the decisions appear. The baseline, in the same run, is a
plain consumer that reads and validates the same N events and does nothing else, so the ratio says
what routing costs beyond reading. Then it files complaints through the complaints API one at a time
and reports the latency from each 201 to its routing decision on the escalations topic.
"""

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

from aiokafka import AIOKafkaConsumer

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from services.shared.events.complaints import ComplaintFiled  # noqa: E402
from services.shared.events.envelope import decode, wrap  # noqa: E402
from services.shared.kafka import ensure_topics, make_producer, publish  # noqa: E402
from services.shared.settings import PlatformSettings  # noqa: E402
from services.shared.topics import ALL_TOPICS, COMPLAINTS, ESCALATIONS  # noqa: E402
from tests.conftest import free_port, script  # noqa: E402
from tests.integration.complaints.conftest import start_api  # noqa: E402


def complaints(count: int) -> list:
    example = ComplaintFiled.model_config["json_schema_extra"]["examples"][0]
    stores = ["hel-kamppi", "esp-iso-omena", "tre-koskikeskus", "tku-hansa"]
    now = datetime.now(UTC)
    return [
        wrap(ComplaintFiled.model_validate({**example, "complaint_id": str(uuid4()), "store_id": stores[i % 4],
                                            "filed_at": now.isoformat()}), source="/bench", time=now)
        for i in range(count)
    ]


async def read(bootstrap: str, topic, count: int, group: str, validate: bool) -> float:
    """Seconds until `count` records of the topic were read (and validated) by a fresh group."""
    consumer = AIOKafkaConsumer(topic.name, bootstrap_servers=bootstrap, group_id=group, auto_offset_reset="earliest")
    await consumer.start()
    started, seen = time.monotonic(), 0
    try:
        while seen < count:
            for records in (await consumer.getmany(timeout_ms=500, max_records=2000)).values():
                for record in records:
                    if validate:
                        decode(record.value, topic.event_classes)
                    seen += 1
        return time.monotonic() - started
    finally:
        await consumer.stop()


async def prefilled(platform: PlatformSettings, events: int) -> float:
    """Creates the topics and produces `events` complaint.filed; returns the baseline: seconds for a
    plain consumer to read and validate them."""
    ensure_topics(platform, ALL_TOPICS)
    producer = make_producer(platform, client_id="bench")
    await producer.start()
    await publish(producer, COMPLAINTS, complaints(events), platform)
    await producer.stop()
    return await read(platform.kafka_bootstrap_servers, COMPLAINTS, events, "bench-baseline", validate=True)


async def main(events: int, latency_samples: int) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="bench-routing-"))
    os.chmod(workdir, 0o755)
    bootstrap = script("kafka.sh", "start", "--dir", str(workdir / "kafka"), "--port", str(free_port()))
    (workdir / "pg").mkdir(mode=0o777)
    postgres = script("postgres.sh", "start", "--dir", str(workdir / "pg"), "--port", str(free_port()))
    platform = PlatformSettings(kafka_bootstrap_servers=bootstrap)
    worker = None
    try:
        baseline = await prefilled(platform, events)
        env = {**os.environ, "RETAIL_KAFKA_BOOTSTRAP_SERVERS": bootstrap, "ESCALATION_DATA_DIR": str(workdir / "esc"),
               "ESCALATION_WORKER_PORT": str(free_port()), "RETAIL_LOG_LEVEL": "WARNING"}
        worker = subprocess.Popen([sys.executable, "-m", "services.escalation"], env=env, cwd=REPO,
                                  stdout=open(workdir / "worker.log", "w"), stderr=subprocess.STDOUT)
        # Time from the first decision on, so the worker's start-up (joining the group) is not counted.
        await read(bootstrap, ESCALATIONS, 1, "bench-first", validate=False)
        started = time.monotonic()
        await read(bootstrap, ESCALATIONS, events, "bench-routing", validate=False)
        routing = time.monotonic() - started
        print(f"baseline: read+validate {events} events   {events / baseline:9.0f} events/s")
        print(f"routing:  {events} decisions             {events / routing:9.0f} decisions/s")
        print(f"routing / baseline ratio                {baseline / routing:9.3f}")

        latencies = []
        async for api in start_api(postgres, platform):
            consumer = AIOKafkaConsumer(ESCALATIONS.name, bootstrap_servers=bootstrap, group_id="bench-latency",
                                        auto_offset_reset="latest")
            await consumer.start()
            await consumer.getmany(timeout_ms=1000)  # joined and positioned at the end
            for i in range(latency_samples):
                response = await api.file(customer={"email": f"latency-{i}@example.com"})
                filed_at, complaint_id = time.monotonic(), response.json()["id"]
                decided = False
                while not decided:
                    for records in (await consumer.getmany(timeout_ms=100)).values():
                        decided = decided or any(
                            str(decode(r.value, ESCALATIONS.event_classes).data.complaint_id) == complaint_id
                            for r in records)
                latencies.append(time.monotonic() - filed_at)
            await consumer.stop()
        latencies.sort()
        print(f"HTTP 201 → routing decision over {latency_samples} complaints: median "
              f"{statistics.median(latencies) * 1000:.0f} ms, p90 {latencies[int(0.9 * len(latencies))] * 1000:.0f} ms, "
              f"max {latencies[-1] * 1000:.0f} ms")
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=30)
        script("kafka.sh", "stop", "--dir", str(workdir / "kafka"))
        script("postgres.sh", "stop", "--dir", str(workdir / "pg"))
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--latency-samples", type=int, default=30)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.events, arguments.latency_samples))
