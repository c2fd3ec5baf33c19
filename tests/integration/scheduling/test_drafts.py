"""A site's week drafted by the solver from the demand the worker learnt from a real stream of
complaints (Kafka, PostgreSQL), reviewed, edited and published by the site manager; and the weeks that
cannot be drafted, with the reason named."""

import asyncio
import threading
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.scheduling.domain import solver
from services.shared.kafka import ensure_topics
from services.shared.principal import Role
from services.shared.topics import ALL_TOPICS, COMPLAINTS
from tests.support import eventually
from tests.support.scheduling import Api, add_site, complaints_filed, produce, staff_body, start_api, start_worker

HELSINKI = ZoneInfo("Europe/Helsinki")
WEEK = "2027-03-08"  # the week after the test clock's
HISTORY = [datetime(2027, 2, day, tzinfo=HELSINKI) for day in (2, 9, 16, 23)]  # a Tuesday of each of the 4 weeks before
TENDERS = ["register_cash", "register_credit", "register_debit", "register_gift_card"]
COUNTER = [*TENDERS, "returns_exchanges"]


def local(*args) -> datetime:
    return datetime(*args, tzinfo=HELSINKI)


def site(opens: str, closes: str) -> dict:
    return {"region_id": "uusimaa", "name": "Koskikeskus", "kind": "store", "timezone": "Europe/Helsinki",
            "opening_hours": {day: [[opens, closes]] for day in ("mon", "tue", "wed", "thu", "fri")}}


@pytest.fixture
async def scheduling(new_database, platform) -> AsyncIterator[Api]:
    """The API and the worker on one PostgreSQL database, with a small solver work limit."""
    ensure_topics(platform, ALL_TOPICS)
    url = await new_database()
    async for api in start_api(url, platform, solver_work_limit=2):
        async for _ in start_worker(url, platform, api.clock):
            yield api


async def load(api: Api, site_id: str, hours: list[int], per_hour: int) -> None:
    """`per_hour` complaints in each of the Tuesday hours of each of the last 4 weeks, once the worker has counted them."""
    moments = [tuesday + timedelta(hours=hour, minutes=minute) for tuesday in HISTORY for hour in hours
               for minute in range(per_hour)]
    await produce(api.platform, COMPLAINTS, complaints_filed(site_id, "uusimaa", moments))

    async def counted() -> bool:
        response = await api.client.get(f"/v1/sites/{site_id}/weeks/{WEEK}/demand", headers=api.admin())
        return sum(hour["load"] for hour in response.json()["hours"]) * 4 == len(moments)

    await eventually(counted, timeout_s=90, what="the worker to count the complaints")


async def draft(api: Api, site_id: str, headers: dict | None = None) -> dict:
    response = await api.client.post(f"/v1/sites/{site_id}/weeks/{WEEK}/draft", headers=headers or api.admin())
    assert response.status_code == 200, response.text
    return response.json()


def on_duty(shifts: list[dict], starts_at: str) -> set[str]:
    return {shift["staff_id"] for shift in shifts if shift["starts_at"] <= starts_at < shift["ends_at"]}


