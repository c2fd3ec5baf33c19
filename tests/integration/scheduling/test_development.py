"""Coaching notes and development records on real PostgreSQL and Kafka: coordinators and managers
write notes on the staff they coach (the text stays in the service; CoachingNoteRecorded goes out
without it), the person and their managers read them, and a development record brings together the
person's training, notes, the complaints they resolved and the CSAT those got (from the real
complaints topic), with their readiness for the next step, criterion by criterion.

On a broker of this module's own: the record counts every resolution on the complaints topic, and the
session's broker carries other tests' resolutions by the same people."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from services.shared.events.complaints import ComplaintResolved, CsatSubmitted
from services.shared.events.envelope import Envelope, wrap
from services.shared.events.scheduling import CoachingNoteRecorded
from services.shared.principal import Role
from services.shared.topics import COMPLAINTS, SCHEDULING
from tests.support import eventually, read_all, read_records
from tests.support.builders import example
from tests.support.infra import own_platform
from tests.support.scheduling import Api, applied, produce, start_worker

NOTE = "Calm tone with the customer at the register; next time offer the exchange before the refund form."


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def resolved(complaint_id, by: str, role: str = "associate") -> Envelope:
    event = example(ComplaintResolved, complaint_id=complaint_id, by=by, by_role=role)
    return wrap(event, source="/services/complaints", time=event.at, subject=str(complaint_id))


def csat(complaint_id, score: int) -> Envelope:
    event = example(CsatSubmitted, complaint_id=complaint_id, score=score)
    return wrap(event, source="/services/complaints", time=event.at, subject=str(complaint_id))


async def note(api: Api, staff: str, headers: dict, text: str = NOTE, complaint_ids: list | None = None):
    body = {"text": text, "complaint_ids": [str(c) for c in complaint_ids or []]}
    return await api.client.post(f"/v1/staff/{staff}/coaching-notes", json=body, headers=headers)


async def completed_register_training(api: Api, trainee: str) -> None:
    """A register session at Kamppi that the trainee attended, completed through the training API."""
    api.clock.now = utc(2027, 3, 1, 6)
    for staff in ("mgr-0007", trainee):
        assert (await api.shift(staff, "hel-kamppi", utc(2027, 3, 2, 7), utc(2027, 3, 2, 15))).status_code == 201
    assert (await api.publish("hel-kamppi", "2027-03-01")).status_code == 200
    body = {"site_id": "hel-kamppi", "kind": "register", "trainer": "mgr-0007", "starts_at": "2027-03-02T08:00:00Z",
            "ends_at": "2027-03-02T09:00:00Z", "capacity": 4, "staff_ids": [trainee]}
    session = await api.client.post("/v1/training/sessions", json=body, headers=api.admin())
    assert session.status_code == 201, session.text
    api.clock.now = utc(2027, 3, 2, 9, 30)
    path = f"/v1/training/sessions/{session.json()['session_id']}"
    assert (await api.client.put(f"{path}/attendance", json={"attended": [trainee]}, headers=api.admin())).status_code == 200
    assert (await api.client.post(f"{path}/complete", headers=api.admin())).status_code == 200


@pytest.fixture(scope="module")
def platform(infra_dir):
    with own_platform(infra_dir / "kafka-scheduling-development") as platform:
        yield platform


@pytest.fixture
async def worker(api):
    async for running in start_worker(api.app.state.settings.database_url, api.platform, api.clock):
        yield running


async def test_coaching_notes_are_written_by_coaches_and_read_by_the_person_and_their_managers(api):
    manager = api.token(Role.store_manager, "hel-kamppi", sub="mgr-0007")
    complaint = uuid4()
    written = await note(api, "emp-1042", {**manager, "Idempotency-Key": "note-1"}, complaint_ids=[complaint, complaint])
    assert written.status_code == 201, written.text
    assert written.json()["coach"] == "mgr-0007" and written.json()["coach_role"] == "store_manager"
    assert written.json()["complaint_ids"] == [str(complaint)] and written.json()["text"] == NOTE
    retried = await note(api, "emp-1042", {**manager, "Idempotency-Key": "note-1"}, complaint_ids=[complaint, complaint])
    assert retried.json() == written.json()
    regional = api.token(Role.regional_coordinator, sub="rc-uusimaa-1")
    api.clock.now += timedelta(hours=1)
    assert (await note(api, "emp-1042", regional, "Good follow-up on the reopened case.")).status_code == 201

    # Who may not write: a colleague, a manager of another site, a manager about themselves.
    colleague = api.token(Role.associate, "hel-kamppi", sub="emp-1043")
    assert (await note(api, "emp-1042", colleague)).status_code == 403
    other_site = api.token(Role.store_manager, "hel-callcentre", sub="mgr-0100")
    assert (await note(api, "emp-1042", other_site)).status_code == 404
    assert (await note(api, "mgr-0007", manager)).status_code == 403
    assert (await note(api, "emp-0000", manager)).status_code == 404

    # Bounded input, refused naming the field; nothing written.
    too_long = await note(api, "emp-1042", manager, "x" * 4001)
    assert too_long.status_code == 422 and too_long.json()["detail"][0]["loc"] == ["body", "text"]
    too_many = await note(api, "emp-1042", manager, complaint_ids=[uuid4() for _ in range(21)])
    assert too_many.status_code == 422 and too_many.json()["detail"][0]["loc"] == ["body", "complaint_ids"]

    # Who reads them: the person, their site's manager, their region's coordinators, senior managers.
    for reader in (api.token(Role.associate, "hel-kamppi", sub="emp-1042"), manager, regional, api.admin(),
                   api.token(Role.coordinator, sub="co-uusimaa-1")):
        listed = await api.client.get("/v1/staff/emp-1042/coaching-notes", headers=reader)
        assert listed.status_code == 200 and [n["coach"] for n in listed.json()] == ["rc-uusimaa-1", "mgr-0007"]
    for outsider in (colleague, other_site, api.token(Role.regional_coordinator, "nyc-desk", sub="rc-us-east-1"),
                     api.token(Role.ops, None, sub="ops-1")):
        assert (await api.client.get("/v1/staff/emp-1042/coaching-notes", headers=outsider)).status_code == 404

    # On Kafka: that a note was recorded, about which complaints, never what it says.
    async def recorded() -> list:
        events = [e.data for e in await read_all(api.platform.kafka_bootstrap_servers, SCHEDULING)]
        return [e for e in events if isinstance(e, CoachingNoteRecorded) and str(e.note_id) == written.json()["note_id"]]

    (event,) = await eventually(recorded, what="the CoachingNoteRecorded event")
    assert (event.staff_id, event.coach, event.store_id) == ("emp-1042", "mgr-0007", "hel-kamppi")
    assert event.complaint_ids == [complaint]
    records = await read_records(api.platform.kafka_bootstrap_servers, SCHEDULING.name, SCHEDULING.partitions)
    assert not [record for record in records if b"register; next time" in record.value]


async def test_the_development_record_and_readiness_come_from_training_notes_and_resolutions(api, worker):
    await completed_register_training(api, "emp-1042")
    first, second, handed_over, someone_elses = uuid4(), uuid4(), uuid4(), uuid4()
    events = [
        resolved(first, "emp-1042"), csat(first, 5),
        resolved(second, "emp-1042"), csat(second, 4),
        resolved(handed_over, "emp-1042"), resolved(handed_over, "mgr-0007", "store_manager"), csat(handed_over, 1),
        resolved(someone_elses, "emp-1043"), csat(someone_elses, 2),
    ]
    await produce(api.platform, COMPLAINTS, events + events[:2])  # some delivered twice
    ids = {envelope.id for envelope in events}

    async def all_applied() -> bool:
        return await applied(api.app.state.settings.database_url, ids) == len(ids)

    await eventually(all_applied, timeout_s=60, what="the worker to apply the resolutions and answers")
    manager = api.token(Role.store_manager, "hel-kamppi", sub="mgr-0007")
    for coach in (manager, api.token(Role.regional_coordinator, sub="rc-uusimaa-1")):
        assert (await note(api, "emp-1042", coach, complaint_ids=[first])).status_code == 201

    own = api.token(Role.associate, "hel-kamppi", sub="emp-1042")
    response = await api.client.get("/v1/staff/emp-1042/development", headers=own)
    assert response.status_code == 200, response.text
    record = response.json()
    assert (record["role"], record["home_site_id"], record["hire_date"]) == ("associate", "hel-kamppi", "2024-01-15")
    assert [(t["kind"], t["status"]) for t in record["training"]] == [("register", "completed")]
    assert record["coaching_notes_count"] == 2 and {n["coach"] for n in record["coaching_notes"]} == {"mgr-0007", "rc-uusimaa-1"}
    # The handed-over complaint and its CSAT count for whoever resolved it last.
    assert (record["complaints_resolved"], record["csat_responses"], record["average_csat"]) == (2, 2, 4.5)

    readiness = record["readiness"]
    assert (readiness["next_role"], readiness["ready"]) == ("coordinator", False)
    criteria = {c["name"]: c for c in readiness["criteria"]}
    assert {name for name, c in criteria.items() if c["met"]} == {"tenure_months", "coaching_notes"}
    assert criteria["tenure_months"]["actual"] == 37 and criteria["tenure_months"]["required"] == 12
    assert criteria["training_completed"]["actual"] == ["register"]
    assert criteria["complaints_resolved"] == {"name": "complaints_resolved", "met": False, "required": 50, "actual": 2}
    assert (await api.client.get("/v1/staff/emp-1042/readiness", headers=manager)).json() == readiness

    manager_record = (await api.client.get("/v1/staff/mgr-0007/development", headers=api.admin())).json()
    assert (manager_record["complaints_resolved"], manager_record["average_csat"]) == (1, 1.0)
    assert manager_record["readiness"]["next_role"] == "regional_coordinator"
    colleague = api.token(Role.associate, "hel-kamppi", sub="emp-1043")
    assert (await api.client.get("/v1/staff/emp-1042/development", headers=colleague)).status_code == 404
    assert (await api.client.get("/v1/staff/emp-1042/readiness", headers=colleague)).status_code == 404
