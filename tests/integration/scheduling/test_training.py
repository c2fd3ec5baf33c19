"""Training through the API on real PostgreSQL (and SQLite), Kafka where events are checked: sessions
inside the attendees' shifts with capacity and no double-booking, completion that adds the skills,
new hires enrolled in onboarding, promotion briefings at every site of a region, and role-play from
the site's own complaints consumed from the real `complaints` topic."""

from collections.abc import AsyncIterator
from datetime import datetime
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest

from services.shared.events.complaints import ComplaintFiled, ComplaintReopened, ComplaintResolved
from services.shared.events.envelope import wrap
from services.shared.kafka import ensure_topics
from services.shared.principal import Role
from services.shared.topics import ALL_TOPICS, COMPLAINTS, SCHEDULING
from tests.support import eventually, read_topic
from tests.support.builders import example
from tests.support.infra import own_platform
from tests.support.scheduling import Api, applied, produce, staff_body, start_api, start_worker

HELSINKI = ZoneInfo("Europe/Helsinki")


def local(*args) -> datetime:
    return datetime(*args, tzinfo=HELSINKI)


async def on_shift(api: Api, *shifts: tuple[str, str, datetime, datetime]) -> None:
    """Published shifts of the first week of March, (staff, site, start, end)."""
    for staff, site, start, end in shifts:
        response = await api.shift(staff, site, start, end)
        assert response.status_code == 201, response.text
    for site in {site for _, site, _, _ in shifts}:
        assert (await api.publish(site, "2027-03-01")).status_code == 200


async def schedule(api: Api, kind: str, start: datetime, end: datetime, capacity: int = 5, trainer: str = "mgr-0007",
                   site: str = "hel-kamppi", staff_ids: tuple[str, ...] = (), headers: dict | None = None):
    body = {"site_id": site, "kind": kind, "trainer": trainer, "starts_at": start.isoformat(), "ends_at": end.isoformat(),
            "capacity": capacity, "staff_ids": list(staff_ids)}
    return await api.client.post("/v1/training/sessions", json=body, headers=headers or api.admin())


def attendees(session: dict) -> dict[str, str]:
    return {a["staff_id"]: a["status"] for a in session["attendees"]}