async def test_a_stream_of_complaints_changes_the_coverage_of_exactly_the_busy_hours_and_the_draft_is_published(scheduling):
    api = scheduling
    staff = {
        "mgr-5000": staff_body(Role.store_manager, "tre-koskikeskus", skills=COUNTER),
        "co-5001": staff_body(Role.coordinator, "tre-koskikeskus", skills=COUNTER),
        **{f"emp-50{i:02}": staff_body(Role.associate, "tre-koskikeskus", skills=COUNTER, contracted_hours=0)
           for i in range(2, 6)},
        **{f"emp-50{i:02}": staff_body(Role.associate, "tre-koskikeskus", skills=[*COUNTER, "de_escalation"],
                                       contracted_hours=0) for i in range(6, 8)},
    }
    await add_site(api, "tre-koskikeskus", site("10:00", "18:00"), staff)
    manager = api.token(Role.store_manager, "tre-koskikeskus", sub="mgr-5000")
    # A hand-made draft shift before any draft run: kept by every run, and counted.
    hand_made = await api.shift("emp-5002", "tre-koskikeskus", local(2027, 3, 8, 10), local(2027, 3, 8, 14))
    assert hand_made.status_code == 201, hand_made.text

    quiet = await draft(api, "tre-koskikeskus", manager)
    await load(api, "tre-koskikeskus", hours=[14, 15, 16, 17], per_hour=4)
    busy = await draft(api, "tre-koskikeskus", manager)

    before = {hour["hour"]: (hour["demand"], hour["planned"], hour["busy"]) for hour in quiet["hours"]}
    after = {hour["hour"]: (hour["demand"], hour["planned"], hour["busy"]) for hour in busy["hours"]}
    assert len(before) == 40 and set(before.values()) == {(2, 2, False)}
    assert quiet["proven_optimal"] and busy["proven_optimal"]
    changed = {name for name in before if before[name] != after[name]}
    assert changed == {"Tuesday 14–15", "Tuesday 15–16", "Tuesday 16–17", "Tuesday 17–18"}
    assert {after[name] for name in changed} == {(3, 3, True)}
    de_escalation = {staff_id for staff_id, entry in staff.items() if "de_escalation" in entry["skills"]}
    for hour in busy["hours"]:
        if hour["busy"]:
            assert on_duty(busy["shifts"], hour["starts_at"]) & de_escalation, hour["hour"]
    assert hand_made.json()["shift_id"] in {shift["shift_id"] for shift in quiet["shifts"]} & {
        shift["shift_id"] for shift in busy["shifts"]}
    assert on_duty(busy["shifts"], "2027-03-08T08:00:00Z") >= {"emp-5002"}

    # The review sees exactly the latest run's draft (the earlier run's shifts are replaced).
    review = await api.client.get("/v1/shifts", params={"site_id": "tre-koskikeskus"}, headers=manager)
    assert sorted(s["shift_id"] for s in review.json()) == sorted(s["shift_id"] for s in busy["shifts"])
    assert {s["status"] for s in review.json()} == {"draft"}
    associate = api.token(Role.associate, "tre-koskikeskus", sub="emp-5003")
    assert (await api.client.get("/v1/shifts", headers=associate)).json() == []

    # The manager edits: one shift ends an hour early, one is cancelled, one is added; then publishes.
    friday = [s for s in busy["shifts"] if s["starts_at"].startswith("2027-03-12")]
    shortened, cancelled = friday[0], friday[1]
    ends = datetime.fromisoformat(shortened["ends_at"]) - timedelta(hours=1)
    edited = await api.client.patch(f"/v1/shifts/{shortened['shift_id']}", headers=manager, json={"ends_at": ends.isoformat()})
    assert edited.status_code == 200, edited.text
    assert (await api.client.post(f"/v1/shifts/{cancelled['shift_id']}/cancel", headers=manager)).status_code == 200
    off_on_friday = sorted(set(staff) - {s["staff_id"] for s in friday})[0]
    added = await api.client.post("/v1/shifts", headers=manager, json={
        "site_id": "tre-koskikeskus", "staff_id": off_on_friday, "starts_at": local(2027, 3, 12, 12).isoformat(),
        "ends_at": local(2027, 3, 12, 16).isoformat()})
    assert added.status_code == 201, added.text
    published = await api.client.post(f"/v1/sites/tre-koskikeskus/weeks/{WEEK}/publish", headers=manager)
    assert published.status_code == 200, published.text
    shifts = published.json()["published"]
    assert cancelled["shift_id"] not in {s["shift_id"] for s in shifts}
    assert {s["shift_id"]: s["ends_at"] for s in shifts}[shortened["shift_id"]] == ends.isoformat().replace("+00:00", "Z")
    assert added.json()["shift_id"] in {s["shift_id"] for s in shifts}

    busiest = local(2027, 3, 9, 15, 30)
    seen = (await api.on_duty(busiest, site_id="tre-koskikeskus"))["sites"][0]
    people = {seen["manager"]["staff_id"]} if seen["manager"] else set()
    people |= {p["staff_id"] for p in seen["coordinators"] + seen["associates"]}
    assert people == on_duty(shifts, "2027-03-09T13:30:00Z") and len(people) == 3 and people & de_escalation

    again = await api.client.post(f"/v1/sites/tre-koskikeskus/weeks/{WEEK}/draft", headers=manager)
    assert again.status_code == 409 and "published" in again.json()["detail"]


