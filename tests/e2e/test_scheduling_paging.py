"""End to end, each service its own process on the real broker and PostgreSQL: the scheduling service
puts a store manager on duty, and a critical complaint filed through the complaints API pages that
manager; after a shift change, the next one pages the manager now on duty. No roster is published by
the test: the escalation worker knows who is on duty only from the scheduling service's events."""

from uuid import UUID, uuid4

import httpx
import pytest

from services.shared.events.escalations import Assignee, EscalationPaged
from services.shared.events.fields import Tier
from services.shared.principal import Role
from services.shared.topics import ESCALATIONS
from tests.support import read_topic, ready_process
from tests.support.complaints import Api as ComplaintsApi, add_stores
from tests.support.escalation import worker_knows_roster
from tests.support.infra import free_port
from tests.support.scheduling import WEEKDAYS, put_on_duty, running_service, staff_body

RUN = uuid4().hex[:8]  # this module's own region, store and staff: other tests' rosters and boards stay as they are
REGION, STORE = f"sched-{RUN}", f"sched-{RUN}-store"
FIRST, SECOND = f"mgr-{RUN}-a", f"mgr-{RUN}-b"


@pytest.fixture
async def scheduling(new_database, platform):
    async for running in running_service(await new_database(), platform):
        admin = running.token(Role.service, None, sub="svc-setup")
        site = {"region_id": REGION, "name": "Paging store", "timezone": "Europe/Helsinki",
                "opening_hours": {day: [["00:00", "24:00"]] for day in WEEKDAYS}}
        for path, body in [(f"/v1/regions/{REGION}", {"name": REGION}), (f"/v1/sites/{STORE}", site),
                           *[(f"/v1/staff/{staff}", staff_body(Role.store_manager, STORE)) for staff in (FIRST, SECOND)]]:
            response = await running.client.put(path, json=body, headers=admin)
            assert response.status_code == 204, response.text
        yield running


@pytest.fixture
async def complaints(new_database, platform):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = await ready_process("services.complaints", {
        "COMPLAINTS_DATABASE_URL": await new_database(), "COMPLAINTS_PORT": str(port),
        "RETAIL_KAFKA_BOOTSTRAP_SERVERS": platform.kafka_bootstrap_servers,
    }, url)
    try:
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            api = ComplaintsApi(client, platform, process, stores={})
            await add_stores(api, REGION, [STORE])
            yield api
    finally:
        process.stop()


async def page_for_critical_complaint(complaints, kafka_bootstrap: str) -> Assignee:
    filed = await complaints.file(store=STORE, severity="critical", mood="angry")
    assert filed.status_code == 201, filed.text
    complaint_id = UUID(filed.json()["id"])

    def paged(found: list) -> list[EscalationPaged]:
        return [e.data for e in found if isinstance(e.data, EscalationPaged) and e.data.complaint_id == complaint_id]

    found = await read_topic(kafka_bootstrap, ESCALATIONS, paged, timeout_s=90)
    (page,) = paged(found)
    return page.recipient


async def test_the_scheduled_manager_is_paged_and_after_a_shift_change_the_new_one(
    worker, scheduling, complaints, kafka_bootstrap
):
    first_shift = await put_on_duty(scheduling, FIRST, STORE)
    on_duty = (await scheduling.client.get("/v1/on-duty", params={"site_id": STORE}, headers=scheduling.admin())).json()
    assert on_duty["sites"][0]["manager"]["staff_id"] == FIRST
    await worker_knows_roster(worker, kafka_bootstrap, STORE, {FIRST})

    assert await page_for_critical_complaint(complaints, kafka_bootstrap) == Assignee(tier=Tier.store_manager, staff_id=FIRST)

    # The shift change: the second manager takes over now, and the first one's shift is cancelled.
    await put_on_duty(scheduling, SECOND, STORE)
    cancelled = await scheduling.client.post(f"/v1/shifts/{first_shift['shift_id']}/cancel", headers=scheduling.admin())
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled", cancelled.text
    await worker_knows_roster(worker, kafka_bootstrap, STORE, {SECOND})

    assert await page_for_critical_complaint(complaints, kafka_bootstrap) == Assignee(tier=Tier.store_manager, staff_id=SECOND)
