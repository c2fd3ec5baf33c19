from datetime import UTC, datetime
from uuid import uuid4

import orjson
import pytest

from services.shared.events.complaints import ComplaintFiled, CsatSubmitted
from services.shared.events.coordination import ProblemDetected
from services.shared.events.returns import ReturnRequested
from services.shared.events.roster import RosterPublished
from services.shared.events.signals import LossPreventionSignal
from services.shared.events.envelope import InvalidEvent, decode, encode, envelope_model, wrap
from services.shared.topics import ALL_TOPICS, COMPLAINTS, COORDINATION, ESCALATIONS, TOPICS
from tests.support.builders import example

NOW = datetime(2026, 11, 23, 9, 15, tzinfo=UTC)
EVENTS = [event for topic in ALL_TOPICS for event in topic.events]


def filed_document() -> dict:
    return orjson.loads(encode(wrap(example(ComplaintFiled), source="/services/complaints", time=NOW)))


@pytest.mark.parametrize("topic", ALL_TOPICS, ids=lambda topic: topic.name)
def test_every_event_of_every_topic_survives_a_round_trip(topic):
    for event_class in topic.events:
        for document in event_class.model_config["json_schema_extra"]["examples"]:
            envelope = wrap(event_class.model_validate(document), source="/test", time=NOW, subject="s-1")
            decoded = decode(encode(envelope), topic.event_classes)
            assert decoded == envelope
            assert type(decoded.data) is event_class
            assert decoded.type == event_class.event_type


def test_the_envelope_carries_the_cloudevents_attributes():
    document = filed_document()
    assert document["specversion"] == "1.0"
    assert document["type"] == "retail.complaint.filed.v1"
    assert document["datacontenttype"] == "application/json"
    assert document["source"] == "/services/complaints"
    assert datetime.fromisoformat(document["time"]) == NOW
    assert len(str(document["id"])) == 36


def test_event_types_are_unique_and_versioned():
    types = [event.event_type for topic in TOPICS for event in topic.events]
    assert len(types) == len(set(types))
    assert all(t.startswith("retail.") and t.rsplit(".", 1)[1].startswith("v") for t in types)


def test_each_topic_keys_by_its_key_field():
    filed = example(ComplaintFiled)
    assert COMPLAINTS.key(filed) == filed.store_id.encode()
    problem = example(ProblemDetected)
    assert COORDINATION.key(problem) == b"uusimaa"


def test_store_keyed_topics_are_co_partitioned():
    store_topics = [topic for topic in TOPICS if topic.key_field == "store_id"]
    assert len({topic.partitions for topic in store_topics}) == 1


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda d: d["data"].pop("customer_ref"), "data.customer_ref: Field required"),
        (lambda d: d["data"].update(severity="extreme"), "data.severity: Input should be"),
        (lambda d: d["data"].update(filed_at="2026-11-23T09:15:00"), "data.filed_at: Input should have timezone"),
        (lambda d: d["data"].update(customer_ref="jane@example.com"), "data.customer_ref: String should match"),
        (lambda d: d["data"].update(has_receipt="yes"), "data.has_receipt: Input should be a valid boolean"),
        (lambda d: d.update(id="not-a-uuid"), "id: Input should be a valid UUID"),
        (lambda d: d.update(type="retail.complaint.teleported.v1"), "type: 'retail.complaint.teleported.v1' is not"),
        (lambda d: d.update(type="retail.escalation.paged.v1"), "type: 'retail.escalation.paged.v1' is not"),
    ],
)
def test_invalid_events_are_rejected_naming_the_field(mutate, reason):
    document = filed_document()
    mutate(document)
    with pytest.raises(InvalidEvent) as raised:
        decode(orjson.dumps(document), COMPLAINTS.event_classes)
    assert reason in str(raised.value)


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda d: d["data"].update(filed_at="9999-12-31T23:59:59Z"), "data.filed_at: Value error, must be from 2000-01-01"),
        (lambda d: d["data"].update(filed_at="2100-01-01T00:00:00Z"), "data.filed_at: Value error, must be from 2000-01-01"),
        (lambda d: d["data"].update(filed_at="1999-12-31T23:59:59+00:00"), "data.filed_at: Value error"),
        (lambda d: d["data"].update(filed_at="0001-01-01T00:00:00+23:59"), "data.filed_at: Value error"),
        (lambda d: d.update(time="9999-12-31T23:59:59-23:59"), "time: Value error, must be from 2000-01-01"),
        (lambda d: d["data"].update(amount={"minor_units": 10**19, "currency": "EUR"}), "data.amount.minor_units"),
        (lambda d: d["data"].update(prior_complaints_30d=2**63), "data.prior_complaints_30d"),
        (lambda d: d.update(source="/" + "s" * 500), "source: String should have at most 200 characters"),
    ],
    ids=["year-9999", "year-2100", "last-century", "year-1", "envelope-time", "amount", "count", "source"],
)
def test_times_numbers_and_texts_out_of_their_range_are_invalid_events(mutate, reason):
    document = filed_document()
    mutate(document)
    with pytest.raises(InvalidEvent) as raised:
        decode(orjson.dumps(document), COMPLAINTS.event_classes)
    assert reason in str(raised.value)