async def test_sessions_keep_capacity_shifts_and_bookings_and_completion_adds_the_skills(api):
    await on_shift(api, ("mgr-0007", "hel-kamppi", local(2027, 3, 2, 9), local(2027, 3, 2, 17)),
                   ("emp-1042", "hel-kamppi", local(2027, 3, 2, 9), local(2027, 3, 2, 17)),
                   ("emp-1043", "hel-kamppi", local(2027, 3, 2, 12), local(2027, 3, 2, 20)))
    register = await schedule(api, "register", local(2027, 3, 2, 10), local(2027, 3, 2, 11), capacity=1, staff_ids=("emp-1042",),
                              headers={**api.admin(), "Idempotency-Key": "register-1"})
    assert register.status_code == 201, register.text
    session = register.json()
    assert session["status"] == "scheduled" and attendees(session) == {"emp-1042": "enrolled"}
    again = await schedule(api, "register", local(2027, 3, 2, 10), local(2027, 3, 2, 11), capacity=1, staff_ids=("emp-1042",),
                           headers={**api.admin(), "Idempotency-Key": "register-1"})
    assert again.json() == session and again.headers["Idempotent-Replayed"] == "true"
    enrol = f"/v1/training/sessions/{session['session_id']}/enrolments"

    full = await api.client.post(enrol, json={"staff_ids": ["emp-1043"]}, headers=api.admin())
    assert full.status_code == 409 and "is full: capacity 1" in full.json()["detail"]

    returns = await schedule(api, "returns", local(2027, 3, 2, 11), local(2027, 3, 2, 12))
    assert returns.status_code == 201, returns.text
    off_shift = await api.client.post(f"/v1/training/sessions/{returns.json()['session_id']}/enrolments",
                                      json={"staff_ids": ["emp-1042", "emp-1043"]}, headers=api.admin())
    assert off_shift.status_code == 422
    (problem,) = off_shift.json()["detail"]
    assert problem["loc"] == ["body", "staff_ids"]
    assert "'emp-1043' has no published shift at site hel-kamppi covering Tue 2027-03-02 11:00–12:00" in problem["msg"]
    # All or none: emp-1042, who could join, was not enrolled either.
    returns_now = await api.client.get(f"/v1/training/sessions/{returns.json()['session_id']}", headers=api.admin())
    assert returns_now.json()["attendees"] == []

    trainer_busy = await schedule(api, "returns", local(2027, 3, 2, 10, 30), local(2027, 3, 2, 11, 30))
    assert trainer_busy.status_code == 409
    assert f"'mgr-0007' is already in training session {session['session_id']}" in trainer_busy.json()["detail"]
    trainer_away = await schedule(api, "returns", local(2027, 3, 2, 13), local(2027, 3, 2, 14), trainer="mgr-0008")
    assert trainer_away.status_code == 422 and trainer_away.json()["detail"][0]["loc"] == ["body", "trainer"]
    associate_trainer = await schedule(api, "returns", local(2027, 3, 2, 13), local(2027, 3, 2, 14), trainer="emp-1042")
    assert associate_trainer.status_code == 422 and "a trainer is one of" in associate_trainer.json()["detail"][0]["msg"]

    api.clock.now = local(2027, 3, 2, 10, 5)
    taken = await api.client.put(f"/v1/training/sessions/{session['session_id']}/attendance",
                                 json={"attended": ["emp-1042"]}, headers=api.admin())
    assert taken.status_code == 200 and attendees(taken.json()) == {"emp-1042": "attended"}
    done = await api.client.post(f"/v1/training/sessions/{session['session_id']}/complete", headers=api.admin())
    assert done.status_code == 200 and done.json()["status"] == "completed"
    assert attendees(done.json()) == {"emp-1042": "completed"}

    entry = (await api.client.get("/v1/staff/emp-1042", headers=api.admin())).json()
    assert {"register_cash", "register_credit", "register_debit", "register_gift_card"} <= set(entry["skills"])
    own = await api.client.get("/v1/staff/emp-1042/training", headers=api.token(Role.associate, sub="emp-1042"))
    assert [(r["kind"], r["status"]) for r in own.json()] == [("register", "completed")]

    called_off = await schedule(api, "returns", local(2027, 3, 2, 15), local(2027, 3, 2, 16), staff_ids=("emp-1043",))
    assert called_off.status_code == 201, called_off.text
    cancelled = await api.client.post(f"/v1/training/sessions/{called_off.json()['session_id']}/cancel", headers=api.admin())
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"

    # What went to the `scheduling` topic through the relay: the session with its trainee, then its
    # completion; the other session, then that it is off, with whom it concerned.
    ours = {session["session_id"]: {"TrainingScheduled", "TrainingCompleted"},
            called_off.json()["session_id"]: {"TrainingScheduled", "TrainingCancelled"}}

    def of(envelopes: list, session_id: str) -> dict:
        return {type(e.data).__name__: e.data for e in envelopes if str(getattr(e.data, "session_id", "")) == session_id}

    def arrived(envelopes: list) -> bool:
        return all(set(of(envelopes, session_id)) == kinds for session_id, kinds in ours.items())

    envelopes = await read_topic(api.platform.kafka_bootstrap_servers, SCHEDULING, arrived)
    scheduled, completed = of(envelopes, session["session_id"]).values()
    assert scheduled.trainees == ["emp-1042"] and scheduled.trainer == "mgr-0007" and scheduled.kind == "register"
    assert completed.attended == ["emp-1042"] and completed.store_id == "hel-kamppi"
    off = of(envelopes, called_off.json()["session_id"])["TrainingCancelled"]
    assert off.trainees == ["emp-1043"] and off.kind == "returns" and off.at == api.clock.now


