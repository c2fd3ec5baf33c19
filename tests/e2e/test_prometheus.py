"""A real Prometheus (Debian's) scraping the running analytics worker with deploy/prometheus's
configuration and rules: after a scripted scenario the scraped values equal the expected numbers
exactly, and every Grafana panel's query returns data from that Prometheus."""

import json
import shutil
import subprocess
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import yaml

from services.analytics.dashboards import DASHBOARDS
from services.shared.auth import mint_token
from services.shared.events.coordination import PolicyDecided, PolicyProposed, ProblemDetected
from services.shared.events.envelope import wrap
from services.shared.kafka import make_producer, publish
from services.shared.principal import Role
from services.shared.topics import COORDINATION, SCHEDULING
from tests.support import eventually
from tests.support.analytics import REGION, chain_api, key, publish_events, publish_returns, scenario, shift, train
from tests.support.builders import example
from tests.support.complaints import add_stores
from tests.support.infra import REPO, free_port

STORE, SIGNALLING_STORE = "mhm-e2e", "mhm-e2e-lp"


@pytest.fixture(scope="module")
async def api(new_database, platform):
    async for running in chain_api(await new_database(), platform):
        yield running


@pytest.fixture(scope="module")
async def prometheus(platform, analytics, tmp_path_factory):
    """Prometheus with deploy/prometheus's configuration and rules, pointed at the analytics worker."""
    directory = tmp_path_factory.mktemp("prometheus")
    shutil.copytree(REPO / "deploy" / "prometheus", directory / "config")
    config_path = directory / "config" / "prometheus.yml"
    config = yaml.safe_load(config_path.read_text())
    config["global"].update(scrape_interval="1s", evaluation_interval="1s")
    [job] = [job for job in config["scrape_configs"] if job["job_name"] == "analytics"]
    job["static_configs"] = [{"targets": [f"127.0.0.1:{analytics.port}"]}]
    config["scrape_configs"] = [job]
    config_path.write_text(yaml.safe_dump(config))
    token = mint_token(platform, sub="svc-prometheus", role=Role.metrics, now=datetime.now(UTC), ttl=timedelta(hours=2))
    (directory / "config" / "secrets").mkdir()
    (directory / "config" / "secrets" / "scrape-token").write_text(token)

    port = free_port()
    process = subprocess.Popen(
        ["prometheus", f"--config.file={config_path}", f"--storage.tsdb.path={directory / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=open(directory / "prometheus.log", "w"),
    )
    client = httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10)

    async def ready() -> bool:
        assert process.poll() is None, (directory / "prometheus.log").read_text()
        try:
            return (await client.get("/-/ready")).status_code == 200
        except httpx.TransportError:
            return False

    await eventually(ready, timeout_s=60, what="Prometheus to be ready")
    yield client
    await client.aclose()
    process.terminate()
    process.wait(timeout=30)


async def query(prometheus, expr: str) -> list[dict]:
    response = await prometheus.get("/api/v1/query", params={"query": expr})
    assert response.status_code == 200, response.text
    return response.json()["data"]["result"]


async def test_prometheus_scrapes_the_scenarios_exact_totals_and_every_panel_has_data(api, platform, analytics, prometheus):  # noqa: F811
    await add_stores(api, REGION, [STORE])
    now = datetime.now(UTC)  # a staff member on a shift while the scenario's complaints are filed: complaints per staffed hour
    await publish_events(platform, SCHEDULING, [wrap(shift(STORE, now - timedelta(hours=1), now + timedelta(hours=8)),
                                                     source="/tests", time=now)])
    expected = await scenario(api, platform, STORE)
    # One outlier, who completed the returns training: the loss-prevention panels have a signal to show.
    await train(platform, SIGNALLING_STORE, "returns", ["emp-7004"])
    on_duty = key("retail_staff_on_duty", SIGNALLING_STORE)
    await eventually(lambda: _has(analytics, on_duty), timeout_s=90, what="the training counted before the returns")
    await publish_returns(platform, SIGNALLING_STORE)
    expected |= {
        key("retail_staff_on_duty", STORE): 1,
        key("retail_lossprevention_signals_by_training_total", SIGNALLING_STORE, metric="policy_exception_rate",
            training="completed"): 1,
    }
    producer = make_producer(platform, client_id="test-coordination")
    await producer.start()
    try:  # a common problem proposed and decided, for the regional coordinator's panels
        coordination = [example(kind, region_id=REGION) for kind in (ProblemDetected, PolicyProposed, PolicyDecided)]
        await publish(producer, COORDINATION, [wrap(e, source="/tests", time=e.at) for e in coordination], platform)
    finally:
        await producer.stop()

    async def scraped() -> bool:
        for (name, labels), value in expected.items():
            selector = ",".join(f'{label}="{text}"' for label, text in labels)
            result = await query(prometheus, f"{name}{{{selector}}}")
            if len(result) != 1 or float(result[0]["value"][1]) != pytest.approx(value):
                return False
        return True

    await eventually(scraped, timeout_s=90, what="Prometheus to scrape the scenario's totals")

    async def every_panel_has_data() -> list[str] | None:
        empty = []
        for dashboard in DASHBOARDS:
            for panel in dashboard.panels:
                expr = panel.expr.replace("$region", REGION).replace("$store", ".*")
                if not await query(prometheus, expr):
                    empty.append(f"{dashboard.uid}: {panel.title}: {expr}")
        return empty or None

    # rate() and increase() need two scrapes after the counters moved; give Prometheus those seconds
    empty = None
    try:
        await eventually(lambda: _none(every_panel_has_data), timeout_s=60, what="every panel to have data")
    except AssertionError:
        empty = await every_panel_has_data()
    assert empty is None, json.dumps(empty, indent=1)


async def _none(probe) -> bool:
    return await probe() is None


async def _has(analytics, sample: tuple) -> bool:
    return sample in await analytics.samples()
