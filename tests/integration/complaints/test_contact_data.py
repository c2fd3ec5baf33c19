"""Customer contact data on a need-to-know basis, on SQLite and on real PostgreSQL: filing shows and
changes only the contact it was given, an erased customer stays erased, only the filing site, the
call centre and the complaint's assignee see the contact, and every read of it is recorded for
senior managers."""

from datetime import datetime
from uuid import uuid4

import pytest

from services.shared.principal import Role


@pytest.fixture
def api(api_per_database):
    return api_per_database


def contact(**changes) -> dict:
    """A customer's contact with an e-mail address no other test uses."""
    return {"name": "Aino Virtanen", "email": f"aino.{uuid4().hex[:8]}@example.com", "phone": "+358 40 123 4567",
            **changes}


def call_centre(api, sub: str = "cc-0001") -> dict:
    return api.token(Role.call_centre_agent, store=None, sub=sub)


async def read(api, complaint_id: str, headers: dict) -> dict:
    response = await api.client.get(f"/v1/complaints/{complaint_id}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def shown(complaint: dict) -> dict:
    return {key: complaint["customer"][key] for key in ("name", "email", "phone")}


NOTHING = {"name": None, "email": None, "phone": None}


async def test_filing_with_a_known_email_elsewhere_answers_only_what_was_given(api):
    given = contact()
    first = (await api.file(customer=given)).json()
    elsewhere = await api.file(store="tre-koskikeskus", customer={"email": given["email"]})
    assert elsewhere.status_code == 201, elsewhere.text
    assert elsewhere.json()["customer"] == {
        "customer_ref": first["customer"]["customer_ref"], "name": None, "email": given["email"], "phone": None,
    }


async def test_filing_again_with_another_name_and_phone_changes_no_earlier_complaint(api):
    given = contact()
    first = (await api.file(customer=given)).json()
    again = await api.file(store="tre-koskikeskus", customer={**given, "name": "Someone Else", "phone": "+358 50 999 9999"})
    assert shown(again.json()) == {**given, "name": "Someone Else", "phone": "+358 50 999 9999"}
    assert shown(await read(api, first["id"], api.token(Role.associate))) == given


async def test_an_erased_customer_stays_erased_and_a_new_filing_keeps_its_contact_for_itself(api):
    given = contact()
    before = (await api.file(customer=given)).json()
    erased = await api.client.post("/v1/customers/erasure", json={"email": given["email"]},
                                   headers=api.token(Role.senior_manager))
    assert erased.status_code == 200, erased.text

    back = await api.file(store="esp-iso-omena", customer={"name": "Aino V.", "email": given["email"]})
    assert back.status_code == 201
    assert shown(back.json()) == {"name": "Aino V.", "email": given["email"], "phone": None}
    assert back.json()["customer"]["customer_ref"] == before["customer"]["customer_ref"]
    assert shown(await read(api, before["id"], api.token(Role.associate))) == NOTHING
    assert (await read(api, before["id"], api.token(Role.associate)))["description"] is None
    assert shown(await read(api, back.json()["id"], api.token(Role.associate, "esp-iso-omena"))) == shown(back.json())


async def test_contact_is_shown_to_the_filing_site_the_call_centre_and_the_assignee_only(api):
    given = contact()
    complaint = (await api.file(customer=given)).json()  # at hel-kamppi, in uusimaa
    for headers in (api.token(Role.associate, sub="emp-2001"), api.token(Role.store_manager, sub="mgr-0007"),
                    call_centre(api)):
        assert shown(await read(api, complaint["id"], headers)) == given
    outsiders = [
        api.token(Role.coordinator, sub="co-0001"), api.token(Role.regional_coordinator, sub="rc-0001"),
        api.token(Role.senior_manager, sub="sm-0001"), api.token(Role.ops, sub="ops-0001"),
        api.token(Role.service, sub="svc-0001"),
    ]
    for headers in outsiders:
        seen = await read(api, complaint["id"], headers)
        assert shown(seen) == NOTHING and seen["customer"]["customer_ref"] == complaint["customer"]["customer_ref"]
    assert (await read(api, complaint["id"], outsiders[1]))["description"] == "The kettle leaks."

    raised = await api.client.post(
        f"/v1/complaints/{complaint['id']}/assign", json={"assignee": "rc-0001", "assignee_role": "regional_coordinator"},
        headers=api.token(Role.store_manager, sub="mgr-0007"),
    )
    assert raised.status_code == 200, raised.text
    assert shown(await read(api, complaint["id"], outsiders[1])) == given
    assert shown(await read(api, complaint["id"], api.token(Role.regional_coordinator, sub="rc-0002"))) == NOTHING
    listed = await api.client.get("/v1/complaints", params={"store_id": "hel-kamppi", "limit": 200}, headers=outsiders[1])
    contacts = {item["id"]: shown(item) for item in listed.json()["items"]}
    assert contacts[complaint["id"]] == given
    assert {str(value) for key, value in contacts.items() if key != complaint["id"]} == {str(NOTHING)}


async def test_a_call_centre_agent_files_works_and_lists_complaints_of_any_store_with_their_contact(api):
    agent = call_centre(api)
    filed = {}
    for store in ("tre-koskikeskus", "esp-iso-omena"):  # in both regions
        given = contact()
        response = await api.client.post("/v1/complaints", headers=agent, json={
            "store_id": store, "customer": given, "channel": "call_centre", "category": "service",
            "severity": "low", "mood": "calm", "description": "Called about a late delivery.",
        })
        assert response.status_code == 201, response.text
        assert shown(response.json()) == given and response.json()["filed_by"] == "cc-0001"
        filed[response.json()["id"]] = given
    in_store = await api.client.post("/v1/complaints", headers=agent, json={
        "store_id": "hel-kamppi", "customer": contact(), "channel": "in_store", "category": "service",
        "severity": "low", "mood": "calm", "description": "Walked in.",
    })
    assert in_store.status_code == 422 and in_store.json()["detail"][0]["loc"] == ["body", "channel"]

    first, second = filed
    other_agent = call_centre(api, "cc-0003")  # works what another agent filed
    for path, body in (("acknowledge", None), ("notes", {"text": "Called back."}),
                       ("assign", {"assignee": "cc-0003", "assignee_role": "associate"}),
                       ("resolve", {"technique": "address_concerns", "outcome": "apology", "summary": "Rebooked."})):
        response = await api.client.post(f"/v1/complaints/{first}/{path}", headers=other_agent, json=body)
        assert response.status_code in (200, 201), response.text
        assert shown(response.json()) == filed[first]
    assert response.json()["status"] == "resolved"

    listed = await api.client.get("/v1/complaints", params={"limit": 200}, headers=other_agent)
    contacts = {item["id"]: shown(item) for item in listed.json()["items"]}
    assert {first: contacts[first], second: contacts[second]} == filed
    assert {item["store_id"] for item in listed.json()["items"]} == {"hel-kamppi", "esp-iso-omena", "tre-koskikeskus"}
    mine = await api.client.get("/v1/complaints", params={"assignee": "me"}, headers=other_agent)
    assert [item["id"] for item in mine.json()["items"]] == [first]


async def test_every_read_of_contact_data_is_recorded_and_senior_managers_can_query_it(api):
    complaint_id = (await api.file(customer=contact())).json()["id"]
    await read(api, complaint_id, api.token(Role.associate, sub="emp-2001"))
    await read(api, complaint_id, api.token(Role.coordinator, sub="co-0001"))  # sees no contact: nothing to record
    await read(api, complaint_id, call_centre(api, "cc-0002"))
    acknowledged = await api.client.post(f"/v1/complaints/{complaint_id}/acknowledge",
                                         headers=api.token(Role.store_manager, sub="mgr-0007"))
    assert acknowledged.status_code == 200
    listed = await api.client.get("/v1/complaints", params={"limit": 200}, headers=api.token(Role.associate, sub="emp-2002"))
    assert complaint_id in {item["id"] for item in listed.json()["items"]}

    senior = api.token(Role.senior_manager, sub="sm-0001")
    response = await api.client.get("/v1/contact-reads", params={"complaint_id": complaint_id}, headers=senior)
    assert response.status_code == 200, response.text
    reads = response.json()["items"]
    assert [(r["staff_id"], r["role"], r["endpoint"]) for r in reads] == [
        ("emp-2002", "associate", "GET /v1/complaints"),
        ("mgr-0007", "store_manager", "POST /v1/complaints/{complaint_id}/acknowledge"),
        ("cc-0002", "call_centre_agent", "GET /v1/complaints/{complaint_id}"),
        ("emp-2001", "associate", "GET /v1/complaints/{complaint_id}"),
    ], "newest first; the filing itself and a read without contact are not reads of contact data"
    assert {r["complaint_id"] for r in reads} == {complaint_id}
    assert all(datetime.fromisoformat(r["read_at"]).tzinfo is not None for r in reads)
    assert not {"name", "email", "phone", "customer"} & set(reads[0])

    paged, cursor = [], None
    while True:
        params = {"complaint_id": complaint_id, "limit": 1, **({"cursor": cursor} if cursor else {})}
        page = (await api.client.get("/v1/contact-reads", params=params, headers=senior)).json()
        paged += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert paged == reads

    by_staff = await api.client.get("/v1/contact-reads", params={"staff_id": "cc-0002"}, headers=senior)
    assert [(r["complaint_id"], r["staff_id"]) for r in by_staff.json()["items"]] == [(complaint_id, "cc-0002")]
    since = await api.client.get("/v1/contact-reads", headers=senior,
                                 params={"complaint_id": complaint_id, "since": reads[1]["read_at"]})
    assert {r["staff_id"] for r in since.json()["items"]} >= {"emp-2002", "mgr-0007"}
    until = await api.client.get("/v1/contact-reads", headers=senior,
                                 params={"complaint_id": complaint_id, "until": reads[-1]["read_at"]})
    assert until.json()["items"] == []


async def test_only_senior_managers_query_the_contact_reads(api):
    for headers in (api.token(Role.associate), api.token(Role.store_manager), api.token(Role.regional_coordinator),
                    call_centre(api), api.token(Role.ops), api.token(Role.service)):
        response = await api.client.get("/v1/contact-reads", headers=headers)
        assert response.status_code == 403, response.text
    assert (await api.client.get("/v1/contact-reads")).status_code == 401