async def test_a_new_hire_is_enrolled_in_onboarding_automatically(api_per_database):
    api = api_per_database
    manager = api.token(Role.store_manager, "hel-kamppi", sub="mgr-0007")
    hired = await api.client.put("/v1/staff/emp-1099", headers=manager,
                                 json=staff_body(Role.associate, "hel-kamppi", skills=[], hire_date="2027-02-26"))
    assert hired.status_code == 204, hired.text
    awaiting = await api.client.get("/v1/training/onboarding", params={"site_id": "hel-kamppi"}, headers=manager)
    assert [a["staff_id"] for a in awaiting.json()] == ["emp-1099"]  # the staff hired in 2024 are not new hires

    await on_shift(api, ("mgr-0007", "hel-kamppi", local(2027, 3, 3, 9), local(2027, 3, 3, 17)),
                   ("emp-1099", "hel-kamppi", local(2027, 3, 3, 9), local(2027, 3, 3, 15)))
    first = await schedule(api, "onboarding", local(2027, 3, 3, 10), local(2027, 3, 3, 12), headers=manager)
    assert first.status_code == 201, first.text
    assert attendees(first.json()) == {"emp-1099": "enrolled"}
    assert (await api.client.get("/v1/training/onboarding", headers=manager)).json() == []

    # Cancelled, the new hire awaits onboarding again, and the next session takes them.
    cancelled = await api.client.post(f"/v1/training/sessions/{first.json()['session_id']}/cancel", headers=manager)
    assert cancelled.status_code == 200 and attendees(cancelled.json()) == {"emp-1099": "cancelled"}
    assert [a["staff_id"] for a in (await api.client.get("/v1/training/onboarding", headers=manager)).json()] == ["emp-1099"]
    second = await schedule(api, "onboarding", local(2027, 3, 3, 13), local(2027, 3, 3, 14), headers=manager)
    assert attendees(second.json()) == {"emp-1099": "enrolled"}

    api.clock.now = local(2027, 3, 3, 14)
    done = await api.client.post(f"/v1/training/sessions/{second.json()['session_id']}/complete", headers=manager)
    assert attendees(done.json()) == {"emp-1099": "absent"}  # attendance was not taken
    assert [a["staff_id"] for a in (await api.client.get("/v1/training/onboarding", headers=manager)).json()] == ["emp-1099"]
    history = (await api.client.get("/v1/staff/emp-1099/training", headers=manager)).json()
    assert [r["status"] for r in history] == ["cancelled", "absent"]


async def test_a_new_hire_joins_the_onboarding_held_during_a_shift_of_theirs_once_it_is_published(api_per_database):
    api = api_per_database
    manager = api.token(Role.store_manager, "hel-kamppi", sub="mgr-0007")
    hired = await api.client.put("/v1/staff/emp-1099", headers=manager,
                                 json=staff_body(Role.associate, "hel-kamppi", skills=[], hire_date="2027-02-26"))
    assert hired.status_code == 204, hired.text
    await on_shift(api, ("mgr-0007", "hel-kamppi", local(2027, 3, 4, 9), local(2027, 3, 4, 17)))
    onboarding = await schedule(api, "onboarding", local(2027, 3, 4, 10), local(2027, 3, 4, 12), headers=manager)
    assert attendees(onboarding.json()) == {}  # the new hire has no shift then yet

    draft = await api.shift("emp-1099", "hel-kamppi", local(2027, 3, 4, 9), local(2027, 3, 4, 15))
    assert draft.status_code == 201 and draft.json()["status"] == "published"  # the week is published: at once
    session = await api.client.get(f"/v1/training/sessions/{onboarding.json()['session_id']}", headers=manager)
    assert attendees(session.json()) == {"emp-1099": "enrolled"}
    assert (await api.client.get("/v1/training/onboarding", headers=manager)).json() == []


