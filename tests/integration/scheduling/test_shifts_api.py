"""Shifts through the API on SQLite and PostgreSQL: bad input is a 4xx naming the problem and
writes nothing; scope and contact channels are need-to-know."""

import asyncio
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from services.scheduling.store.models import OutboxEvent
from services.shared.principal import Role
from tests.support.scheduling import SITES, START, staff_body

HELSINKI = ZoneInfo("Europe/Helsinki")


def local(*args) -> datetime:
    return datetime(*args, tzinfo=HELSINKI)


async def outbox_size(api) -> int:
    async with api.app.state.sessions() as session:
        return (await session.execute(select(func.count()).select_from(OutboxEvent))).scalar_one()


async def test_bad_shifts_are_refused_with_the_problem_named_and_nothing_written(api_per_database):
    api = api_per_database
    good = await api.shift("emp-1042", "hel-kamppi", local(2027, 3, 2, 9), local(2027, 3, 2, 17))
    assert good.status_code == 201, good.text
    assert good.json()["status"] == "draft" and good.json()["role"] == "associate"
    published = await api.publish("hel-kamppi", "2027-03-01")
    assert published.status_code == 200 and len(published.json()["published"]) == 1
    before = await outbox_size(api)

    overlapping = await api.shift("emp-1042", "hel-callcentre", local(2027, 3, 2, 16), local(2027, 3, 2, 22))
    assert overlapping.status_code == 409
    assert "emp-1042" in overlapping.json()["detail"] and good.json()["shift_id"] in overlapping.json()["detail"]

    too_early = await api.shift("emp-1043", "hel-kamppi", local(2027, 3, 2, 7), local(2027, 3, 2, 12))
    assert too_early.status_code == 422
    (problem,) = too_early.json()["detail"]
    assert problem["loc"] == ["body", "starts_at"] and "opening hours of site hel-kamppi" in problem["msg"]

    holiday = await api.shift("emp-1043", "hel-kamppi", local(2027, 4, 2, 10), local(2027, 4, 2, 14))
    assert holiday.status_code == 422 and "opening hours" in holiday.json()["detail"][0]["msg"]

    unknown = await api.shift("emp-9999", "hel-kamppi", local(2027, 3, 2, 9), local(2027, 3, 2, 17))
    assert unknown.status_code == 422
    assert unknown.json()["detail"][0]["loc"] == ["body", "staff_id"] and "emp-9999" in unknown.json()["detail"][0]["msg"]

    unknown_site = await api.shift("emp-1043", "nowhere", local(2027, 3, 2, 9), local(2027, 3, 2, 17))
    assert unknown_site.status_code == 422 and unknown_site.json()["detail"][0]["loc"] == ["body", "site_id"]

    other_region = await api.shift("emp-3001", "hel-kamppi", local(2027, 3, 2, 9), local(2027, 3, 2, 17))
    assert other_region.status_code == 422 and "region us-east" in other_region.json()["detail"][0]["msg"]

    past = await api.shift("emp-1043", "hel-kamppi", START - timedelta(days=1), START - timedelta(hours=20))
    assert past.status_code == 422 and past.json()["detail"][0]["loc"] == ["body", "starts_at"]

    backwards = await api.shift("emp-1043", "hel-kamppi", local(2027, 3, 2, 17), local(2027, 3, 2, 9))
    assert backwards.status_code == 422 and backwards.json()["detail"][0]["loc"] == ["body", "ends_at"]

    past_week = await api.publish("hel-kamppi", "2027-02-22")
    assert past_week.status_code == 422
    assert past_week.json()["detail"][0]["loc"] == ["path", "week"] and "is over" in past_week.json()["detail"][0]["msg"]
    not_monday = await api.publish("hel-kamppi", "2027-03-03")
    assert not_monday.status_code == 422 and "Monday" in not_monday.json()["detail"][0]["msg"]

    # The edit that would overlap another shift leaves the shift as it was.
    other = await api.shift("emp-1042", "hel-kamppi", local(2027, 3, 3, 9), local(2027, 3, 3, 17))
    assert other.status_code == 201
    after_other = await outbox_size(api)
    moved = await api.client.patch(
        f"/v1/shifts/{other.json()['shift_id']}", headers=api.admin(),
        json={"starts_at": local(2027, 3, 2, 12).isoformat(), "ends_at": local(2027, 3, 2, 20).isoformat()},
    )
    assert moved.status_code == 409

    listed = await api.client.get("/v1/shifts", params={"site_id": "hel-kamppi"}, headers=api.admin())
    assert [(s["staff_id"], s["starts_at"]) for s in listed.json()] == [
        ("emp-1042", "2027-03-02T07:00:00Z"), ("emp-1042", "2027-03-03T07:00:00Z")
    ]
    # The second shift joined a published week, so it was published at once (events); the refusals wrote nothing.
    assert other.json()["status"] == "published" and after_other > before
    assert await outbox_size(api) == after_other


