"""Training proposed where complaints call for it, from the real complaints, escalations and
coordination topics, on real PostgreSQL and Kafka: register training for a rise of billing/register
complaints, de-escalation role-play for escalated angry or hostile customers, a briefing at every site
of a region with a common problem. Each is proposed once per cause, also when its events come twice,
out of order, or to a worker killed with kill -9 and started again; the site manager confirms or
dismisses it once."""

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from services.shared.events.complaints import ComplaintFiled
from services.shared.events.coordination import ProblemDetected
from services.shared.events.envelope import Envelope, wrap
from services.shared.events.escalations import EscalationRaised, EscalationRouted
from services.shared.events.scheduling import TrainingProposed
from services.shared.principal import Role
from services.shared.topics import COMPLAINTS, COORDINATION, ESCALATIONS, SCHEDULING
from tests.support import eventually, read_all
from tests.support.builders import example
from tests.support.infra import own_platform
from tests.support.replicas import GroupWorker, Replicas, stores_on_every_partition
from tests.support.scheduling import Api, applied, produce, running_worker, start_worker


@pytest.fixture(scope="module")
def platform(infra_dir):
    """A broker of this module's own: the thousands of complaints of the restart test would otherwise
    be read by every later worker of the session's broker (the escalation worker's group among them)."""
    with own_platform(infra_dir / "kafka-scheduling-proposals") as platform:
        yield platform


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def filed(at: datetime, category: str = "service", mood: str = "calm", store: str = "hel-kamppi") -> Envelope:
    event = example(ComplaintFiled, store_id=store, complaint_id=uuid4(), category=category, mood=mood, severity="low",
                    filed_at=at, amount=None)
    return wrap(event, source="/services/complaints", time=at, subject=str(event.complaint_id))


def routed(complaint: Envelope, tier: str = "store_manager") -> Envelope:
    data = complaint.data
    event = example(EscalationRouted, store_id=data.store_id, complaint_id=data.complaint_id,
                    assignee={"tier": tier, "staff_id": None}, at=data.filed_at)
    return wrap(event, source="/services/escalation", time=data.filed_at, subject=str(data.complaint_id))


def raised(complaint: Envelope) -> Envelope:
    data = complaint.data
    event = example(EscalationRaised, store_id=data.store_id, complaint_id=data.complaint_id, at=data.filed_at)
    return wrap(event, source="/services/escalation", time=data.filed_at, subject=str(data.complaint_id))


def problem(region: str = "uusimaa") -> Envelope:
    event = example(ProblemDetected, region_id=region, problem_id=uuid4())
    return wrap(event, source="/services/escalation", time=event.at, subject=str(event.problem_id))


async def schedule_week(api: Api, week: str, shifts: list[tuple[str, datetime, datetime]]) -> None:
    """Published shifts at Kamppi, scheduled before the week begins."""
    api.clock.now = utc(2027, 3, 1, 6)
    for staff, start, end in shifts:
        response = await api.shift(staff, "hel-kamppi", start, end)
        assert response.status_code == 201, response.text
    assert (await api.publish("hel-kamppi", week)).status_code == 200