async def test_a_promotion_gets_a_briefing_at_every_site_of_its_region(api_per_database):
    api = api_per_database
    # The promotion starts on Monday 8 March. On Sunday no manager works at Kamppi, so the briefing is on
    # Saturday, at noon, when most of its staff are on shift with the manager; nobody works at the call centre.
    await on_shift(api, ("mgr-0007", "hel-kamppi", local(2027, 3, 6, 10), local(2027, 3, 6, 18)),
                   ("emp-1042", "hel-kamppi", local(2027, 3, 6, 12), local(2027, 3, 6, 20)),
                   ("emp-1043", "hel-kamppi", local(2027, 3, 6, 9), local(2027, 3, 6, 13)),
                   ("emp-1042", "hel-kamppi", local(2027, 3, 7, 10), local(2027, 3, 7, 18)))
    body = {"name": "Spring small appliances", "starts_on": "2027-03-08", "ends_on": "2027-03-21", "region_id": "uusimaa"}
    coordinator = api.token(Role.regional_coordinator, sub="rc-uusimaa-1")
    created = await api.client.post("/v1/promotions", json=body, headers=coordinator)
    assert created.status_code == 201, created.text
    briefings = {b["site_id"]: b for b in created.json()["briefings"]}
    assert set(briefings) == {"hel-kamppi", "hel-callcentre"}  # the region's sites, not New York's
    kamppi = briefings["hel-kamppi"]
    assert kamppi["starts_at"] == "2027-03-06T10:00:00Z" and kamppi["ends_at"] == "2027-03-06T10:30:00Z"
    assert kamppi["trainer"] == "mgr-0007" and kamppi["attendees"] == ["emp-1042", "emp-1043"]
    assert briefings["hel-callcentre"]["session_id"] is None
    assert "no store manager is on a published shift" in briefings["hel-callcentre"]["problem"]

    session = (await api.client.get(f"/v1/training/sessions/{kamppi['session_id']}", headers=api.admin())).json()
    assert session["kind"] == "promotions_briefing" and session["promotion_id"] == created.json()["promotion_id"]

    # Once the call centre's shifts are published, planning again briefs it too, and Kamppi keeps its briefing.
    await on_shift(api, ("mgr-0100", "hel-callcentre", local(2027, 3, 5, 8), local(2027, 3, 5, 16)),
                   ("cc-2001", "hel-callcentre", local(2027, 3, 5, 8), local(2027, 3, 5, 16)))
    replanned = await api.client.post(f"/v1/promotions/{created.json()['promotion_id']}/briefings", headers=coordinator)
    assert replanned.status_code == 200, replanned.text
    again = {b["site_id"]: b for b in replanned.json()["briefings"]}
    assert again["hel-kamppi"] == kamppi
    assert again["hel-callcentre"]["trainer"] == "mgr-0100" and again["hel-callcentre"]["attendees"] == ["cc-2001"]

    calendar = await api.client.get("/v1/promotions", headers=api.token(Role.associate, sub="emp-1042"))
    assert [p["name"] for p in calendar.json()] == ["Spring small appliances"]
    other_region = api.token(Role.regional_coordinator, "nyc-desk", sub="rc-east-1")
    assert (await api.client.post("/v1/promotions", json=body, headers=other_region)).status_code == 403
    chain_wide = {**body, "region_id": None}
    assert (await api.client.post("/v1/promotions", json=chain_wide, headers=coordinator)).status_code == 403
    manager = api.token(Role.store_manager, "hel-kamppi", sub="mgr-0007")
    assert (await api.client.post("/v1/promotions", json=body, headers=manager)).status_code == 403
    backwards = await api.client.post("/v1/promotions", json={**body, "ends_on": "2027-03-01"}, headers=coordinator)
    assert backwards.status_code == 422 and "ends_on is before starts_on" in backwards.text


async def test_associates_see_their_own_training_and_other_sites_see_none(api_per_database):
    api = api_per_database
    await on_shift(api, ("mgr-0007", "hel-kamppi", local(2027, 3, 2, 9), local(2027, 3, 2, 17)),
                   ("emp-1042", "hel-kamppi", local(2027, 3, 2, 9), local(2027, 3, 2, 17)),
                   ("emp-1043", "hel-kamppi", local(2027, 3, 2, 9), local(2027, 3, 2, 17)))
    mine = await schedule(api, "returns", local(2027, 3, 2, 10), local(2027, 3, 2, 11), staff_ids=("emp-1042", "emp-1043"))
    theirs = await schedule(api, "register", local(2027, 3, 2, 12), local(2027, 3, 2, 13), staff_ids=("emp-1043",))
    assert mine.status_code == theirs.status_code == 201

    associate = api.token(Role.associate, sub="emp-1042")
    listed = (await api.client.get("/v1/training/sessions", headers=associate)).json()
    assert [s["session_id"] for s in listed] == [mine.json()["session_id"]]
    assert listed[0]["attendees"] == [{"staff_id": "emp-1042", "status": "enrolled"}]  # not the colleague's place
    assert (await api.client.get(f"/v1/training/sessions/{theirs.json()['session_id']}", headers=associate)).status_code == 404
    assert (await api.client.get("/v1/staff/emp-1043/training", headers=associate)).status_code == 404
    assert (await api.client.post(f"/v1/training/sessions/{mine.json()['session_id']}/enrolments",
                                  json={"staff_ids": ["emp-1042"]}, headers=associate)).status_code == 403

    other_manager = api.token(Role.store_manager, "nyc-desk", sub="mgr-3000")
    assert (await api.client.get("/v1/training/sessions", headers=other_manager)).json() == []
    assert (await api.client.get(f"/v1/training/sessions/{mine.json()['session_id']}", headers=other_manager)).status_code == 404
    assert (await api.client.get("/v1/staff/emp-1042/training", headers=other_manager)).status_code == 404
    assert (await api.client.post(f"/v1/training/sessions/{mine.json()['session_id']}/cancel",
                                  headers=other_manager)).status_code == 403
    foreign = await schedule(api, "returns", local(2027, 3, 2, 14), local(2027, 3, 2, 15), headers=other_manager)
    assert foreign.status_code == 403

    manager = api.token(Role.store_manager, "hel-kamppi", sub="mgr-0007")
    assert len((await api.client.get("/v1/training/sessions", headers=manager)).json()) == 2
    coordinator = api.token(Role.regional_coordinator, sub="rc-uusimaa-1")
    assert [r["kind"] for r in (await api.client.get("/v1/staff/emp-1043/training", headers=coordinator)).json()] == [
        "returns", "register"]