def test_the_range_ends_are_valid_times():
    for moment in ("2000-01-01T00:00:00Z", "2099-12-31T23:59:59.999999Z"):
        document = filed_document()
        document["data"]["filed_at"] = document["time"] = moment
        assert decode(orjson.dumps(document), COMPLAINTS.event_classes).data.filed_at == datetime.fromisoformat(moment)


@pytest.mark.parametrize(
    ("event_class", "changes", "field"),
    [
        (ProblemDetected, {"evidence": {**example(ProblemDetected).evidence.model_dump(mode="json"),
                                        "stores": [{"store_id": "s", "count": 1, "baseline": 1e300}]}}, "baseline"),
        (LossPreventionSignal, {"robust_z": float("inf")}, "robust_z"),
        (LossPreventionSignal, {"value": float("nan")}, "value"),
        (ReturnRequested, {"days_since_purchase": 740_000}, "days_since_purchase"),
        (RosterPublished, {"on_duty": [example(RosterPublished).on_duty[0].model_dump()] * 1001}, "on_duty"),
        (ComplaintFiled, {"filed_by": "emp-1\ud800"}, "filed_by"),
    ],
    ids=["baseline", "infinite-z", "nan-rate", "days", "roster-size", "surrogate"],
)
def test_an_event_outside_the_bounds_cannot_be_made(event_class, changes, field):
    with pytest.raises(ValueError, match=field):
        example(event_class, **changes)


def test_strict_validation_refuses_numbers_sent_as_strings():
    envelope = wrap(CsatSubmitted.model_validate(example(CsatSubmitted).model_dump()), source="/t", time=NOW)
    document = orjson.loads(encode(envelope))
    document["data"]["score"] = "4"
    with pytest.raises(InvalidEvent, match="data.score: Input should be a valid integer"):
        decode(orjson.dumps(document), COMPLAINTS.event_classes)


@pytest.mark.parametrize("raw", [b"", b"{not json", b"[1, 2]", b"\xff\xfe"])
def test_records_that_are_not_envelopes_are_rejected(raw):
    with pytest.raises(InvalidEvent):
        decode(raw, COMPLAINTS.event_classes)


def test_fields_added_by_a_newer_producer_are_ignored():
    document = filed_document()
    document["data"]["loyalty_tier"] = "gold"
    document["traceparent"] = "00-abc-def-01"
    decoded = decode(orjson.dumps(document), COMPLAINTS.event_classes)
    assert decoded.data == example(ComplaintFiled)


def test_envelope_type_is_fixed_by_its_data():
    with pytest.raises(ValueError, match="type"):
        envelope_model(ComplaintFiled)(
            id=uuid4(), type="retail.escalation.routed.v1", source="/t", time=NOW, data=example(ComplaintFiled)
        )


def test_escalation_events_belong_to_the_escalations_topic_only():
    assert set(ESCALATIONS.event_classes).isdisjoint(COMPLAINTS.event_classes)


def test_no_event_field_can_hold_contact_data():
    personal = {"name", "customer_name", "email", "phone", "address", "description", "comment"}
    for event in EVENTS:
        assert personal.isdisjoint(event.model_fields), event.__name__
