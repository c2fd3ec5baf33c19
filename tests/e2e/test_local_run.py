"""`make run`'s script as a developer runs it: Kafka, every service under honcho, Prometheus with the
repository's rules scraping every service (each target up), each process's log in its own file, a
second start saying the platform runs instead of failing, and Ctrl-C stopping everything."""

import asyncio
import os
import signal
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.support import eventually
from tests.support.infra import REPO, free_port

PORTS = ("COMPLAINTS_PORT", "ESCALATION_PORT", "ESCALATION_WORKER_PORT", "ANALYTICS_PORT", "ANALYTICS_REPORTS_PORT",
         "SCHEDULING_PORT", "SCHEDULING_WORKER_PORT", "COMPLAINTS_WORKER_PORT", "NOTIFICATIONS_PORT", "WEBAPP_PORT",
         "PROMETHEUS_PORT", "RETAIL_KAFKA_PORT")
SERVICES = {"complaints", "escalation", "escalation-boards", "analytics", "analytics-reports", "scheduling",
            "scheduling-worker", "complaints-worker", "notifications"}
RUN = str(REPO / "deploy" / "local" / "run.sh")


def _of_the_run(data: Path) -> list[int]:
    """The processes still running with this run's data folder in their environment."""
    marker = f"RETAIL_DATA_DIR={data}".encode()
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and marker in (proc / "environ").read_bytes().split(b"\0"):
                found.append(int(proc.name))
        except OSError:
            continue
    return found


@pytest.fixture
def environment(tmp_path):
    smtp = str(free_port())
    return {**os.environ, **{name: str(free_port()) for name in PORTS}, "RETAIL_DATA_DIR": str(tmp_path / "data"),
            "NOTIFICATIONS_SMTP_PORT": smtp, "COMPLAINTS_SMTP_PORT": smtp, "RETAIL_DEMO_RATE": "2"}


async def test_the_local_run_shows_every_service_in_prometheus_and_stops_on_ctrl_c(environment):
    data = Path(environment["RETAIL_DATA_DIR"])
    output = open(data.parent / "run.out", "wb")
    run = subprocess.Popen([RUN], env=environment, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        prometheus = f"http://127.0.0.1:{environment['PROMETHEUS_PORT']}"

        async def every_target_up() -> bool:
            assert run.poll() is None, (data.parent / "run.out").read_text()[-3000:]
            try:
                async with httpx.AsyncClient(timeout=5) as client:
                    targets = (await client.get(f"{prometheus}/api/v1/targets")).json()["data"]["activeTargets"]
            except (httpx.HTTPError, ValueError, KeyError):  # not up yet, or still starting (503, no JSON)
                return False
            return {t["labels"]["job"] for t in targets if t["health"] == "up"} == SERVICES

        await eventually(every_target_up, timeout_s=420, what="Prometheus to scrape every service")
        logs = {path.stem for path in data.glob("*.log")}
        assert SERVICES | {"webapp", "prometheus", "smtp", "demo"} <= logs, logs
        assert (data / "complaints.log").stat().st_size > 0

        again = subprocess.run([RUN], env=environment, capture_output=True, text=True, timeout=60)
        assert again.returncode == 0 and "already running" in again.stdout, again.stdout + again.stderr
        assert run.poll() is None, "a second start must leave the running platform alone"

        os.killpg(run.pid, signal.SIGINT)  # Ctrl-C in its terminal
        await asyncio.to_thread(run.wait, 120)

        async def all_stopped() -> bool:  # the services, Prometheus, the mail server and the broker
            return not _of_the_run(data)

        await eventually(all_stopped, timeout_s=30, what="every process of the run to stop")
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
        for pid in _of_the_run(data):
            os.kill(pid, signal.SIGKILL)
        subprocess.run([str(REPO / "deploy" / "local" / "kafka.sh"), "stop", "--dir", str(data / "kafka-secure")])
        output.close()
