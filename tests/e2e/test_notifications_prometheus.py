"""A real Prometheus (Debian's) with deploy/prometheus's configuration and rules scraping the notifications
service as operators run it, beside the scheduling and complaints APIs as their own processes, a real SMTP
server and a broker of this module's own: one page goes out by e-mail and is acknowledged from its link,
another reaches nobody. Every Grafana panel over the notifications metrics then has data, the scraped count
of e-mailed pages is exactly the one sent, and NotificationsPagesUndeliverable fires."""

from uuid import uuid4

import httpx
import pytest

from services.analytics.dashboards import DASHBOARDS
from services.shared.events.complaints import Severity
from services.shared.principal import Role
from services.shared.topics import ESCALATIONS
from tests.support import complaints as complaints_support
from tests.support import eventually
from tests.support import scheduling as scheduling_support
from tests.support.infra import free_port, own_platform
from tests.support.notifications import Mailbox, add_manager, link_in, paged, running_service
from tests.support.prometheus import assert_every_panel_has_data, firing, reads_notifications, running_prometheus, value
from tests.support.scheduling import produce, staff_body

STORE, REGION = "hel-kamppi", "uusimaa"  # where `add_manager` puts its managers and `paged` its pages
REACHABLE, UNREACHABLE = "mgr-0910", "mgr-0911"
ADDRESS = f"{REACHABLE}@chain.example"
# One attempt, so that the unreachable manager's page is given up at once; short timeouts, so that it is soon.
SETTINGS = {"max_attempts": "1", "retry_base_s": "0.2", "retry_cap_s": "1", "smtp_timeout_s": "2",
            "webhook_timeout_s": "2", "http_timeout_s": "5"}


@pytest.fixture(scope="module")
def platform(infra_dir):
    """A broker of this module's own: the notifications service reads the escalations topic from its start, and
    on the session's broker would also deliver (and give up) the pages of every earlier test."""
    with own_platform(infra_dir / "kafka-notifications-prometheus") as platform:
        yield platform


@pytest.fixture
async def scheduling(new_database, platform):
    """The directory: one manager with a work e-mail; the other's only channel a webhook on a port nobody listens on."""
    async for running in scheduling_support.running_service(await new_database(), platform):
        assert await add_manager(running, REACHABLE) == ADDRESS
        contact = {"webhook_url": f"http://127.0.0.1:{free_port()}/hooks/on-duty"}
        response = await running.client.put(f"/v1/staff/{UNREACHABLE}", headers=running.admin(),
                                            json=staff_body(Role.store_manager, STORE, contact=contact))
        assert response.status_code == 204, response.text
        yield running


@pytest.fixture
async def complaints(new_database, platform):
    async for running in complaints_support.running_service(await new_database(), platform):
        await complaints_support.add_stores(running, REGION, [STORE])
        yield running


@pytest.fixture
async def notifications(new_database, platform, mailbox, scheduling, complaints):
    """The URL of the notifications service, which acknowledges to the complaints process."""
    process = await running_service(await new_database(), platform, mailbox, str(scheduling.client.base_url),
                                    complaints_url=str(complaints.client.base_url), **SETTINGS)
    try:
        yield process.url
    finally:
        process.stop()


@pytest.fixture
async def prometheus(platform, notifications, tmp_path):
    async with running_prometheus(tmp_path, platform, {"notifications": notifications.removeprefix("http://")}) as client:
        yield client


async def test_pages_sent_acknowledged_and_undeliverable_show_on_the_panels_and_fire_the_alert(
    complaints, mailbox, notifications, prometheus
):
    await _scenario(complaints, mailbox, notifications)

    panels = [(dashboard.uid, panel) for dashboard in DASHBOARDS for panel in dashboard.panels if reads_notifications(panel)]
    assert len(panels) == 4, [panel.title for _, panel in panels]
    await assert_every_panel_has_data(prometheus, panels, timeout_s=90)

    async def scraped() -> bool:  # the page e-mailed and acknowledged; the webhook tried once, failed, its page given up
        counts = [await value(prometheus, expr) for expr in (
            'notifications_deliveries_total{channel="email",outcome="sent"}',
            'notifications_acknowledgements_total{outcome="acknowledged"}',
            'notifications_deliveries_total{channel="webhook",outcome="failed_over"}',
            'sum(notifications_deliveries_total{outcome="undeliverable"})',
        )]
        return counts == [len(mailbox.messages), 1, 1, 1]

    await eventually(scraped, timeout_s=30, what="Prometheus to scrape one page sent and acknowledged, one undeliverable")
    assert len(mailbox.messages) == 1, [m["To"] for m in mailbox.messages]

    # The alert's recording rule is evaluated once a minute (its group's interval in recording.yml).
    [alert] = await eventually(lambda: firing(prometheus, "NotificationsPagesUndeliverable"),
                               timeout_s=120, what="NotificationsPagesUndeliverable to fire")
    assert alert["severity"] == "critical" and alert["channel"] == "webhook", alert


async def _scenario(complaints, mailbox: Mailbox, notifications_url: str) -> None:
    """A critical complaint's page e-mailed to the reachable manager and acknowledged from its link, which
    acknowledges the complaint in the complaints service; then a page to the unreachable one."""
    filed = await complaints.file(store=STORE, severity=Severity.critical)
    assert filed.status_code == 201, filed.text
    complaint_id = filed.json()["id"]
    await produce(complaints.platform, ESCALATIONS, [paged(complaint_id, REACHABLE)])

    async def mailed() -> list:
        return mailbox.to(ADDRESS, complaint_id)

    [message] = await eventually(mailed, timeout_s=60, what=f"the page to {ADDRESS}")
    # The link names the public address the service was given; the same path on the process itself.
    async with httpx.AsyncClient(base_url=notifications_url, timeout=10) as client:
        response = await client.post(link_in(message))
    assert response.status_code == 200 and "Acknowledged" in response.text, response.text
    complaint = await complaints.client.get(f"/v1/complaints/{complaint_id}",
                                            headers=complaints.token(Role.store_manager, STORE, sub=REACHABLE))
    assert complaint.status_code == 200 and complaint.json()["status"] == "acknowledged", complaint.text

    await produce(complaints.platform, ESCALATIONS, [paged(str(uuid4()), UNREACHABLE)])
