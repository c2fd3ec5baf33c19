"""What leaves the complaints service: contract-valid events on Kafka with no personal data, and
an erasure that removes a customer's personal data but keeps the statistics."""

from sqlalchemy import select

from services.complaints.store.models import Complaint, CsatSurvey, Customer, Note
from services.shared.db import make_engine
from services.shared.principal import Role
from services.shared.topics import COMPLAINTS
from tests.support import read_topic

CONTACT = {"name": "Veera Korhonen", "email": "veera.korhonen@example.com", "phone": "+358 50 765 4321"}
PERSONAL = ["Veera", "Korhonen", "veera.korhonen@example.com", "765 4321", "+358507654321", "secret diagnosis"]


async def test_events_follow_the_lifecycle_in_order_and_carry_no_personal_data(api):
    staff = api.token(Role.associate)
    complaint_id = (await api.file(customer=CONTACT, description="Veera says: secret diagnosis")).json()["id"]
    for action, body in [
        ("acknowledge", None),
        ("notes", {"text": "Veera Korhonen called back"}),
        ("resolve", {"technique": "defuse", "outcome": "apology", "summary": "Veera calmed down"}),
    ]:
        assert (await api.client.post(f"/v1/complaints/{complaint_id}/{action}", json=body, headers=staff)).is_success
    mine = lambda envelopes: [e for e in envelopes if str(getattr(e.data, "complaint_id", "")) == complaint_id]  # noqa: E731
    envelopes = await read_topic(
        api.platform.kafka_bootstrap_servers, COMPLAINTS, lambda found: len(mine(found)) >= 4
    )
    ours = mine(envelopes)
    assert [e.type for e in ours] == [
        "retail.complaint.filed.v1",
        "retail.complaint.acknowledged.v1",
        "retail.complaint.note_added.v1",
        "retail.complaint.resolved.v1",
    ]
    assert all(e.data.store_id == "hel-kamppi" and e.subject == complaint_id for e in ours)
    assert ours[-1].data.first_contact is True and ours[-1].data.by_role == "associate"
    assert ours[0].data.prior_complaints_30d == 0
    again = (await api.file(customer=CONTACT, store="esp-iso-omena")).json()["id"]
    refiled = await read_topic(api.platform.kafka_bootstrap_servers, COMPLAINTS, lambda found: any(
        str(getattr(e.data, "complaint_id", "")) == again for e in found))
    assert [e.data.prior_complaints_30d for e in refiled if str(getattr(e.data, "complaint_id", "")) == again] == [1]
    raw = "".join(e.model_dump_json() for e in ours)
    assert not [value for value in PERSONAL if value in raw]


async def test_erasure_removes_personal_data_keeps_statistics_and_is_announced(api):
    staff = api.token(Role.associate, "esp-iso-omena")
    contact = {**CONTACT, "email": "erase.me@example.com"}
    filed = [(await api.file(store=store, customer=contact, description="secret diagnosis")).json()
             for store in ("esp-iso-omena", "esp-iso-omena")]
    filed.append((await api.file(store="tre-koskikeskus", customer=contact)).json())
    complaint_id = filed[0]["id"]
    await api.client.post(f"/v1/complaints/{complaint_id}/notes", json={"text": "Veera Korhonen"}, headers=staff)
    token = await api.resolve(complaint_id, store="esp-iso-omena", summary="Veera Korhonen was happy")
    answered = await api.client.post(f"/v1/csat/{token}", json={"score": 5, "comment": "Veera liked it"})
    assert answered.status_code == 204

    assert (await api.client.post("/v1/customers/erasure", json={"email": contact["email"]},
                                  headers=api.token(Role.store_manager, "esp-iso-omena"))).status_code == 403
    erased = await api.client.post("/v1/customers/erasure", json={"email": "Erase.Me@example.com"},
                                   headers=api.token(Role.senior_manager))
    assert erased.status_code == 200, erased.text
    ref = erased.json()["customer_ref"]
    assert ref == filed[0]["customer"]["customer_ref"] and erased.json()["complaints"] == 3

    engine = make_engine(str(api.app.state.settings.database_url))
    try:
        async with engine.connect() as connection:
            customer = (await connection.execute(select(Customer).where(Customer.customer_ref == ref))).one()
            assert customer.erased_at is not None
            complaints = (await connection.execute(
                select(Complaint.contact_name, Complaint.contact_email, Complaint.contact_phone, Complaint.description,
                       Complaint.resolution_summary, Complaint.category, Complaint.status)
                .where(Complaint.customer_id == customer.id))).all()
            assert len(complaints) == 3, "the complaints themselves stay for the statistics"
            assert {row[:5] for row in complaints} == {(None,) * 5}
            assert (await connection.execute(select(Note.text).where(Note.complaint_id == complaint_id))).scalars().all() == [None]
            survey = (await connection.execute(select(CsatSurvey).where(CsatSurvey.complaint_id == complaint_id))).one()
            assert (survey.score, survey.comment) == (5, None)
    finally:
        await engine.dispose()

    seen = await api.client.get(f"/v1/complaints/{complaint_id}", headers=staff)
    assert seen.json()["customer"]["email"] is None and seen.json()["description"] is None

    def erasures(envelopes):
        return {e.data.store_id for e in envelopes if e.type == "retail.customer.erased.v1" and e.data.customer_ref == ref}

    envelopes = await read_topic(api.platform.kafka_bootstrap_servers, COMPLAINTS, lambda found: len(erasures(found)) == 2)
    assert erasures(envelopes) == {"esp-iso-omena", "tre-koskikeskus"}
    raw = "".join(e.model_dump_json() for e in envelopes)
    assert "erase.me@example.com" not in raw and "Veera" not in raw

    unknown = await api.client.post("/v1/customers/erasure", json={"email": "nobody@example.com"},
                                    headers=api.token(Role.senior_manager))
    assert unknown.status_code == 404


async def test_erasure_removes_a_store_managers_reason_for_declining_the_customers_return(api):
    manager = api.token(Role.store_manager, "hel-kamppi", sub="mgr-0007")
    requested = await api.client.post("/v1/returns", headers=api.token(Role.associate), json={
        "store_id": "hel-kamppi", "kind": "refund", "tender": "cash", "amount": {"minor_units": 250_000, "currency": "EUR"},
        "product_category": "small-appliances", "purchased_on": api.app.state.clock().date().isoformat(),
        "receipt_number": "R-1", "customer": {"email": "declined.erased@example.com"},
    })
    assert requested.json()["status"] == "pending_approval", requested.text
    return_id = requested.json()["id"]
    declined = await api.client.post(f"/v1/returns/{return_id}/decline", headers=manager,
                                     json={"reason": "Veera Korhonen has returned three of these."})
    assert declined.json()["decline_reason"] == "Veera Korhonen has returned three of these."

    erased = await api.client.post("/v1/customers/erasure", json={"email": "declined.erased@example.com"},
                                   headers=api.token(Role.senior_manager))
    assert erased.status_code == 200, erased.text
    seen = (await api.client.get(f"/v1/returns/{return_id}", headers=manager)).json()
    assert (seen["status"], seen["decline_category"], seen["decline_reason"]) == ("declined", "other", None)
