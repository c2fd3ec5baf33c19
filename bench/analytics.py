"""Events per second the analytics worker counts.

    .venv/bin/python bench/analytics.py --events 20000

Starts its own Kafka broker (deploy/local), pre-produces N complaint.filed events, starts the
analytics worker and times how long until its /metrics shows all N counted. The baseline, in the
same run, is a plain consumer that reads and validates the same N events and does nothing else.
"""

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.routing import prefilled  # noqa: E402
from services.shared.auth import mint_token  # noqa: E402
from services.shared.principal import Role  # noqa: E402
from services.shared.settings import PlatformSettings  # noqa: E402
from tests.conftest import free_port, script  # noqa: E402


async def counted(client: httpx.AsyncClient, headers: dict) -> float:
    try:
        text = (await client.get("/metrics", headers=headers)).text
    except httpx.TransportError:
        return 0
    return sum(sample.value for family in text_string_to_metric_families(text)
               if family.name == "retail_complaints_filed" for sample in family.samples)


async def main(events: int) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="bench-analytics-"))
    bootstrap = script("kafka.sh", "start", "--dir", str(workdir / "kafka"), "--port", str(free_port()))
    platform = PlatformSettings(kafka_bootstrap_servers=bootstrap)
    worker = None
    try:
        baseline = await prefilled(platform, events)

        port = free_port()
        env = {**os.environ, "RETAIL_KAFKA_BOOTSTRAP_SERVERS": bootstrap, "ANALYTICS_DATA_DIR": str(workdir / "an"),
               "ANALYTICS_PORT": str(port), "RETAIL_LOG_LEVEL": "WARNING"}
        worker = subprocess.Popen([sys.executable, "-m", "services.analytics"], env=env, cwd=REPO,
                                  stdout=open(workdir / "worker.log", "w"), stderr=subprocess.STDOUT)
        token = mint_token(platform, sub="ops-bench", role=Role.ops, now=datetime.now(UTC), ttl=timedelta(hours=1))
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            # Time from the first counted event on, so the worker's start-up is not counted.
            while (first := await counted(client, headers)) == 0:
                await asyncio.sleep(0.5)
            started = time.monotonic()
            while (seen := await counted(client, headers)) < events:
                await asyncio.sleep(0.5)  # each look reads every store's totals: looking often slows the worker
            elapsed = time.monotonic() - started
        rate = (seen - first) / elapsed
        print(f"baseline: read+validate {events} events   {events / baseline:9.0f} events/s")
        print(f"analytics: counted {events} events         {rate:9.0f} events/s")
        print(f"analytics / baseline ratio               {rate / (events / baseline):9.3f}")
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=30)
        script("kafka.sh", "stop", "--dir", str(workdir / "kafka"))
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=20000)
    asyncio.run(main(parser.parse_args().events))
