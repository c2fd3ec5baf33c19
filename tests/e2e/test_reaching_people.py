"""End to end, each service its own process on a broker of this module's own, PostgreSQL and a real
SMTP server: a critical complaint filed through the complaints API reaches the on-duty manager's
mailbox within seconds, with a link that acknowledges the complaint; the acknowledged complaint
then sees no SLA breach when its deadline passes, while one nobody acknowledged does."""

from datetime import timedelta
from uuid import UUID, uuid4

import httpx
import pytest

from services.shared.events.escalations import EscalationBreached, EscalationRouted
from services.shared.principal import Role
from services.shared.topics import ESCALATIONS
from tests.support import eventually, read_topic
from tests.support.complaints import add_stores
from tests.support.complaints import running_service as running_complaints
from tests.support.escalation import running_worker, tick, worker_knows_roster
from tests.support.infra import own_platform
from tests.support.notifications import link_in
from tests.support.notifications import running_service as running_notifications
from tests.support.scheduling import WEEKDAYS, put_on_duty, staff_body
from tests.support.scheduling import running_service as running_scheduling

RUN = uuid4().hex[:8]
REGION, STORE, MANAGER = f"reach-{RUN}", f"reach-{RUN}-store", f"mgr-{RUN}"
ADDRESS = f"{MANAGER}@chain.example"


@pytest.fixture(scope="module")
def platform(infra_dir):
    """A broker of this module's own: its tick moves the escalation clock past the deadlines, which on
    the session's broker would breach every open complaint of the other tests."""
    with own_platform(infra_dir / "kafka-reaching-people") as platform:
        yield platform


@pytest.fixture(scope="module")
async def worker(platform, tmp_path_factory):
    async for running in running_worker(platform, tmp_path_factory.mktemp("escalation")):
        yield running


@pytest.fixture(scope="module")
async def chain(new_database, platform, worker, mailbox):
    async for scheduling in running_scheduling(await new_database(), platform):
        admin = scheduling.token(Role.service, None, sub="svc-setup")
        site = {"region_id": REGION, "name": "Reaching store", "timezone": "Europe/Helsinki",
                "opening_hours": {day: [["00:00", "24:00"]] for day in WEEKDAYS}}
        for path, body in [(f"/v1/regions/{REGION}", {"name": REGION}), (f"/v1/sites/{STORE}", site),
                           (f"/v1/staff/{MANAGER}", staff_body(Role.store_manager, STORE, contact={"work_email": ADDRESS}))]:
            response = await scheduling.client.put(path, json=body, headers=admin)
            assert response.status_code == 204, response.text
        async for complaints in running_complaints(await new_database(), platform):
            await add_stores(complaints, REGION, [STORE])
            notifications = await running_notifications(
                await new_database(), platform, mailbox, str(scheduling.client.base_url),
                complaints_url=str(complaints.client.base_url))
            try:
                yield scheduling, complaints, notifications
            finally:
                notifications.stop()


async def test_a_critical_complaint_reaches_the_managers_mailbox_and_its_link_stops_the_sla_timer(
        chain, worker, mailbox, platform):
    scheduling, complaints, notifications = chain
    await put_on_duty(scheduling, MANAGER, STORE)
    await worker_knows_roster(worker, platform.kafka_bootstrap_servers, STORE, {MANAGER})

    acknowledged, ignored = [await file_critical(complaints) for _ in range(2)]
    messages = {}
    for complaint in (acknowledged, ignored):
        async def arrived(complaint=complaint):
            return [message for message in mailbox.to(ADDRESS, complaint) if message["Subject"].startswith("Page:")]

        try:
            [messages[complaint]] = await eventually(arrived, timeout_s=60, what="the page in the manager's mailbox")
        except AssertionError as error:
            said = [message["Subject"] for message in mailbox.messages if message["To"] == ADDRESS]
            raise AssertionError(f"{error}\nthe manager's mail: {said}\nnotifications:\n{notifications.logs()[-3000:]}") from None

    async with httpx.AsyncClient(base_url=notifications.url) as browser:
        shown = await browser.get(link_in(messages[acknowledged]))
        assert shown.status_code == 200 and "Acknowledge complaint" in shown.text
        done = await browser.post(link_in(messages[acknowledged]))
        assert done.status_code == 200 and "SLA timer has stopped" in done.text
    complaint = await complaints.client.get(f"/v1/complaints/{acknowledged}",
                                            headers=complaints.token(Role.store_manager, STORE, sub=MANAGER, region=REGION))
    assert complaint.json()["status"] == "acknowledged" and complaint.json()["acknowledged_at"] is not None

    # The acknowledge deadline passes for both: only the one nobody acknowledged is breached.
    routed = await read_topic(platform.kafka_bootstrap_servers, ESCALATIONS, lambda found: len(of(found, EscalationRouted)) == 2)
    deadline = max(event.acknowledge_by for event in of(routed, EscalationRouted))
    await tick(platform, deadline + timedelta(minutes=1))

    def breached(found) -> list[EscalationBreached]:
        return [e for e in of(found, EscalationBreached) if e.deadline_kind == "acknowledge"]

    found = await read_topic(platform.kafka_bootstrap_servers, ESCALATIONS, lambda found: breached(found), timeout_s=60)
    assert {str(event.complaint_id) for event in breached(found)} == {ignored}


async def file_critical(complaints) -> str:
    filed = await complaints.file(store=STORE, severity="critical", mood="angry")
    assert filed.status_code == 201, filed.text
    return str(UUID(filed.json()["id"]))


def of(found: list, kind: type) -> list:
    return [envelope.data for envelope in found if isinstance(envelope.data, kind)]
