"""A real Prometheus (Debian's) scraping the running analytics worker with deploy/prometheus's
configuration and rules: after a scripted scenario the scraped values equal the expected numbers
exactly, and every Grafana panel over the worker's metrics has data from that Prometheus."""

from datetime import UTC, datetime, timedelta

import pytest

from services.analytics.dashboards import DASHBOARDS
from services.shared.events.coordination import PolicyDecided, PolicyProposed, ProblemDetected
from services.shared.events.envelope import wrap
from services.shared.kafka import make_producer, publish
from services.shared.topics import COORDINATION, SCHEDULING
from tests.support import eventually
from tests.support.analytics import REGION, chain_api, key, publish_events, publish_returns, scenario, shift, train
from tests.support.builders import example
from tests.support.complaints import add_stores
from tests.support.prometheus import assert_every_panel_has_data, query, reads_notifications, running_prometheus

STORE, SIGNALLING_STORE = "mhm-e2e", "mhm-e2e-lp"


@pytest.fixture(scope="module")
async def api(new_database, platform):
    async for running in chain_api(await new_database(), platform):
        yield running


@pytest.fixture(scope="module")
async def prometheus(platform, analytics, tmp_path_factory):
    """Prometheus with deploy/prometheus's configuration and rules, pointed at the analytics worker."""
    async with running_prometheus(tmp_path_factory.mktemp("prometheus"), platform,
                                  {"analytics": f"127.0.0.1:{analytics.port}"}) as client:
        yield client


async def test_prometheus_scrapes_the_scenarios_exact_totals_and_every_panel_has_data(api, platform, analytics, prometheus):
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

    # The notifications panels read what the notifications service exports, not this worker:
    # tests/e2e/test_notifications_prometheus.py checks them against a running notifications service.
    panels = [(dashboard.uid, panel) for dashboard in DASHBOARDS for panel in dashboard.panels
              if not reads_notifications(panel)]
    await assert_every_panel_has_data(prometheus, panels, region=REGION, store=".*")


async def _has(analytics, sample: tuple) -> bool:
    return sample in await analytics.samples()
