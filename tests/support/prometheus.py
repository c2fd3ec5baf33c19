"""A real Prometheus (Debian's binary) with deploy/prometheus's configuration and rules, scraping one
job of that configuration at a test's own process, and the questions tests ask it through its API."""

import shutil
import subprocess
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import yaml

from services.analytics.dashboards import Panel
from services.shared.auth import mint_token
from services.shared.principal import Role
from services.shared.settings import PlatformSettings
from tests.support import eventually
from tests.support.infra import REPO, free_port

NOTIFICATIONS_METRICS = "notifications_"  # the prefix of every metric the notifications service exports


@asynccontextmanager
async def running_prometheus(directory: Path, platform: PlatformSettings,
                             targets: dict[str, str]) -> AsyncIterator[httpx.AsyncClient]:
    """Prometheus with deploy/prometheus's configuration and rules, scraping and evaluating every second,
    whose only scrape jobs are the configuration's jobs named in `targets` (their paths and token file as
    deployed), each pointed at its target (host:port), with a scrape token minted for `platform`; a client
    of its API, once ready."""
    port = free_port()
    process = _start(directory, port, _configuration(directory / "config", platform, targets))
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            async def ready() -> bool:
                assert process.poll() is None, (directory / "prometheus.log").read_text()
                try:
                    return (await client.get("/-/ready")).status_code == 200
                except httpx.TransportError:
                    return False

            await eventually(ready, timeout_s=60, what="Prometheus to be ready")
            yield client
    finally:
        process.terminate()
        process.wait(timeout=30)


def _configuration(config_dir: Path, platform: PlatformSettings, targets: dict[str, str]) -> Path:
    """deploy/prometheus copied to `config_dir`, cut down to the jobs of `targets` at their targets, with
    its scrape token."""
    shutil.copytree(REPO / "deploy" / "prometheus", config_dir)
    config_path = config_dir / "prometheus.yml"
    config = yaml.safe_load(config_path.read_text())
    config["global"].update(scrape_interval="1s", evaluation_interval="1s")
    jobs = [job for job in config["scrape_configs"] if job["job_name"] in targets]
    assert sorted(job["job_name"] for job in jobs) == sorted(targets), \
        f"deploy/prometheus/prometheus.yml's scrape jobs of {sorted(targets)}: {[job['job_name'] for job in jobs]}"
    for job in jobs:
        job["static_configs"] = [{"targets": [targets[job["job_name"]]]}]
    config["scrape_configs"] = jobs
    config_path.write_text(yaml.safe_dump(config))
    token = mint_token(platform, sub="svc-prometheus", role=Role.metrics, now=datetime.now(UTC), ttl=timedelta(hours=2))
    (config_dir / "secrets" / "scrape-token").write_text(token)
    return config_path


def _start(directory: Path, port: int, config_path: Path) -> subprocess.Popen:
    with open(directory / "prometheus.log", "w") as log:  # the child keeps its own handle
        return subprocess.Popen(
            ["prometheus", f"--config.file={config_path}", f"--storage.tsdb.path={directory / 'data'}",
             f"--web.listen-address=127.0.0.1:{port}"],
            stdout=subprocess.DEVNULL, stderr=log,
        )


async def query(prometheus: httpx.AsyncClient, expr: str) -> list[dict]:
    """The instant query's result (its series and values) now."""
    response = await prometheus.get("/api/v1/query", params={"query": expr})
    assert response.status_code == 200, response.text
    return response.json()["data"]["result"]


async def value(prometheus: httpx.AsyncClient, expr: str) -> float | None:
    """The value of the query's single series now; None when it has no series (or several)."""
    result = await query(prometheus, expr)
    return float(result[0]["value"][1]) if len(result) == 1 else None


async def firing(prometheus: httpx.AsyncClient, alertname: str) -> list[dict]:
    """The alert's firing instances (their labels) now, from Prometheus's own rule evaluation."""
    response = await prometheus.get("/api/v1/alerts")
    assert response.status_code == 200, response.text
    return [alert["labels"] for alert in response.json()["data"]["alerts"]
            if alert["labels"]["alertname"] == alertname and alert["state"] == "firing"]


def reads_notifications(panel: Panel) -> bool:
    return NOTIFICATIONS_METRICS in panel.expr


async def assert_every_panel_has_data(prometheus: httpx.AsyncClient, panels: Iterable[tuple[str, Panel]], *,
                                      timeout_s: float = 60, **variables: str) -> None:
    """Waits until each (dashboard uid, panel)'s query returns data, its dashboard variables ($region, …)
    replaced by `variables`; fails naming every panel still empty at the deadline."""
    panels = list(panels)
    assert panels, "no panels to check"

    async def empty() -> list[str]:
        found = []
        for uid, panel in panels:
            expr = panel.expr
            for name, text in variables.items():
                expr = expr.replace(f"${name}", text)
            if not await query(prometheus, expr):
                found.append(f"{uid}: {panel.title}: {expr}")
        return found

    async def none_empty() -> bool:
        return not await empty()

    try:  # rate() and increase() need two scrapes after the counters moved; give Prometheus those seconds
        await eventually(none_empty, timeout_s=timeout_s, what="every panel to have data")
    except AssertionError:
        still = await empty()
        assert not still, "panels without data:\n" + "\n".join(still)
