"""The complaints API on real PostgreSQL (and its relay on the real broker): every endpoint's
happy path and its errors, the lifecycle, CSAT, pagination, idempotency and scope."""

import asyncio
from uuid import uuid4

from services.shared.principal import Role
from services.shared.topics import COMPLAINTS
from tests.support import read_topic


async def test_filing_returns_the_complaint_with_its_contact_for_the_front_line(api):
    response = await api.file(severity="high", mood="angry", amount={"minor_units": 4990, "currency": "EUR"})
    assert response.status_code == 201, response.text
    complaint = response.json()
    assert complaint["status"] == "open"
    assert complaint["store_id"] == "hel-kamppi" and complaint["region_id"] == "uusimaa"
    assert complaint["customer"]["email"] == "aino@example.com"
    assert complaint["customer"]["customer_ref"].startswith("cref_")
    assert complaint["amount"] == {"minor_units": 4990, "currency": "EUR"}
    fetched = await api.client.get(f"/v1/complaints/{complaint['id']}", headers=api.token(Role.associate))
    assert fetched.status_code == 200
    assert fetched.json()["description"] == "The kettle leaks."


async def test_the_same_contact_is_the_same_customer_ref(api):
    first = (await api.file()).json()["customer"]["customer_ref"]
    second = (await api.file(customer={"email": " AINO@example.com "})).json()["customer"]["customer_ref"]
    other = (await api.file(customer={"email": "eero@example.com"})).json()["customer"]["customer_ref"]
    assert first == second != other


async def test_roles_without_need_see_no_personal_data(api):
    complaint = (await api.file()).json()
    for role in (Role.ops, Role.senior_manager, Role.service):
        seen = (await api.client.get(f"/v1/complaints/{complaint['id']}", headers=api.token(role))).json()
        assert seen["customer"] == {"customer_ref": complaint["customer"]["customer_ref"], "name": None,
                                    "email": None, "phone": None}, role
        assert seen["description"] is None


async def test_the_lifecycle_from_filing_to_closing(api):
    staff = api.token(Role.associate)
    complaint_id = (await api.file()).json()["id"]

    async def step(action: str, body: dict | None = None, status: int = 200):
        response = await api.client.post(f"/v1/complaints/{complaint_id}/{action}", json=body, headers=staff)
        assert response.status_code == status, response.text
        return response.json()

    assert (await step("acknowledge"))["status"] == "acknowledged"
    assigned = await step("assign", {"assignee": "mgr-0007", "assignee_role": "store_manager"})
    assert (assigned["status"], assigned["assignee"]) == ("in_progress", "mgr-0007")
    noted = await step("notes", {"text": "Offered an exchange; customer prefers a refund."}, status=201)
    assert [note["text"] for note in noted["notes"]] == ["Offered an exchange; customer prefers a refund."]
    resolved = await step("resolve", {"technique": "address_concerns", "outcome": "refund", "summary": "Refunded."})
    assert resolved["status"] == "resolved" and resolved["resolution_outcome"] == "refund"
    assert len(resolved["csat_token"]) >= 40
    reopened = await step("reopen", {"reason": "The refund did not arrive."})
    assert reopened["status"] == "open"
    assert reopened["notes"][-1]["text"] == "The refund did not arrive."
    again = await step("resolve", {"technique": "isolate_core_problem", "outcome": "refund", "summary": "Re-sent."})
    assert again["reopen_count"] == 1 and again["csat_token"] != resolved["csat_token"]
    closed = await step("close")
    assert closed["status"] == "closed" and closed["closed_at"] is not None


async def test_an_invalid_transition_is_409_naming_the_current_state(api):
    complaint_id = (await api.file()).json()["id"]
    response = await api.client.post(f"/v1/complaints/{complaint_id}/close", headers=api.token(Role.associate))
    assert response.status_code == 409
    assert response.json()["current_status"] == "open"
    assert "cannot close a complaint that is open" in response.json()["detail"]


