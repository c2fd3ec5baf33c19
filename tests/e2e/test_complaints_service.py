"""The complaints service as a process: health, readiness against real PostgreSQL and Kafka, metrics."""

import asyncio
import json
import os
import sys
from datetime import UTC, datetime

import httpx

from services.cli.demo import CHAIN
from services.shared.auth import mint_token
from services.shared.kafka import ensure_topics
from services.shared.principal import Role
from services.shared.settings import PlatformSettings
from services.shared.topics import ALL_TOPICS, ROSTER
from tests.support import ServiceProcess, eventually, read_topic
from tests.support.infra import free_port
from tests.support.scheduling import running_service


async def start(env: dict[str, str]) -> tuple[ServiceProcess, httpx.AsyncClient]:
    port = free_port()
    service = ServiceProcess("services.complaints", {**env, "COMPLAINTS_PORT": str(port)})
    client = httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10)

    async def alive() -> bool:
        try:
            return (await client.get("/healthz")).status_code == 200
        except httpx.TransportError:
            assert service.process.poll() is None, service.logs()
            return False

    await eventually(alive, what="the complaints service to answer")
    return service, client


async def test_ready_when_postgresql_and_kafka_are_reachable(postgres_url, kafka_bootstrap):
    service, client = await start(
        {"COMPLAINTS_DATABASE_URL": postgres_url, "RETAIL_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap}
    )
    try:

        async def ready() -> httpx.Response | None:
            response = await client.get("/readyz")
            return response if response.status_code == 200 else None

        response = await eventually(ready, what="/readyz to answer 200")
        assert response.json() == {"status": "ready", "checks": {"database": "ok", "kafka": "ok"}}

        assert (await client.get("/metrics")).status_code == 401
        ops = mint_token(PlatformSettings(), sub="ops-1", role=Role.ops, now=datetime.now(UTC))
        metrics = await client.get("/metrics", headers={"Authorization": f"Bearer {ops}"})
        assert metrics.status_code == 200
        assert 'http_requests_total{method="GET",route="/readyz",status="200"}' in metrics.text
    finally:
        await client.aclose()
        service.stop()
    lines = [json.loads(line) for line in service.logs().splitlines() if line.startswith("{")]
    assert any(line.get("event") == "request" and line.get("route") == "/readyz" for line in lines)


async def test_not_ready_while_kafka_is_unreachable(tmp_path):
    service, client = await start(
        {
            "COMPLAINTS_DATABASE_URL": f"sqlite:///{tmp_path}/complaints.db",
            "RETAIL_KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}",
        }
    )
    try:
        response = await client.get("/readyz")
        assert response.status_code == 503
        assert response.json()["checks"]["database"] == "ok"
        assert response.json()["checks"]["kafka"].startswith("unavailable")
        assert (await client.get("/healthz")).json() == {"status": "alive"}
    finally:
        await client.aclose()
        service.stop()


async def test_demo_traffic_flows_through_the_running_service(new_database, kafka_bootstrap, platform):
    ensure_topics(platform, ALL_TOPICS)
    service, client = await start({"COMPLAINTS_DATABASE_URL": await new_database(),
                                   "RETAIL_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap})
    scheduling = running_service(await new_database(), platform)
    schedule = await anext(scheduling)
    try:
        demo = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "services.cli", "demo", "--url", str(client.base_url).rstrip("/"),
            "--scheduling-url", str(schedule.client.base_url).rstrip("/"),
            "--rate", "40", "--duration", "3", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
            env={**os.environ, "RETAIL_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap},
        )
        output, _ = await asyncio.wait_for(demo.communicate(), timeout=120)
        assert demo.returncode == 0, output.decode()
        assert "0 errors" in output.decode()
        senior = mint_token(PlatformSettings(), sub="sm-1", role=Role.senior_manager, now=datetime.now(UTC))
        listed = await client.get("/v1/complaints", params={"limit": 200}, headers={"Authorization": f"Bearer {senior}"})
        stores = {item["store_id"] for item in listed.json()["items"]}
        assert len(listed.json()["items"]) >= 10 and len(stores) >= 3
        # Every demo store's latest roster is the scheduling service's, with the manager the demo scheduled there.
        def scheduled(found: list) -> bool:
            latest = {e.data.store_id: e.data for e in found if e.source == "/services/scheduling"}
            return all(store in latest and f"store-manager-{store}" in {p.staff_id for p in latest[store].on_duty}
                       for store in (store for region in CHAIN.values() for store in region))

        await read_topic(kafka_bootstrap, ROSTER, scheduled)
    finally:
        await client.aclose()
        service.stop()
        await scheduling.aclose()
