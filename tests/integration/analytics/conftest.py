"""The analytics worker as its own process on the real broker, and its /metrics."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from services.shared.auth import mint_token
from services.shared.principal import Role
from services.shared.kafka import ensure_topics
from services.shared.topics import ALL_TOPICS
from tests.conftest import free_port
from tests.integration.complaints.conftest import start_api
from tests.integration.escalation.conftest import add_stores
from tests.support import ServiceProcess

REGION, STORE, OTHER = "ahvenanmaa", "mhm-torget", "mhm-city"


class Analytics:
    def __init__(self, platform, data_dir: str) -> None:
        self.platform, self.data_dir, self.port = platform, data_dir, free_port()
        self.process: ServiceProcess | None = None

    def start(self) -> None:
        self.process = ServiceProcess("services.analytics", {
            "RETAIL_KAFKA_BOOTSTRAP_SERVERS": self.platform.kafka_bootstrap_servers, "ANALYTICS_DATA_DIR": self.data_dir,
            "ANALYTICS_PORT": str(self.port), "ANALYTICS_INSTANCE_ID": "analytics-test",
        })

    def kill(self) -> None:
        self.process.process.kill()
        self.process.process.wait()

    async def metrics(self, role: Role = Role.ops) -> httpx.Response:
        token = mint_token(self.platform, sub="ops-0001", role=role, now=datetime.now(UTC), ttl=timedelta(hours=1))
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{self.port}") as client:
            return await client.get("/metrics", headers={"Authorization": f"Bearer {token}"})

    async def samples(self, region: str = REGION) -> dict[tuple, float]:
        """The region's samples, by (name, sorted labels); empty while the worker is not up."""
        return await self.scrape(lambda sample: sample.labels.get("region") == region)

    async def scrape(self, keep: Callable[[Sample], bool]) -> dict[tuple, float]:
        """The samples `keep` keeps, by (name, sorted labels); empty while the worker is not up."""
        assert self.process.process.poll() is None, self.process.logs()
        try:
            response = await self.metrics()
        except httpx.TransportError:
            return {}
        return {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.text)
            for sample in family.samples
            if keep(sample)
        }


class Reports:
    """The reports API as its own process."""

    def __init__(self, platform) -> None:
        self.platform, self.port = platform, free_port()
        self.process = ServiceProcess("services.analytics.reports", {
            "RETAIL_KAFKA_BOOTSTRAP_SERVERS": platform.kafka_bootstrap_servers, "ANALYTICS_REPORTS_PORT": str(self.port),
        })

    async def get(self, path: str, role: Role | None = Role.senior_manager, region: str | None = None,
                  store: str | None = None, **params: str) -> httpx.Response:
        assert self.process.process.poll() is None, self.process.logs()
        headers = {}
        if role is not None:
            token = mint_token(self.platform, sub="emp-0001", role=role, region_id=region, store_id=store,
                               now=datetime.now(UTC), ttl=timedelta(hours=1))
            headers["Authorization"] = f"Bearer {token}"
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{self.port}") as client:
            return await client.get(f"/v1/reports/{path}", params=params, headers=headers)

    async def report(self, path: str, **params: str) -> dict | None:
        """A senior manager's report; None while the API is not up."""
        try:
            response = await self.get(path, **params)
        except httpx.TransportError:
            return None
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture(scope="module")
def reports(platform):
    running = Reports(platform)
    yield running
    running.process.stop()


@pytest.fixture(scope="module")
async def api(new_database, platform):
    ensure_topics(platform, ALL_TOPICS)
    async for running in start_api(await new_database(), platform):
        await add_stores(running, REGION, [STORE, OTHER])
        yield running


@pytest.fixture(scope="module")
async def analytics(platform, tmp_path_factory):
    running = Analytics(platform, str(tmp_path_factory.mktemp("analytics")))
    running.start()
    yield running
    running.process.stop()



