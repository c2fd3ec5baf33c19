"""Every `<topic>.dlq`: a record that could not be processed, with the reason and the record itself."""

from typing import ClassVar

from pydantic import AwareDatetime, ConfigDict, Field

from services.shared.events.envelope import Event


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
                    "reason": "data.severity: Input should be 'low', 'medium', 'high' or 'critical'",
                    "consumer": "escalation",
                    "at": "2026-11-23T09:15:02Z",
                }
            ]
        }
    )

    topic: str
    partition: int = Field(ge=0)
    offset: int = Field(ge=0)
    key: str | None = None
    value: str | None = Field(description="The record's value as text, or base64 when it was not UTF-8.")
    value_encoding: str = Field(default="utf-8", pattern=r"^(utf-8|base64)$")
    reason: str
    consumer: str
    at: AwareDatetime


EVENTS = (DeadLetter,)
