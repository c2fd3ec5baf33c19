"""Complaint-create throughput of a running complaints service, against a baseline in the same run.

    .venv/bin/python bench/create_throughput.py --url http://127.0.0.1:8001 --seconds 10 --concurrency 16

Start the service first (make run, or python -m services.complaints with its environment). The
baseline is GET /healthz on the same server with the same client and concurrency, so the ratio
says what filing costs beyond the HTTP round trip, whatever the machine's noise.
"""

import argparse
import asyncio
import time
from datetime import UTC, datetime

import httpx

from services.shared.auth import mint_token
from services.shared.principal import Role
from services.shared.settings import PlatformSettings

STORE, REGION = "bench-store", "bench-region"


async def measure(client: httpx.AsyncClient, send, seconds: float, concurrency: int) -> float:
    done = 0
    deadline = time.monotonic() + seconds

    async def worker() -> None:
        nonlocal done
        while time.monotonic() < deadline:
            response = await send()
            response.raise_for_status()
            done += 1

    started = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done / (time.monotonic() - started)


async def main(url: str, seconds: float, concurrency: int) -> None:
    platform = PlatformSettings()
    now = datetime.now(UTC)
    admin = {"Authorization": "Bearer " + mint_token(platform, sub="bench", role=Role.service, now=now)}
    staff = {"Authorization": "Bearer " + mint_token(
        platform, sub="bench-associate", role=Role.associate, now=now, region_id=REGION, store_id=STORE)}
    body = {
        "store_id": STORE, "customer": {"email": "bench@example.com"}, "channel": "in_store", "category": "service",
        "severity": "low", "mood": "calm", "description": "Benchmark complaint.",
    }
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=httpx.Limits(max_connections=concurrency)) as client:
        (await client.put(f"/v1/regions/{REGION}", json={"name": "Bench"}, headers=admin)).raise_for_status()
        (await client.put(f"/v1/stores/{STORE}", json={"region_id": REGION, "name": "Bench"}, headers=admin)).raise_for_status()
        baseline = await measure(client, lambda: client.get("/healthz"), seconds, concurrency)
        creates = await measure(client, lambda: client.post("/v1/complaints", json=body, headers=staff), seconds, concurrency)
    print(f"baseline GET /healthz      {baseline:8.1f} req/s")
    print(f"POST /v1/complaints        {creates:8.1f} req/s")
    print(f"create / baseline ratio    {creates / baseline:8.3f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8001")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=16)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.url, arguments.seconds, arguments.concurrency))