async def test_one_regional_coordinator_on_duty_per_region(api_per_database):
    api = api_per_database
    first = await api.shift("rc-uusimaa-1", "hel-kamppi", local(2027, 3, 2, 6), local(2027, 3, 2, 18))
    assert first.status_code == 201, first.text
    clash = await api.shift("rc-uusimaa-2", "hel-kamppi", local(2027, 3, 2, 17), local(2027, 3, 2, 23))
    assert clash.status_code == 409 and "rc-uusimaa-1" in clash.json()["detail"]
    # The region's on-call coordinator is not bound to a store's opening hours.
    handover = await api.shift("rc-uusimaa-2", "hel-kamppi", local(2027, 3, 2, 18), local(2027, 3, 3, 6))
    assert handover.status_code == 201, handover.text


async def test_edit_cancel_and_idempotent_create(api_per_database):
    api = api_per_database
    key = {"Idempotency-Key": "shift-1"}
    first = await api.shift("emp-1043", "hel-kamppi", local(2027, 3, 4, 9), local(2027, 3, 4, 17), **key)
    again = await api.shift("emp-1043", "hel-kamppi", local(2027, 3, 4, 9), local(2027, 3, 4, 17), **key)
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    shift_id = first.json()["shift_id"]
    edited = await api.client.patch(f"/v1/shifts/{shift_id}", headers=api.admin(), json={"ends_at": local(2027, 3, 4, 19).isoformat()})
    assert edited.status_code == 200 and edited.json()["ends_at"] == "2027-03-04T17:00:00Z"
    cancelled = await api.client.post(f"/v1/shifts/{shift_id}/cancel", headers=api.admin())
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert (await api.client.post(f"/v1/shifts/{shift_id}/cancel", headers=api.admin())).status_code == 409
    # The cancelled shift no longer blocks the time.
    assert (await api.shift("emp-1043", "hel-kamppi", local(2027, 3, 4, 10), local(2027, 3, 4, 14))).status_code == 201