@pytest.fixture(scope="module")
def platform(infra_dir):
    """A broker of the module's own: the role-play reads every complaint on the topic, and the session's
    carries other modules' complaints at the same stores."""
    with own_platform(infra_dir / "kafka-scheduling-training") as platform:
        yield platform


@pytest.fixture
async def api_and_worker(new_database, platform) -> AsyncIterator[tuple[Api, str]]:
    ensure_topics(platform, ALL_TOPICS)
    url = await new_database()
    async for api in start_api(url, platform):
        async for _ in start_worker(url, platform, api.clock):
            yield api, url


async def test_role_play_plays_the_sites_own_resolved_complaints_without_personal_data(api_and_worker):
    api, url = api_and_worker
    customer = "cref_" + "7" * 32

    def complaint(store: str, mood: str, severity: str, resolution: tuple[str, str] | None, reopened: bool = False) -> list:
        filed = example(ComplaintFiled, store_id=store, region_id=api.sites[store]["region_id"], complaint_id=uuid4(),
                        customer_ref=customer, mood=mood, severity=severity, filed_by="emp-7777", staff_involved="emp-7778")
        same = {"store_id": store, "region_id": filed.region_id, "complaint_id": filed.complaint_id}
        events = [filed]
        if resolution:
            events.append(example(ComplaintResolved, **same, technique=resolution[0], outcome=resolution[1], by="mgr-7777"))
        if reopened:
            events.append(example(ComplaintReopened, **same))
        return [wrap(event, source="/services/complaints", time=api.clock.now) for event in events]

    stream = [
        *complaint("hel-kamppi", "calm", "low", ("address_concerns", "refund")),
        *complaint("hel-kamppi", "hostile", "critical", ("defuse", "apology")),
        *complaint("hel-kamppi", "angry", "high", None),  # not resolved: not a scenario
        *complaint("hel-kamppi", "hostile", "high", ("defuse", "refund"), reopened=True),  # the resolution did not hold
        *complaint("nyc-desk", "hostile", "high", ("isolate_core_problem", "exchange")),  # another site's
    ]
    await produce(api.platform, COMPLAINTS, stream)

    async def consumed() -> bool:
        return await applied(url, {envelope.id for envelope in stream}) == len(stream)

    await eventually(consumed, what="the worker to apply the complaints")

    await on_shift(api, *[(staff, "hel-kamppi", local(2027, 3, 4, 9), local(2027, 3, 4, 17))
                          for staff in ("mgr-0007", "emp-1042", "emp-1043")])
    role_play = await schedule(api, "de_escalation_role_play", local(2027, 3, 4, 10), local(2027, 3, 4, 11),
                               staff_ids=("emp-1042", "emp-1043"))
    assert role_play.status_code == 201, role_play.text
    path = f"/v1/training/sessions/{role_play.json()['session_id']}/scenarios"
    manager = api.token(Role.store_manager, sub="mgr-0007")
    shown = await api.client.get(path, headers=manager)
    assert [(s["mood"], s["severity"], s["resolved_with"]) for s in shown.json()] == [
        ("hostile", "critical", {"technique": "defuse", "outcome": "apology"}),
        ("calm", "low", {"technique": "address_concerns", "outcome": "refund"}),
    ]
    for personal in (customer, "emp-7777", "emp-7778", "mgr-7777"):
        assert personal not in shown.text

    # A trainee answers during the session and then sees what resolved the real complaint.
    api.clock.now = local(2027, 3, 4, 10, 10)
    trainee = api.token(Role.associate, sub="emp-1042")
    assert all(s["resolved_with"] is None for s in (await api.client.get(path, headers=trainee)).json())
    answered = await api.client.put(f"{path}/1/answers/emp-1042", headers=trainee,
                                    json={"technique": "isolate_core_problem", "outcome": "apology"})
    assert answered.status_code == 200, answered.text
    assert (await api.client.put(f"{path}/1/answers/emp-1043", headers=trainee,
                                 json={"technique": "defuse", "outcome": "apology"})).status_code == 403
    first, second = (await api.client.get(path, headers=trainee)).json()
    assert first["resolved_with"] == {"technique": "defuse", "outcome": "apology"} and second["resolved_with"] is None
    assert first["answers"] == [{"staff_id": "emp-1042", "technique": "isolate_core_problem", "outcome": "apology",
                                 "same_technique": False, "same_outcome": True}]
    unknown = await api.client.put(f"{path}/1/answers/emp-1042", headers=trainee,
                                   json={"technique": "shout", "outcome": "apology"})
    assert unknown.status_code == 422 and unknown.json()["detail"][0]["loc"] == ["body", "technique"]

    # A site with no resolved complaint has nothing to role-play, and says so.
    await on_shift(api, ("mgr-0100", "hel-callcentre", local(2027, 3, 4, 13), local(2027, 3, 4, 17)))
    empty = await schedule(api, "de_escalation_role_play", local(2027, 3, 4, 14), local(2027, 3, 4, 15), trainer="mgr-0100",
                           site="hel-callcentre")
    assert empty.status_code == 422 and "no complaint resolved" in empty.json()["detail"][0]["msg"]