async def test_csat_is_answered_once_without_a_staff_login(api):
    token = await api.resolve((await api.file()).json()["id"])
    waiting = await api.client.get(f"/v1/csat/{token}")
    assert waiting.status_code == 200 and waiting.json()["store_name"] == "hel-kamppi", waiting.text  # the name it was given
    assert (await api.client.post(f"/v1/csat/{token}", json={"score": 4, "comment": "Kind staff"})).status_code == 204
    second = await api.client.post(f"/v1/csat/{token}", json={"score": 1})
    assert second.status_code == 409 and "already answered" in second.json()["detail"]
    assert (await api.client.get(f"/v1/csat/{token}")).status_code == 409
    assert (await api.client.post(f"/v1/csat/{'x' * 43}", json={"score": 3})).status_code == 404
    assert (await api.client.get(f"/v1/csat/{'x' * 43}")).status_code == 404
    out_of_range = await api.client.post(f"/v1/csat/{token}", json={"score": 6})
    assert out_of_range.status_code == 422 and out_of_range.json()["detail"][0]["loc"] == ["body", "score"]


async def test_authentication_and_scope_errors(api):
    assert (await api.client.get("/v1/complaints")).status_code == 401
    other_store = await api.client.post(
        "/v1/complaints", headers=api.token(Role.associate, "esp-iso-omena"),
        json={**_body(), "store_id": "hel-kamppi"},
    )
    assert other_store.status_code == 403 and "may not act on store hel-kamppi" in other_store.json()["detail"]
    complaint_id = (await api.file()).json()["id"]
    other_region = await api.client.get(
        f"/v1/complaints/{complaint_id}", headers=api.token(Role.regional_coordinator, "tre-koskikeskus")
    )
    assert other_region.status_code == 403 and "may not act on region uusimaa" in other_region.json()["detail"]
    same_region = await api.client.get(f"/v1/complaints/{complaint_id}", headers=api.token(Role.coordinator, "esp-iso-omena"))
    assert same_region.status_code == 200
    wrong_role = await api.client.post("/v1/complaints", headers=api.token(Role.ops), json=_body())
    assert wrong_role.status_code == 403 and "role ops may not do this" in wrong_role.json()["detail"]
    unknown = await api.client.get(f"/v1/complaints/{uuid4()}", headers=api.token(Role.associate))
    assert unknown.status_code == 404


async def test_bad_input_is_4xx_naming_the_field(api):
    staff = api.token(Role.associate)

    async def post(body, **kwargs):
        return await api.client.post("/v1/complaints", headers={**staff, **kwargs.pop("headers", {})}, json=body, **kwargs)

    bad_severity = await post({**_body(), "severity": "extreme"})
    assert bad_severity.status_code == 422 and bad_severity.json()["detail"][0]["loc"] == ["body", "severity"]
    no_contact = await post({**_body(), "customer": {"name": "Aino"}})
    assert no_contact.status_code == 422 and "email or phone" in no_contact.text
    bad_email = await post({**_body(), "customer": {"email": "not-an-email"}})
    assert bad_email.status_code == 422 and bad_email.json()["detail"][0]["loc"] == ["body", "customer", "email"]
    unknown_store = await api.client.post(
        "/v1/complaints", headers=api.token(Role.senior_manager), json={**_body(), "store_id": "nowhere"}
    )
    assert unknown_store.status_code == 403  # senior managers read, they do not file
    unknown_store = await api.client.post(
        "/v1/complaints", headers=api.token(Role.coordinator, "hel-kamppi"), json={**_body(), "store_id": "nowhere"}
    )
    assert unknown_store.status_code == 422 and unknown_store.json()["detail"][0]["loc"] == ["body", "store_id"]
    extra = await post({**_body(), "vip": True})
    assert extra.status_code == 422 and extra.json()["detail"][0]["loc"] == ["body", "vip"]
    malformed = await api.client.post("/v1/complaints", headers={**staff, "content-type": "application/json"}, content=b"{oops")
    assert malformed.status_code == 422
    not_object = await post([1, 2, 3])
    assert not_object.status_code == 422
    oversized = await post({**_body(), "description": "x" * 70_000})
    assert oversized.status_code == 413
    too_long = await post({**_body(), "description": "x" * 6000})
    assert too_long.status_code == 422 and too_long.json()["detail"][0]["loc"] == ["body", "description"]
    bad_id = await api.client.get("/v1/complaints/not-a-uuid", headers=staff)
    assert bad_id.status_code == 422
    bad_cursor = await api.client.get("/v1/complaints", params={"cursor": "garbage"}, headers=staff)
    assert bad_cursor.status_code == 422 and bad_cursor.json()["detail"][0]["loc"] == ["query", "cursor"]


