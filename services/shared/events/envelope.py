"""The CloudEvents-style envelope every event travels in, and its (de)serialisation."""

from datetime import datetime
from functools import cache
from typing import Any, ClassVar, Literal
from uuid import UUID, uuid4

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from services.shared.events.fields import RegionId, StoreId, Timestamp

# Unknown fields are ignored so that a consumer keeps reading events from a newer producer that
# added optional fields (contracts evolve backward-compatibly; a breaking change is a new type).
_CONFIG = ConfigDict(frozen=True, extra="ignore")
# Every record is a CloudEvent in the Kafka binding's structured mode: the whole envelope is the value.
# Without this header a receiver following the binding would take the record for binary mode.
KAFKA_HEADERS = [("content-type", b"application/cloudevents+json")]


class Event(BaseModel):
    """The data of one event. Each subclass names its type, such as retail.complaint.filed.v1."""

    model_config = _CONFIG
    event_type: ClassVar[str]


class StoreEvent(Event):
    store_id: StoreId
    region_id: RegionId


class RegionEvent(Event):
    region_id: RegionId


class Envelope(BaseModel):
    model_config = _CONFIG

    specversion: Literal["1.0"] = "1.0"
    id: UUID
    type: str
    source: str = Field(min_length=1, max_length=200)
    time: Timestamp
    subject: str | None = Field(default=None, max_length=200)
    datacontenttype: Literal["application/json"] = "application/json"
    data: Event


class InvalidEvent(ValueError):
    """A record that is not a valid event of its topic; the message says why."""


@cache
def envelope_model(event_class: type[Event]) -> type[Envelope]:
    """The envelope whose `type` is fixed to the event class's type and whose data is that class."""
    return create_model(
        f"{event_class.__name__}Envelope",
        __base__=Envelope,
        type=(Literal[event_class.event_type], event_class.event_type),
        data=(event_class, ...),
    )


def wrap(
    event: Event, *, source: str, time: datetime, subject: str | None = None, id: UUID | None = None
) -> Envelope:
    return envelope_model(type(event))(id=id or uuid4(), source=source, time=time, subject=subject, data=event)


def encode(envelope: Envelope) -> bytes:
    return orjson.dumps(envelope.model_dump(mode="json", exclude_none=True))


def decode(raw: bytes, event_classes: dict[str, type[Event]]) -> Envelope:
    """Strictly validates raw bytes as one of the given event types, or raises InvalidEvent."""
    try:
        document: Any = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise InvalidEvent(f"not JSON: {error}") from None
    if not isinstance(document, dict):
        raise InvalidEvent("the envelope is not a JSON object")
    event_type = document.get("type")
    event_class = event_classes.get(event_type) if isinstance(event_type, str) else None
    if event_class is None:
        raise InvalidEvent(f"type: {event_type!r} is not an event type of this topic")
    try:
        return envelope_model(event_class).model_validate_json(raw, strict=True)
    except ValidationError as error:
        raise InvalidEvent(describe(error)) from None


def describe(error: ValidationError) -> str:
    """One line naming each invalid field, such as 'data.severity: Input should be ...'."""
    return "; ".join(
        f"{'.'.join(str(part) for part in detail['loc']) or '(root)'}: {detail['msg']}" for detail in error.errors()
    )