async def test_an_infeasible_week_is_refused_with_the_conflict_named(scheduling):
    api = scheduling
    evening_off = {"tue": [["09:00", "18:00"]], **{day: [["00:00", "24:00"]] for day in ("mon", "wed", "thu", "fri")}}
    staff = {
        "mgr-6000": staff_body(Role.store_manager, "tre-hervanta", skills=COUNTER),
        "mgr-6001": staff_body(Role.store_manager, "tre-hervanta", skills=[*COUNTER, "de_escalation"]),
        **{f"emp-60{i:02}": staff_body(Role.associate, "tre-hervanta", skills=COUNTER, availability=evening_off)
           for i in range(2, 5)},
    }
    await add_site(api, "tre-hervanta", site("09:00", "21:00"), staff)
    await load(api, "tre-hervanta", hours=[18], per_hour=4)
    before = await api.client.get("/v1/shifts", params={"site_id": "tre-hervanta"}, headers=api.admin())

    refused = await api.client.post(f"/v1/sites/tre-hervanta/weeks/{WEEK}/draft", headers=api.admin())

    assert refused.status_code == 422, refused.text
    assert [problem["msg"] for problem in refused.json()["detail"]] == ["Tuesday 18–19: demand 3, only 2 available"]
    after = await api.client.get("/v1/shifts", params={"site_id": "tre-hervanta"}, headers=api.admin())
    assert before.json() == after.json() == []


async def test_who_may_draft_which_week(scheduling):
    api = scheduling
    staff = {"mgr-7000": staff_body(Role.store_manager, "tre-lielahti", skills=COUNTER),
             "co-7001": staff_body(Role.coordinator, "tre-lielahti", skills=COUNTER)}
    await add_site(api, "tre-lielahti", site("10:00", "18:00"), staff)
    path = "/v1/sites/tre-lielahti/weeks/{}/draft"

    assert (await api.client.post(path.format(WEEK), headers=api.token(Role.associate, "tre-lielahti"))).status_code == 403
    other_manager = api.token(Role.store_manager, "hel-kamppi", sub="mgr-0007")
    assert (await api.client.post(path.format(WEEK), headers=other_manager)).status_code == 403
    past = await api.client.post(path.format("2027-02-22"), headers=api.admin())
    assert past.status_code == 422 and past.json()["detail"][0]["loc"] == ["path", "week"]
    assert "is over" in past.json()["detail"][0]["msg"]
    not_monday = await api.client.post(path.format("2027-03-09"), headers=api.admin())
    assert not_monday.status_code == 422 and "Monday" in not_monday.json()["detail"][0]["msg"]
    assert (await api.client.post("/v1/sites/nowhere/weeks/2027-03-08/draft", headers=api.admin())).status_code == 404

    coordinator = api.token(Role.regional_coordinator, "tre-lielahti", sub="rc-uusimaa-1")
    key = {**coordinator, "Idempotency-Key": "draft-1"}
    first = await api.client.post(path.format(WEEK), headers=key)
    replayed = await api.client.post(path.format(WEEK), headers=key)
    assert first.status_code == replayed.status_code == 200, first.text
    assert replayed.headers["Idempotent-Replayed"] == "true" and replayed.json() == first.json()


async def test_a_draft_solved_while_the_week_changed_is_not_written(scheduling, monkeypatch):
    """The solve holds no lock: a shift made meanwhile is not overlapped by a draft solved without it."""
    api = scheduling
    staff = {"mgr-8000": staff_body(Role.store_manager, "tre-pispala", skills=COUNTER),
             "co-8001": staff_body(Role.coordinator, "tre-pispala", skills=COUNTER)}
    await add_site(api, "tre-pispala", site("10:00", "18:00"), staff)
    solving, changed = threading.Event(), threading.Event()
    solve = solver.solve

    def solve_after_the_change(*arguments):
        solving.set()
        changed.wait(timeout=60)
        return solve(*arguments)

    monkeypatch.setattr(solver, "solve", solve_after_the_change)
    drafting = asyncio.create_task(api.client.post(f"/v1/sites/tre-pispala/weeks/{WEEK}/draft", headers=api.admin()))

    async def solving_started() -> bool:
        return solving.is_set()

    await eventually(solving_started, what="the solve to start")
    made = await api.shift("mgr-8000", "tre-pispala", local(2027, 3, 10, 10), local(2027, 3, 10, 14))
    assert made.status_code == 201, made.text
    changed.set()
    refused = await drafting

    assert refused.status_code == 409 and "changed while the week was being drafted" in refused.json()["detail"]
    listed = await api.client.get("/v1/shifts", params={"site_id": "tre-pispala"}, headers=api.admin())
    assert [s["shift_id"] for s in listed.json()] == [made.json()["shift_id"]]
