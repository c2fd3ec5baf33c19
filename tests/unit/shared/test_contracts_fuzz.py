"""Every event contract against any JSON value: a record either decodes into an event that encodes
and decodes to itself, or is an InvalidEvent (which workers dead-letter), and nothing else —
whatever a field holds: NaN, Infinity, 1e400, huge integers, lone surrogates, any date.

RETAIL_FUZZ_CASES sets the cases per contract (`make faults` raises it); the examples are drawn
from a fixed seed, so a run is repeatable."""

import json
import math
import os
from datetime import UTC, datetime, timedelta, timezone

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.escalation.events import Observation, Observations, Observed, Tick
from services.escalation.topics import INTERNAL_TOPICS
from services.shared.events.envelope import InvalidEvent, decode, encode, wrap
from services.shared.events.fields import EARLIEST, LATEST
from services.shared.topics import ALL_TOPICS
from tests.support.builders import example

CASES = int(os.environ.get("RETAIL_FUZZ_CASES", "100"))
NOW = datetime(2026, 11, 23, 9, 15, tzinfo=UTC)
FUZZ = settings(max_examples=CASES, derandomize=True, database=None, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])
TOPICS = [topic for topic in (*ALL_TOPICS, *INTERNAL_TOPICS) if topic.events]
CONTRACTS = list({event: (topic, event) for topic in TOPICS for event in topic.events}.values())  # every DLQ has one


class Raw(str):
    """A JSON token written as it is, such as 1e400, which no Python value dumps to."""


def dump(value) -> str:
    """JSON text as any client could send it: NaN and Infinity as JavaScript writes them, lone
    surrogates as \\u escapes, and raw tokens as they are."""
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(key)}: {dump(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(dump(item) for item in value) + "]"
    return json.dumps(value)


OFFSETS = st.timedeltas(min_value=-timedelta(hours=23, minutes=59), max_value=timedelta(hours=23, minutes=59))
TIMES = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),
                     timezones=st.none() | st.just(UTC) | OFFSETS.map(timezone)).map(datetime.isoformat)
EXTREMES = (
    st.sampled_from(["1e400", "-1e400", "1e-400", "NaN", "Infinity", "-Infinity", "9" * 400, "-0"]).map(Raw)
    | st.sampled_from([2**63, -(2**63) - 1, 2**64, 10**30, 1e308, -1e308, 5e-324, float("nan"), float("inf")])
)
TEXTS = st.text(st.characters(exclude_categories=()), max_size=20) | st.text(max_size=300) | st.uuids().map(str)
PLAIN = st.none() | st.booleans() | st.integers() | st.floats()
LEAVES = st.one_of(EXTREMES, TEXTS, TIMES, PLAIN)
VALUES = LEAVES | st.recursive(
    LEAVES, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


def paths(document, at=()) -> list[tuple]:
    """The path to every value in the document, nested ones included."""
    found = [at] if at else []
    items = document.items() if isinstance(document, dict) else enumerate(document) if isinstance(document, list) else ()
    for key, value in items:
        found += paths(value, (*at, key))
    return found


def replaced(document, path: tuple, value):
    if not path:
        return value
    head, *rest = path
    copy = dict(document) if isinstance(document, dict) else list(document)
    copy[head] = replaced(document[head], tuple(rest), value)
    return copy


# The escalation worker's internal events have no examples in their contracts.
INTERNAL = {
    Tick: Tick(partition=3, now=NOW),
    Observed: Observed(region_id="uusimaa", store_id="hel-kamppi", category="service", policy_rule="return_window",
                       sample_id="0c6f8e1e-6a0b-4b43-9d0e-2f1f4f6f1a01", at=NOW),
}
INTERNAL[Observations] = Observations(region_id="uusimaa", observations=[
    Observation(id="6a1f3c2e-0b4d-4e8f-9a7b-1c2d3e4f5a6b", observed=INTERNAL[Observed]),
])


def envelope_document(event_class) -> dict:
    event = INTERNAL[event_class] if event_class in INTERNAL else example(event_class)
    envelope = wrap(event, source="/fuzz", time=NOW, subject="s")
    return orjson.loads(encode(envelope))


def leaves(value):
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return [leaf for item in value for leaf in leaves(item)]
    return [value]


def round_trips_or_is_invalid(raw: bytes, topic) -> None:
    try:
        envelope = decode(raw, topic.event_classes)
    except InvalidEvent:
        return
    assert decode(encode(envelope), topic.event_classes) == envelope
    for leaf in leaves(envelope.model_dump()):  # what any consumer can compute with
        assert not isinstance(leaf, datetime) or EARLIEST <= leaf < LATEST, leaf
        assert not isinstance(leaf, int) or -(2**63) <= leaf < 2**63, leaf
        assert not isinstance(leaf, float) or math.isfinite(leaf), leaf


@pytest.mark.parametrize(("topic", "event_class"), CONTRACTS, ids=lambda x: getattr(x, "event_type", getattr(x, "name", "")))
@FUZZ
@given(data=st.data())
def test_any_value_in_any_field_round_trips_or_is_an_invalid_event(topic, event_class, data):
    document = envelope_document(event_class)
    path = data.draw(st.sampled_from(paths(document)), label="path")
    value = data.draw(VALUES, label="value")
    round_trips_or_is_invalid(dump(replaced(document, path, value)).encode(), topic)


@pytest.mark.parametrize("topic", TOPICS, ids=lambda topic: topic.name)
@FUZZ
@given(record=VALUES.map(lambda value: dump(value).encode()) | st.binary(max_size=200))
def test_any_record_round_trips_or_is_an_invalid_event(topic, record):
    round_trips_or_is_invalid(record, topic)
