"""Every `<topic>.dlq`: a record that could not be processed, with the reason and a copy of the record.

The copy is capped (`VALUE_KEPT` bytes of the value, `KEY_KEPT` of the key, `REASON_KEPT` characters
of the reason) and the whole value is identified by its size and SHA-256 hash: a record near the
broker's size limit, copied whole (and base64 makes it a third larger), would make its own dead
letter too large to send."""

from typing import ClassVar

from pydantic import ConfigDict, Field

from services.shared.events.envelope import Event
from services.shared.events.fields import MAX_COUNT, Timestamp

VALUE_KEPT = 64 * 1024
KEY_KEPT = 1024
REASON_KEPT = 2000


class DeadLetter(Event):
    event_type: ClassVar[str] = "retail.deadletter.recorded.v1"
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "topic": "complaints",
                    "partition": 3,
                    "offset": 1041,
                    "key": "hel-kamppi",
                    "value": '{"type": "retail.complaint.filed.v1", "data": {"severity": "extreme"}}',
                    "value_encoding": "utf-8",
                    "value_size": 70,
                    "value_sha256": "6488151122f91c34e74838f292de92760907eaa020be5277e65919a4f0a037f6",
                    "value_truncated": False,
                    "reason": "data.severity: Input should be 'low', 'medium', 'high' or 'critical'",
                    "consumer": "escalation",
                    "at": "2026-11-23T09:15:02Z",
                }
            ]
        }
    )

    topic: str
    partition: int = Field(ge=0, le=MAX_COUNT)
    offset: int = Field(ge=0, le=2**63 - 1)  # Kafka's offsets are 64-bit
    key: str | None = Field(None, description=f"The record's key as text (its first {KEY_KEPT} bytes).")
    value: str | None = Field(
        None, description=f"The record's value (its first {VALUE_KEPT // 1024} KiB) as text, or base64 when it was not UTF-8."
    )
    value_encoding: str = Field(default="utf-8", pattern=r"^(utf-8|base64)$")
    value_size: int | None = Field(None, ge=0, le=MAX_COUNT, description="The size of the record's whole value in bytes.")
    value_sha256: str | None = Field(
        None, pattern=r"^[0-9a-f]{64}$", description="The SHA-256 hash of the record's whole value, in hex."
    )
    value_truncated: bool = Field(False, description=f"Whether the value was longer than the {VALUE_KEPT // 1024} KiB copied.")
    reason: str = Field(description=f"Why the record could not be processed (its first {REASON_KEPT} characters).")
    consumer: str
    at: Timestamp


EVENTS = (DeadLetter,)