async def test_a_shift_change_that_would_leave_someones_training_outside_their_shifts_is_refused(api_per_database):
    api = api_per_database
    await on_shift(api, ("mgr-0007", "hel-kamppi", local(2027, 3, 4, 9), local(2027, 3, 4, 17)),
                   ("emp-1042", "hel-kamppi", local(2027, 3, 4, 9), local(2027, 3, 4, 17)))
    booked = await schedule(api, "returns", local(2027, 3, 4, 14), local(2027, 3, 4, 15), staff_ids=("emp-1042",))
    assert booked.status_code == 201, booked.text
    session_id = booked.json()["session_id"]
    shifts = (await api.client.get("/v1/shifts", params={"site_id": "hel-kamppi"}, headers=api.admin())).json()
    trainee_shift = next(s["shift_id"] for s in shifts if s["staff_id"] == "emp-1042")
    trainer_shift = next(s["shift_id"] for s in shifts if s["staff_id"] == "mgr-0007")

    for refused in (
        await api.client.patch(f"/v1/shifts/{trainee_shift}", json={"ends_at": local(2027, 3, 4, 14, 30).isoformat()},
                               headers=api.admin()),
        await api.client.post(f"/v1/shifts/{trainee_shift}/cancel", headers=api.admin()),
        await api.client.post(f"/v1/shifts/{trainer_shift}/cancel", headers=api.admin()),
    ):
        assert refused.status_code == 409, refused.text
        assert f"is in training session {session_id}" in refused.json()["detail"]
    after = (await api.client.get("/v1/shifts", params={"site_id": "hel-kamppi"}, headers=api.admin())).json()
    assert after == shifts  # nothing changed

    # A change that keeps the session inside the shift is fine; once the session is off, so is the rest.
    kept = await api.client.patch(f"/v1/shifts/{trainee_shift}", json={"ends_at": local(2027, 3, 4, 15).isoformat()},
                                  headers=api.admin())
    assert kept.status_code == 200, kept.text
    assert (await api.client.post(f"/v1/training/sessions/{session_id}/cancel", headers=api.admin())).status_code == 200
    assert (await api.client.post(f"/v1/shifts/{trainee_shift}/cancel", headers=api.admin())).status_code == 200
