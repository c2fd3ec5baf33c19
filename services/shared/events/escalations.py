"""Topic `escalations`: routing decisions, pages and SLA tier moves, keyed by store_id."""

from enum import StrEnum
from typing import ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from services.shared.events.envelope import StoreEvent
from services.shared.events.fields import StaffId, Tier, Timestamp

_COMPLAINT = {
    "store_id": "hel-kamppi",
    "region_id": "uusimaa",
    "complaint_id": "0c6f8e1e-6a0b-4b43-9d0e-2f1f4f6f1a01",
}
_MANAGER = {"tier": "store_manager", "staff_id": "mgr-0007"}


class DeadlineKind(StrEnum):
    acknowledge = "acknowledge"
    resolve = "resolve"


class Assignee(BaseModel):
    """Who works the complaint: the tier's role and, when someone of it is on duty, the person."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    tier: Tier
    staff_id: StaffId | None = None


class EscalationEvent(StoreEvent):
    complaint_id: UUID


class EscalationRouted(EscalationEvent):
    event_type: ClassVar[str] = "retail.escalation.routed.v1"
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_COMPLAINT,
                    "assignee": _MANAGER,
                    "acknowledge_by": "2026-11-23T09:30:00Z",
                    "resolve_by": "2026-11-23T13:15:00Z",
                    "reason": "mood angry: store manager",
                    "at": "2026-11-23T09:15:01Z",
                }
            ]
        }
    )

    assignee: Assignee
    acknowledge_by: Timestamp
    resolve_by: Timestamp
    reason: str = Field(max_length=500)
    at: Timestamp


class EscalationPaged(EscalationEvent):
    """An immediate call to the on-duty manager (or the regional coordinator when none is on duty)."""

    event_type: ClassVar[str] = "retail.escalation.paged.v1"
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_COMPLAINT,
                    "page_id": "7e6d5c4b-3a29-4180-9f7e-6d5c4b3a2918",
                    "recipient": _MANAGER,
                    "reason": "severity critical",
                    "at": "2026-11-23T09:15:01Z",
                }
            ]
        }
    )

    page_id: UUID
    recipient: Assignee
    reason: str = Field(max_length=500)
    at: Timestamp


class EscalationBreached(EscalationEvent):
    event_type: ClassVar[str] = "retail.escalation.breached.v1"
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_COMPLAINT,
                    "tier": "associate",
                    "deadline_kind": "acknowledge",
                    "deadline": "2026-11-23T09:30:00Z",
                    "at": "2026-11-23T09:30:00Z",
                }
            ]
        }
    )

    tier: Tier
    deadline_kind: DeadlineKind
    deadline: Timestamp
    at: Timestamp


class EscalationRaised(EscalationEvent):
    event_type: ClassVar[str] = "retail.escalation.raised.v1"
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_COMPLAINT,
                    "from_tier": "associate",
                    "assignee": {"tier": "coordinator", "staff_id": None},
                    "acknowledge_by": "2026-11-23T09:45:00Z",
                    "resolve_by": "2026-11-23T13:30:00Z",
                    "reason": "acknowledge deadline passed at tier associate",
                    "at": "2026-11-23T09:30:00Z",
                }
            ]
        }
    )

    from_tier: Tier
    assignee: Assignee
    acknowledge_by: Timestamp | None = Field(default=None, description="None once acknowledged.")
    resolve_by: Timestamp
    reason: str = Field(max_length=500)
    at: Timestamp


class EscalationReopened(EscalationEvent):
    """A reopened complaint back with its tier: its SLA timers run again, with deadlines from the
    reopening (it is to be acknowledged again)."""

    event_type: ClassVar[str] = "retail.escalation.reopened.v1"
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_COMPLAINT,
                    "assignee": _MANAGER,
                    "acknowledge_by": "2026-11-25T10:15:00Z",
                    "resolve_by": "2026-11-25T14:00:00Z",
                    "reason": "reopened: the store_manager tier's deadlines from now",
                    "at": "2026-11-25T10:00:00Z",
                }
            ]
        }
    )

    assignee: Assignee
    acknowledge_by: Timestamp
    resolve_by: Timestamp
    reason: str = Field(max_length=500)
    at: Timestamp


EVENTS = (EscalationRouted, EscalationPaged, EscalationBreached, EscalationRaised, EscalationReopened)