async def proposals(api: Api, headers: dict, **params) -> list[dict]:
    response = await api.client.get("/v1/training-proposals", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def by_cause(found: list[dict]) -> dict[tuple[str, str, str], list[dict]]:
    causes: dict = {}
    for proposal in found:
        causes.setdefault((proposal["site_id"], proposal["cause"], proposal["cause_ref"]), []).append(proposal)
    return causes


async def proposed_on_kafka(api: Api, causes: set) -> dict[tuple[str, str, str], list[TrainingProposed]]:
    """This service's TrainingProposed events of the causes, by cause."""
    found: dict = {}
    for envelope in await read_all(api.platform.kafka_bootstrap_servers, SCHEDULING):
        event = envelope.data
        if isinstance(event, TrainingProposed) and (cause := (event.store_id, event.cause, event.cause_ref)) in causes:
            found.setdefault(cause, []).append(event)
    return found


@pytest.fixture
async def worker(api):
    async for running in start_worker(api.app.state.settings.database_url, api.platform, api.clock):
        yield running


async def test_complaints_call_for_training_once_per_cause_and_the_manager_decides_once(api, worker):
    await schedule_week(api, "2027-03-08", [
        ("emp-1042", utc(2027, 3, 9, 7), utc(2027, 3, 9, 14)),
        ("emp-1043", utc(2027, 3, 9, 12), utc(2027, 3, 9, 19)),
        ("mgr-0007", utc(2027, 3, 10, 7), utc(2027, 3, 10, 15)),
    ])
    usual = [filed(utc(2027, 3, 2, 10), "billing_transaction")]  # the usual rate: one in the eight weeks before
    burst = [filed(utc(2027, 3, 9, 8), "billing_transaction"), filed(utc(2027, 3, 9, 13), "billing_transaction"),
             filed(utc(2027, 3, 10, 10), "billing_transaction")]
    later = filed(utc(2027, 3, 12, 10), "billing_transaction")  # the same rise, the same window
    hostile, angry, calm = filed(utc(2027, 3, 9, 13, 30), mood="hostile"), filed(utc(2027, 3, 9, 8), mood="angry"), filed(
        utc(2027, 3, 9, 9))
    angry_at_the_front_line = filed(utc(2027, 3, 16, 10), mood="angry")  # routed to an associate: not escalated
    detected = problem()
    elsewhere = filed(utc(2027, 3, 9, 10), "billing_transaction", store="nyc-desk")
    escalations = [routed(hostile), routed(angry), raised(angry), routed(calm), routed(angry_at_the_front_line, "associate")]
    complaints = [*usual, *burst, later, hostile, angry, calm, angry_at_the_front_line, elsewhere]
    # The escalations first: they may overtake the complaints they are about, on their own topic.
    await produce(api.platform, ESCALATIONS, escalations)
    await produce(api.platform, COMPLAINTS, complaints + complaints[:3])  # some delivered twice
    await produce(api.platform, COORDINATION, [detected])
    ids = {envelope.id for envelope in [*escalations, *complaints, detected]}

    async def all_applied() -> bool:
        return await applied(api.app.state.settings.database_url, ids) == len(ids)

    await eventually(all_applied, timeout_s=60, what="the worker to apply every event")

    manager = api.token(Role.store_manager, "hel-kamppi", sub="mgr-0007")
    seen = by_cause(await proposals(api, manager))
    register = ("hel-kamppi", "register_complaints", "hel-kamppi/2027-03-08")
    role_play = ("hel-kamppi", "hostile_escalations", "hel-kamppi/2027-03-08")
    briefing = ("hel-kamppi", "common_problem", str(detected.data.problem_id))
    assert {cause: len(found) for cause, found in seen.items()} == {register: 1, role_play: 1, briefing: 1}
    assert seen[register][0]["kind"] == "register" and seen[register][0]["status"] == "proposed"
    assert seen[register][0]["staff_ids"] == ["emp-1042", "emp-1043", "mgr-0007"]  # on shift when they were filed
    assert seen[role_play][0]["kind"] == "de_escalation_role_play"
    assert seen[role_play][0]["staff_ids"] == ["emp-1042", "emp-1043"]  # 08:00 and 13:30 on Tuesday
    assert seen[briefing][0]["kind"] == "returns" and seen[briefing][0]["problem_id"] == str(detected.data.problem_id)
    assert "emp-1042" in seen[briefing][0]["staff_ids"] and "cc-2001" not in seen[briefing][0]["staff_ids"]

    # The region's coordinator follows both of the region's sites; the other region has no briefing.
    regional = by_cause(await proposals(api, api.token(Role.regional_coordinator, sub="rc-uusimaa-1")))
    assert ("hel-callcentre", "common_problem", str(detected.data.problem_id)) in regional
    assert not [cause for cause in by_cause(await proposals(api, api.admin())) if cause[0] == "nyc-desk"]
    assert (await api.client.get("/v1/training-proposals", headers=api.token(Role.associate, sub="emp-1042"))).status_code == 403

    # The manager confirms one and dismisses another, each once.
    register_id, role_play_id = seen[register][0]["proposal_id"], seen[role_play][0]["proposal_id"]
    key = {"Idempotency-Key": "confirm-register-1"}
    confirmed = await api.client.post(f"/v1/training-proposals/{register_id}/confirm", json={"reason": "Tuesday 7:30"},
                                      headers={**manager, **key})
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "confirmed" and confirmed.json()["decided_by"] == "mgr-0007"
    retried = await api.client.post(f"/v1/training-proposals/{register_id}/confirm", json={"reason": "Tuesday 7:30"},
                                    headers={**manager, **key})
    assert retried.status_code == 200 and retried.headers["Idempotent-Replayed"] == "true"
    again = await api.client.post(f"/v1/training-proposals/{register_id}/dismiss", headers=manager)
    assert again.status_code == 409 and "confirmed already" in again.json()["detail"]
    dismissed = await api.client.post(f"/v1/training-proposals/{role_play_id}/dismiss",
                                      json={"reason": "held last week"}, headers=manager)
    assert dismissed.json()["status"] == "dismissed" and dismissed.json()["reason"] == "held last week"
    assert (await api.client.post(f"/v1/training-proposals/{role_play_id}/confirm", headers=manager)).status_code == 409
    still_open = {p["proposal_id"] for p in await proposals(api, manager, status="proposed")}
    assert seen[briefing][0]["proposal_id"] in still_open and not {register_id, role_play_id} & still_open

    # Bad input is refused naming the field; another site's manager finds nothing.
    briefing_id = seen[briefing][0]["proposal_id"]
    too_long = await api.client.post(f"/v1/training-proposals/{briefing_id}/dismiss", json={"reason": "x" * 501},
                                     headers=manager)
    assert too_long.status_code == 422 and too_long.json()["detail"][0]["loc"] == ["body", "reason"]
    other = api.token(Role.store_manager, "hel-callcentre", sub="mgr-0100")
    assert (await api.client.post(f"/v1/training-proposals/{briefing_id}/confirm", headers=other)).status_code == 404
    assert (await api.client.get(f"/v1/training-proposals/{briefing_id}", headers=manager)).json()["status"] == "proposed"

    # Scheduling the training a proposal asks for confirms it and links the session; once, and only that kind.
    def session_for(kind: str, hour: int) -> dict:
        return {"site_id": "hel-kamppi", "kind": kind, "trainer": "mgr-0007", "starts_at": utc(2027, 3, 10, hour).isoformat(),
                "ends_at": utc(2027, 3, 10, hour, 45).isoformat(), "capacity": 5, "proposal_id": briefing_id}

    wrong_kind = await api.client.post("/v1/training/sessions", json=session_for("register", 8), headers=manager)
    assert wrong_kind.status_code == 422 and wrong_kind.json()["detail"][0]["loc"] == ["body", "proposal_id"]
    answered = await api.client.post("/v1/training/sessions", json=session_for("returns", 8), headers=manager)
    assert answered.status_code == 201, answered.text
    linked = (await api.client.get(f"/v1/training-proposals/{briefing_id}", headers=manager)).json()
    assert linked["status"] == "confirmed" and linked["decided_by"] == "mgr-0007"
    assert linked["session_id"] == answered.json()["session_id"]
    twice = await api.client.post("/v1/training/sessions", json=session_for("returns", 10), headers=manager)
    assert twice.status_code == 409 and f"answered by training session {linked['session_id']}" in twice.json()["detail"]

    # Each cause went to Kafka once, as TrainingProposed.
    async def published() -> dict:
        found = await proposed_on_kafka(api, {register, role_play, briefing})
        return found if len(found) == 3 else {}

    on_kafka = await eventually(published, what="the TrainingProposed events")
    assert {cause: len(events) for cause, events in on_kafka.items()} == {register: 1, role_play: 1, briefing: 1}
    assert on_kafka[register][0].staff_ids == ["emp-1042", "emp-1043", "mgr-0007"]


async def test_proposed_exactly_once_across_a_worker_killed_mid_stream(api):
    """The worker as its own process, killed with kill -9 while it works through a long stream and
    started again; the second half of the stream, and the first once more, come while it is down."""
    database_url = api.app.state.settings.database_url
    await schedule_week(api, "2027-03-15", [
        ("emp-1042", utc(2027, 3, 16, 7), utc(2027, 3, 16, 15)),
        ("emp-1043", utc(2027, 3, 17, 7), utc(2027, 3, 17, 15)),
    ])
    register = [filed(utc(2027, 3, 16, 8, minute), "billing_transaction") for minute in range(3)]
    more_register = [filed(utc(2027, 3, 17, 8, minute), "billing_transaction") for minute in range(3)]
    hostile = [filed(utc(2027, 3, 16, 9), mood="hostile"), filed(utc(2027, 3, 17, 9), mood="angry")]
    filler = [filed(utc(2027, 3, 16, 7 + n % 8, n % 60)) for n in range(1500)]
    detected = [problem(), problem()]
    first = {COMPLAINTS: filler[:750] + register + hostile[:1], ESCALATIONS: [routed(hostile[0])],
             COORDINATION: detected[:1]}
    second = {COMPLAINTS: filler[750:] + more_register + hostile[1:], ESCALATIONS: [routed(hostile[1]), raised(hostile[0])],
              COORDINATION: detected[1:]}
    ids = {envelope.id for half in (first, second) for envelopes in half.values() for envelope in envelopes}
    for topic, envelopes in first.items():
        await produce(api.platform, topic, envelopes)

    async def some_applied() -> bool:
        return await applied(database_url, ids) > 0

    async for worker in running_worker(database_url, api.platform):
        await eventually(some_applied, timeout_s=60, what="the worker to apply some events")
        worker.process.kill()  # kill -9, mid-stream
        worker.process.wait()
    applied_before_restart = await applied(database_url, ids)
    assert 0 < applied_before_restart < len(ids)
    for topic, envelopes in second.items():
        await produce(api.platform, topic, envelopes)
    for topic, envelopes in first.items():  # and the first half again, as a relay that retried would
        await produce(api.platform, topic, envelopes)

    async def all_applied() -> bool:
        return await applied(database_url, ids) == len(ids)

    async for _ in running_worker(database_url, api.platform):
        await eventually(all_applied, timeout_s=120, what="the restarted worker to apply every event")

    window = "hel-kamppi/2027-03-15"
    causes = {("hel-kamppi", "register_complaints", window), ("hel-kamppi", "hostile_escalations", window),
              *{(site, "common_problem", str(p.data.problem_id)) for p in detected for site in ("hel-kamppi", "hel-callcentre")}}
    seen = by_cause(await proposals(api, api.admin()))
    assert {cause: len(seen.get(cause, [])) for cause in causes} == dict.fromkeys(causes, 1)
    assert seen[("hel-kamppi", "register_complaints", window)][0]["staff_ids"] == ["emp-1042"]  # the rise's first three

    async def all_published() -> dict:
        found = await proposed_on_kafka(api, causes)
        return found if set(found) == causes else {}

    on_kafka = await eventually(all_published, what="a TrainingProposed for every cause")
    assert {cause: len(events) for cause, events in on_kafka.items()} == dict.fromkeys(causes, 1)


async def test_proposed_exactly_once_by_replicas_sharing_the_stream_one_killed_and_one_added(api, tmp_path):
    """Three workers as their own processes in the one consumer group: one is killed with kill -9 while
    the second half of a long stream arrives, and a fourth joins while a third part is being worked
    through, before the first half comes again."""
    database_url = api.app.state.settings.database_url
    await schedule_week(api, "2027-03-22", [("emp-1042", utc(2027, 3, 23, 7), utc(2027, 3, 23, 15))])
    register = [filed(utc(2027, 3, 23, 8, minute), "billing_transaction") for minute in range(6)]
    hostile = filed(utc(2027, 3, 23, 9), mood="hostile")
    stores = stores_on_every_partition(COMPLAINTS, "uusimaa", 1)  # every replica has some of the stream
    filler = [filed(utc(2027, 3, 23, 7 + n % 8, n % 60), store=stores[n % len(stores)]) for n in range(7200)]
    detected = [problem(), problem()]
    first = {COMPLAINTS: filler[:600] + register[:3] + [hostile], ESCALATIONS: [routed(hostile)], COORDINATION: detected[:1]}
    second = {COMPLAINTS: filler[600:1200] + register[3:], ESCALATIONS: [raised(hostile)], COORDINATION: detected[1:]}
    third = {COMPLAINTS: filler[1200:]}
    ids = {envelope.id for part in (first, second, third) for envelopes in part.values() for envelope in envelopes}

    async def produced(half: dict) -> None:
        for topic, envelopes in half.items():
            await produce(api.platform, topic, envelopes)

    replicas = Replicas("scheduling", lambda _data_dir, env: GroupWorker(
        "services.scheduling.worker", "SCHEDULING", database_url, api.platform, env), tmp_path)
    try:
        await replicas.started(api.platform, COMPLAINTS, "a", "b", "c")
        await produced(first)

        async def some_applied() -> bool:
            return await applied(database_url, ids) > 0

        await replicas.until(some_applied, "the replicas to apply some events")
        await replicas.killed_while("b", api.platform, COMPLAINTS, produced(second))
        await produced(third)
        await replicas.started(api.platform, COMPLAINTS, "d")  # while the others work through the third part
        await produced(first)  # again, as a relay that retried would send it

        async def all_applied() -> bool:
            return await applied(database_url, ids) == len(ids)

        async def how_many() -> str:
            return f"{await applied(database_url, ids)} of {len(ids)} applied"

        await replicas.until(all_applied, "the replicas to apply every event", how_many)
        await replicas.until(lambda: replicas.spread(api.platform, COMPLAINTS), "no replica to have stopped")
    finally:
        replicas.stop()

    window = "hel-kamppi/2027-03-22"
    causes = {("hel-kamppi", "register_complaints", window), ("hel-kamppi", "hostile_escalations", window),
              *{(site, "common_problem", str(p.data.problem_id)) for p in detected for site in ("hel-kamppi", "hel-callcentre")}}
    seen = by_cause(await proposals(api, api.admin()))
    assert {cause: len(seen.get(cause, [])) for cause in causes} == dict.fromkeys(causes, 1)

    async def all_published() -> dict:
        found = await proposed_on_kafka(api, causes)
        return found if set(found) == causes else {}

    on_kafka = await eventually(all_published, what="a TrainingProposed for every cause")
    assert {cause: len(events) for cause, events in on_kafka.items()} == dict.fromkeys(causes, 1)
