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
from services.shared.kafka import ensure_topics
from services.shared.principal import Role
from services.shared.settings import PlatformSettings
from services.shared.topics import ALL_TOPICS, ESCALATIONS
from tests.support import eventually
from tests.support import complaints as complaints_support
from tests.support import scheduling as scheduling_support
from tests.support.infra import free_port, kafka_broker
from tests.support.notifications import Mailbox, add_manager, link_in, paged, running_service_at
from tests.support.prometheus import assert_every_panel_has_data, firing, reads_notifications, running_prometheus, value
from tests.support.scheduling import produce, staff_body

STORE, REGION = "hel-kamppi", "uusimaa"  # where `add_manager` puts its managers and `paged` its pages
REACHABLE, UNREACHABLE = "mgr-0910", "mgr-0911"
# One attempt, so that the unreachable manager's page is given up at once; short timeouts, so that it is soon.
SETTINGS = {"max_attempts": "1", "retry_base_s": "0.2", "retry_cap_s": "1", "smtp_timeout_s": "2",
            "webhook_timeout_s": "2", "http_timeout_s": "5"}


@pytest.fixture(scope="module")
def platform(infra_dir):
    """A broker of this module's own: the notifications service reads the escalations topic from its start, and
    on the session's broker would also deliver (and give up) the pages of every earlier test."""
    with kafka_broker(infra_dir / "kafka-notifications-prometheus") as bootstrap:
        platform = PlatformSettings(kafka_bootstrap_servers=bootstrap)
        ensure_topics(platform, ALL_TOPICS)
        yield platform


@pytest.fixture
def mailbox():
    mailbox = Mailbox()
    mailbox.start()
    yield mailbox
    mailbox.stop()


async def test_pages_sent_acknowledged_and_undeliverable_show_on_the_panels_and_fire_the_alert(
    new_database, platform, mailbox, tmp_path
):
    async for scheduling in scheduling_support.running_service(await new_database(), platform):
        async for complaints in complaints_support.running_service(await new_database(), platform):
            await complaints_support.add_stores(complaints, REGION, [STORE])
            address = await add_manager(scheduling, REACHABLE)
            # The other manager's only channel is a webhook on a port nobody listens on.
            contact = {"webhook_url": f"http://127.0.0.1:{free_port()}/hooks/on-duty"}
            response = await scheduling.client.put(f"/v1/staff/{UNREACHABLE}", headers=scheduling.admin(),
                                                   json=staff_body(Role.store_manager, STORE, contact=contact))
            assert response.status_code == 204, response.text
            async for notifications, url in running_service_at(
                await new_database(), platform, mailbox, str(scheduling.client.base_url),
                complaints_url=str(complaints.client.base_url), **SETTINGS,
            ):
                async with running_prometheus(tmp_path, platform, "notifications", url.removeprefix("http://")) as prometheus:
                    await _scenario(complaints, mailbox, address, url)

                    panels = [(dashboard.uid, panel) for dashboard in DASHBOARDS for panel in dashboard.panels
                              if reads_notifications(panel)]
                    assert len(panels) == 4, [panel.title for _, panel in panels]
                    await assert_every_panel_has_data(prometheus, panels, timeout_s=90)

                    async def scraped() -> bool:
                        sent = await value(prometheus, 'notifications_deliveries_total{channel="email",outcome="sent"}')
                        undeliverable = await value(prometheus, 'sum(notifications_deliveries_total{outcome="undeliverable"})')
                        return sent == 1 and undeliverable == 1

                    await eventually(scraped, timeout_s=30, what="Prometheus to scrape one page sent, one undeliverable")

                    # The alert's recording rule is evaluated once a minute (its group's interval in recording.yml).
                    [alert] = await eventually(lambda: firing(prometheus, "NotificationsPagesUndeliverable"),
                                               timeout_s=120, what="NotificationsPagesUndeliverable to fire")
                    assert alert["channel"] == "webhook" and alert["severity"] == "critical", alert
                    assert len(mailbox.messages) == 1, [m["To"] for m in mailbox.messages]


async def _scenario(complaints, mailbox: Mailbox, address: str, notifications_url: str) -> None:
    """A critical complaint's page e-mailed to the reachable manager and acknowledged from its link, which
    acknowledges the complaint in the complaints service; then a page to the unreachable one."""
    filed = await complaints.file(store=STORE, severity=Severity.critical)
    assert filed.status_code == 201, filed.text
    complaint_id = filed.json()["id"]
    await produce(complaints.platform, ESCALATIONS, [paged(complaint_id, REACHABLE)])

    async def mailed() -> list:
        return mailbox.to(address, complaint_id)

    [message] = await eventually(mailed, timeout_s=60, what=f"the page to {address}")
    # The link names the public address the service was given; the same path on the process itself.
    async with httpx.AsyncClient(base_url=notifications_url, timeout=10) as client:
        response = await client.post(link_in(message))
    assert response.status_code == 200 and "Acknowledged" in response.text, response.text
    complaint = await complaints.client.get(f"/v1/complaints/{complaint_id}",
                                            headers=complaints.token(Role.store_manager, STORE, sub=REACHABLE))
    assert complaint.status_code == 200 and complaint.json()["status"] == "acknowledged", complaint.text

    await produce(complaints.platform, ESCALATIONS, [paged(str(uuid4()), UNREACHABLE)])