async def test_listing_filters_and_pages_within_scope(api):
    staff = api.token(Role.associate, "esp-iso-omena")
    filed = [(await api.file(store="esp-iso-omena", category="wait_time")).json()["id"] for _ in range(5)]
    await api.file(store="tre-koskikeskus", category="wait_time")
    seen, cursor = [], None
    while True:
        params = {"category": "wait_time", "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await api.client.get("/v1/complaints", params=params, headers=staff)).json()
        assert len(page["items"]) <= 2
        seen += [item["id"] for item in page["items"]]
        assert {item["store_id"] for item in page["items"]} <= {"esp-iso-omena"}
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(filed)), "newest first, each once"
    senior = (await api.client.get("/v1/complaints", params={"category": "wait_time", "limit": 100},
                                   headers=api.token(Role.senior_manager))).json()
    assert {item["store_id"] for item in senior["items"]} >= {"esp-iso-omena", "tre-koskikeskus"}
    foreign = await api.client.get("/v1/complaints", params={"region_id": "pirkanmaa"}, headers=staff)
    assert foreign.status_code == 403


async def test_a_retried_create_returns_the_original_even_when_retries_race(api):
    staff = api.token(Role.associate, "tre-koskikeskus")
    key = str(uuid4())
    body = {**_body(), "store_id": "tre-koskikeskus", "category": "billing_transaction"}
    responses = await asyncio.gather(
        *(api.client.post("/v1/complaints", json=body, headers={**staff, "Idempotency-Key": key}) for _ in range(8))
    )
    assert {response.status_code for response in responses} == {201}
    assert len({response.json()["id"] for response in responses}) == 1
    assert sum(response.headers.get("Idempotent-Replayed") == "true" for response in responses) == 7
    listed = (await api.client.get("/v1/complaints", params={"category": "billing_transaction"}, headers=staff)).json()
    assert [item["id"] for item in listed["items"]] == [responses[0].json()["id"]]
    reused = await api.client.post(
        "/v1/complaints", json={**body, "severity": "critical"}, headers={**staff, "Idempotency-Key": key}
    )
    assert reused.status_code == 422 and reused.json()["detail"][0]["loc"] == ["body", "Idempotency-Key"]


async def test_a_retried_action_returns_the_original_even_when_retries_race(api):
    """A client that gave up waiting sends its acknowledge again while the first is still running: the
    retry waits for the first and replays its answer, rather than refusing what the first just did."""
    staff = api.token(Role.associate)
    complaint_id = (await api.file()).json()["id"]
    key = str(uuid4())
    responses = await asyncio.gather(*(
        api.client.post(f"/v1/complaints/{complaint_id}/acknowledge", headers={**staff, "Idempotency-Key": key})
        for _ in range(8)))
    assert [response.status_code for response in responses] == [200] * 8, [r.text for r in responses]
    assert sum(response.headers.get("Idempotent-Replayed") == "true" for response in responses) == 7
    assert (await api.client.post(f"/v1/complaints/{complaint_id}/acknowledge", headers=staff)).status_code == 409


def _body() -> dict:
    return {
        "store_id": "hel-kamppi",
        "customer": {"email": "aino@example.com"},
        "channel": "phone",
        "category": "service",
        "severity": "low",
        "mood": "calm",
        "description": "Nobody answered the phone.",
    }


