"""Each person's queue, on real Kafka and PostgreSQL: complaints filed through the complaints API are
routed by the real escalation worker, the complaints worker keeps whom each was routed or raised to,
and `GET /v1/complaints?assignee=me` lists exactly the caller's; a raise moves a complaint to the
next person's queue, and an assignment by hand is honoured by the escalation worker."""

from datetime import datetime, timedelta

import pytest

from services.escalation.topics import CLOCK
from services.shared.principal import Role
from services.shared.topics import COMPLAINTS, ESCALATIONS, ROSTER
from tests.support import eventually
from tests.support.complaints import running_worker as running_complaints_worker
from tests.support.complaints import start_api
from tests.support.escalation import publish_roster, running_worker, tick, worker_has_read
from tests.support.infra import own_platform

STORE, REGION = "hel-kamppi", "uusimaa"
ASSOCIATE, COORDINATOR, MANAGER, OTHER_COORDINATOR = "q-emp-0001", "q-crd-0001", "q-mgr-0001", "q-crd-0002"
ROLES = {ASSOCIATE: Role.associate, COORDINATOR: Role.coordinator, MANAGER: Role.store_manager,
         OTHER_COORDINATOR: Role.coordinator}


@pytest.fixture(scope="module")
def platform(infra_dir):
    """A broker of this module's own: its tick moves the escalation clock 15 minutes on, which on the
    session's broker would breach every open complaint of the earlier tests at once and hold back
    every later escalation worker."""
    with own_platform(infra_dir / "kafka-complaints-queues") as platform:
        yield platform


@pytest.fixture(scope="module")
async def escalation(platform, tmp_path_factory):
    async for running in running_worker(platform, tmp_path_factory.mktemp("escalation")):
        yield running


@pytest.fixture(scope="module")
async def api(new_database, platform, escalation):
    url = await new_database()
    async for running in start_api(url, platform):
        async for _worker in running_complaints_worker(url, platform):
            yield running


def as_(api, staff_id: str) -> dict:
    return api.token(ROLES[staff_id], STORE, sub=staff_id)


async def queue(api, staff_id: str, **params) -> set[str]:
    response = await api.client.get("/v1/complaints", params={"assignee": "me", **params}, headers=as_(api, staff_id))
    assert response.status_code == 200, response.text
    return {item["id"] for item in response.json()["items"]}


async def file(api, email: str, **overrides) -> dict:
    response = await api.file(store=STORE, customer={"email": email}, **overrides)
    assert response.status_code == 201, response.text
    return response.json()


async def queues_are(api, expected: dict[str, set[str]]) -> bool:
    return all([await queue(api, staff_id) == ids for staff_id, ids in expected.items()])


async def test_each_person_lists_exactly_the_complaints_routed_or_raised_to_them(api, platform, escalation):
    await publish_roster(platform, STORE, REGION, [(ASSOCIATE, "associate"), (COORDINATOR, "coordinator"),
                                                   (MANAGER, "store_manager")])
    await eventually(lambda: escalation.has_read(ROSTER), timeout_s=90, what="the escalation worker to read the roster")
    calm = await file(api, "q-calm@example.com", severity="low", mood="calm")
    serious = await file(api, "q-serious@example.com", severity="high", mood="calm")
    angry = await file(api, "q-angry@example.com", severity="low", mood="angry")
    routed = {ASSOCIATE: {calm["id"]}, COORDINATOR: {serious["id"]}, MANAGER: {angry["id"]}, OTHER_COORDINATOR: set()}
    await eventually(lambda: queues_are(api, routed), timeout_s=60, what="each complaint in its person's queue")

    shown = (await api.client.get(f"/v1/complaints/{serious['id']}", headers=as_(api, COORDINATOR))).json()
    assert (shown["assignee"], shown["assignee_role"]) == (COORDINATOR, "coordinator")
    assert shown["customer"]["email"] == "q-serious@example.com", "the person it is routed to needs the contact"
    assert await queue(api, MANAGER, tier="store_manager") == {angry["id"]}
    assert await queue(api, MANAGER, tier="associate") == set()

    acknowledged = await api.client.post(f"/v1/complaints/{angry['id']}/acknowledge", headers=as_(api, MANAGER))
    assert acknowledged.status_code == 200, acknowledged.text
    assigned = await api.client.post(f"/v1/complaints/{serious['id']}/assign", headers=as_(api, COORDINATOR),
                                     json={"assignee": OTHER_COORDINATOR, "assignee_role": "coordinator"})
    assert assigned.status_code == 200, assigned.text
    await eventually(lambda: escalation.has_read(COMPLAINTS), timeout_s=90, what="the escalation worker to read them")

    # The clock passes the acknowledge deadline of the calm complaint, the only one nobody acknowledged:
    # it is raised to the coordinator; the one assigned by hand counts as acknowledged and stays.
    passed = datetime.fromisoformat(calm["created_at"]) + timedelta(minutes=15, seconds=10)
    await tick(platform, passed)
    await eventually(lambda: escalation.has_read(CLOCK), timeout_s=90, what="the escalation worker to read the tick")
    await eventually(lambda: worker_has_read(platform, ESCALATIONS, group="complaints"), timeout_s=60,
                     what="the complaints worker to read what the tick raised")
    assert {staff_id: await queue(api, staff_id) for staff_id in ROLES} == {
        ASSOCIATE: set(), COORDINATOR: {calm["id"]}, MANAGER: {angry["id"]}, OTHER_COORDINATOR: {serious["id"]},
    }
    raised = (await api.client.get(f"/v1/complaints/{calm['id']}", headers=as_(api, COORDINATOR))).json()
    assert raised["assignee_role"] == "coordinator"
    assert datetime.fromisoformat(raised["acknowledge_by"]) == passed + timedelta(minutes=15)
    assert await queue(api, COORDINATOR, assignee=COORDINATOR, tier="coordinator") == {calm["id"]}


async def test_a_reopened_complaint_shows_the_deadlines_its_escalation_restarted(api, escalation):
    angry = await file(api, "q-reopened@example.com", severity="low", mood="angry")
    await eventually(lambda: _in(api, MANAGER, angry["id"]), timeout_s=60, what="the complaint in the manager's queue")
    await api.resolve(angry["id"], STORE)
    reopened = await api.client.post(f"/v1/complaints/{angry['id']}/reopen", headers=as_(api, MANAGER),
                                     json={"reason": "the kettle leaks again"})
    assert reopened.status_code == 200, reopened.text
    at = datetime.fromisoformat(reopened.json()["updated_at"])

    async def restarted() -> dict | None:
        shown = (await api.client.get(f"/v1/complaints/{angry['id']}", headers=as_(api, MANAGER))).json()
        return shown if shown["resolve_by"] is not None else None

    shown = await eventually(restarted, timeout_s=60, what="the restarted deadlines on the complaint")
    assert (shown["status"], shown["acknowledged_at"], shown["assignee"]) == ("open", None, MANAGER)
    acknowledge_by, resolve_by = datetime.fromisoformat(shown["acknowledge_by"]), datetime.fromisoformat(shown["resolve_by"])
    assert at < acknowledge_by < resolve_by  # from the reopening, at the manager's tier


async def _in(api, staff_id: str, complaint_id: str) -> bool:
    return complaint_id in await queue(api, staff_id)