async def test_scope_and_contact_channels_are_need_to_know(api_per_database):
    api = api_per_database
    assert (await api.shift("emp-1042", "hel-kamppi", local(2027, 3, 2, 9), local(2027, 3, 2, 17))).status_code == 201
    assert (await api.shift("emp-1043", "hel-kamppi", local(2027, 3, 2, 9), local(2027, 3, 2, 17))).status_code == 201
    assert (await api.publish("hel-kamppi", "2027-03-01")).status_code == 200

    associate = api.token(Role.associate, "hel-kamppi", sub="emp-1042")
    own = await api.client.get("/v1/shifts", headers=associate)
    assert {s["staff_id"] for s in own.json()} == {"emp-1042"}
    assert (await api.shift("emp-1042", "hel-kamppi", local(2027, 3, 5, 9), local(2027, 3, 5, 12))).status_code == 201
    create = await api.client.post("/v1/shifts", headers=associate, json={
        "site_id": "hel-kamppi", "staff_id": "emp-1042", "starts_at": local(2027, 3, 6, 9).isoformat(),
        "ends_at": local(2027, 3, 6, 12).isoformat()})
    assert create.status_code == 403

    other_manager = api.token(Role.store_manager, "nyc-desk", sub="mgr-3000")
    foreign = await api.client.post("/v1/shifts", headers=other_manager, json={
        "site_id": "hel-kamppi", "staff_id": "emp-1043", "starts_at": local(2027, 3, 6, 9).isoformat(),
        "ends_at": local(2027, 3, 6, 12).isoformat()})
    assert foreign.status_code == 403

    own_entry = (await api.client.get("/v1/staff/emp-1042", headers=associate)).json()
    assert own_entry["contact"]["work_email"] == "emp-1042@chain.example"
    assert (await api.client.get("/v1/staff/emp-1043", headers=associate)).status_code == 404
    manager = api.token(Role.store_manager, "hel-kamppi", sub="mgr-0007")
    assert (await api.client.get("/v1/staff/emp-1043", headers=manager)).json()["contact"]["work_email"]
    coordinator = api.token(Role.coordinator, "hel-kamppi", sub="co-0001")
    seen = (await api.client.get("/v1/staff/emp-1043", headers=coordinator)).json()
    assert seen["staff_id"] == "emp-1043" and seen["contact"] is None
    nyc = (await api.client.get("/v1/staff", headers=other_manager)).json()
    assert {s["staff_id"] for s in nyc} == {"emp-3001", "mgr-3000"}

    assert (await api.client.delete("/v1/staff/emp-1043/contact", headers=associate)).status_code == 403
    assert (await api.client.delete("/v1/staff/emp-1042/contact", headers=associate)).status_code == 204
    erased = (await api.client.get("/v1/staff/emp-1042", headers=manager)).json()
    assert erased["contact"] == {"work_email": None, "work_phone": None, "webhook_url": None}
    assert erased["contact_erased_at"] is not None


async def test_a_week_at_the_ends_of_the_calendar_is_refused_with_the_problem_named(api_per_database):
    """Mondays of the years 1 and 9999: the week after the last, or the weeks before the first whose
    demand counts, are no dates at all."""
    api = api_per_database
    for week in ("0001-01-01", "9999-12-27"):
        for method, path in (("GET", "demand"), ("POST", "draft"), ("POST", "publish")):
            response = await api.client.request(method, f"/v1/sites/hel-kamppi/weeks/{week}/{path}", headers=api.admin())
            assert response.status_code == 422, f"{method} {path} of {week}: {response.status_code} {response.text}"
            assert response.json()["detail"][0]["loc"] == ["path", "week"]


async def test_the_same_new_region_site_and_person_put_at_once_are_all_kept(api_per_database):
    """Two admins' tools creating the same directory entries at the same moment: each PUT answers 204
    (one creates, the other updates), never a 500 for the key the other inserted first."""
    api, admin = api_per_database, api_per_database.admin()
    site = {**SITES["hel-kamppi"], "region_id": "kainuu", "name": "Kajaani"}

    async def at_once(path: str, body: dict) -> list[int]:
        answers = await asyncio.gather(*(api.client.put(path, json=body, headers=admin) for _ in range(6)))
        return [answer.status_code for answer in answers]

    assert await at_once("/v1/regions/kainuu", {"name": "Kainuu"}) == [204] * 6
    assert await at_once("/v1/sites/kaj-keskusta", site) == [204] * 6
    assert await at_once("/v1/staff/emp-9100", staff_body(Role.associate, "kaj-keskusta")) == [204] * 6
    kept = await api.client.get("/v1/staff/emp-9100", headers=admin)
    assert (kept.status_code, kept.json()["home_site_id"]) == (200, "kaj-keskusta")