async def test_stores_are_listed_within_scope_and_managed_by_admins(api):
    def ids(response):
        assert response.status_code == 200, response.text
        return [store["id"] for store in response.json()]

    assert ids(await api.client.get("/v1/stores", headers=api.token(Role.associate))) == ["hel-kamppi"]
    assert ids(await api.client.get("/v1/stores", headers=api.token(Role.regional_coordinator, "hel-kamppi"))) == [
        "esp-iso-omena", "hel-kamppi"]
    everything = await api.client.get("/v1/stores", headers=api.token(Role.senior_manager))
    assert {"hel-kamppi", "tre-koskikeskus"} <= set(ids(everything))
    assert everything.json()[0]["timezone"] == "Europe/Helsinki"
    manager = api.token(Role.store_manager)
    assert (await api.client.put("/v1/regions/lappi", json={"name": "Lappi"}, headers=manager)).status_code == 403
    unknown_region = await api.client.put(
        "/v1/stores/rov-sampokeskus", json={"region_id": "lappi", "name": "Sampokeskus"}, headers=api.token(Role.service)
    )
    assert unknown_region.status_code == 422 and unknown_region.json()["detail"][0]["loc"] == ["body", "region_id"]
    bad_slug = await api.client.put("/v1/regions/Lappi Region", json={"name": "Lappi"}, headers=api.token(Role.service))
    assert bad_slug.status_code == 422


async def test_unknown_return_requests_are_404(api):
    response = await api.client.get(f"/v1/returns/{uuid4()}", headers=api.token(Role.associate))
    assert response.status_code == 404
    approve = await api.client.post(f"/v1/returns/{uuid4()}/approve", headers=api.token(Role.store_manager))
    assert approve.status_code == 404


# ---- the steps of the technique on a resolution -------------------------------------------------

STEPS = {"defuse": True, "isolate_core_problem": True, "address_concerns": False}


async def test_a_resolution_records_the_steps_taken_shows_them_and_publishes_them(api):
    staff = api.token(Role.associate)
    complaint_id = (await api.file()).json()["id"]
    body = {"technique": "isolate_core_problem", "outcome": "exchange", "summary": "Exchanged.", "steps": STEPS}
    resolved = await api.client.post(f"/v1/complaints/{complaint_id}/resolve", json=body, headers=staff)
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["resolution_steps"] == STEPS
    shown = (await api.client.get(f"/v1/complaints/{complaint_id}", headers=api.token(Role.senior_manager))).json()
    assert (shown["resolution_technique"], shown["resolution_steps"]) == ("isolate_core_problem", STEPS)

    def published(envelopes):
        return [e.data for e in envelopes
                if e.type == "retail.complaint.resolved.v1" and str(e.data.complaint_id) == complaint_id]

    [event] = published(await read_topic(api.platform.kafka_bootstrap_servers, COMPLAINTS, published))
    assert event.steps.model_dump() == STEPS and event.technique == "isolate_core_problem"

    reopened = await api.client.post(f"/v1/complaints/{complaint_id}/reopen", json={}, headers=staff)
    assert reopened.json()["resolution_steps"] == STEPS, "the last resolution's steps stay until the next resolution"
    plain = {"technique": "defuse", "outcome": "apology", "summary": "Apologised."}
    again = await api.client.post(f"/v1/complaints/{complaint_id}/resolve", json=plain, headers=staff)
    assert again.status_code == 200 and again.json()["resolution_steps"] is None


async def test_steps_must_name_each_step_and_include_the_technique(api):
    complaint_id = (await api.file()).json()["id"]
    staff = api.token(Role.associate)
    base = {"technique": "address_concerns", "outcome": "refund", "summary": "Refunded."}
    for steps, field in [
        (STEPS, ["body", "steps"]),  # address_concerns, the technique, not taken
        ({"defuse": True, "isolate_core_problem": True}, ["body", "steps", "address_concerns"]),
        ({**STEPS, "address_concerns": "maybe"}, ["body", "steps", "address_concerns"]),
        ({**STEPS, "address_concerns": True, "shouted": True}, ["body", "steps", "shouted"]),
    ]:
        response = await api.client.post(f"/v1/complaints/{complaint_id}/resolve", json={**base, "steps": steps},
                                         headers=staff)
        assert response.status_code == 422, response.text
        assert [error["loc"] for error in response.json()["detail"]] == [field], steps
    current = (await api.client.get(f"/v1/complaints/{complaint_id}", headers=staff)).json()
    assert (current["status"], current["resolution_steps"]) == ("open", None)
