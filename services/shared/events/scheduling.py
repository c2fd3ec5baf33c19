"""Topic `scheduling`: shifts, training sessions and coaching, keyed by store_id."""

from enum import StrEnum
from typing import ClassVar
from uuid import UUID

from pydantic import ConfigDict, Field

from services.shared.events.envelope import StoreEvent
from services.shared.events.fields import MAX_ITEMS, StaffId, Tier, Timestamp

_STORE = {"store_id": "hel-kamppi", "region_id": "uusimaa"}
_SESSION = {**_STORE, "session_id": "5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d"}


class TrainingKind(StrEnum):
    onboarding = "onboarding"
    register = "register"
    returns = "returns"
    de_escalation_role_play = "de_escalation_role_play"
    promotions_briefing = "promotions_briefing"


class ShiftScheduled(StoreEvent):
    event_type: ClassVar[str] = "retail.shift.scheduled.v1"
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_STORE,
                    "shift_id": "1f2e3d4c-5b6a-4798-8a7b-6c5d4e3f2a1b",
                    "staff_id": "emp-1042",
                    "role": "associate",
                    "starts_at": "2026-11-24T08:00:00Z",
                    "ends_at": "2026-11-24T16:00:00Z",
                }
            ]
        }
    )

    shift_id: UUID
    staff_id: StaffId
    role: Tier
    starts_at: Timestamp
    ends_at: Timestamp


class ShiftCancelled(StoreEvent):
    event_type: ClassVar[str] = "retail.shift.cancelled.v1"
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{**_STORE, "shift_id": "1f2e3d4c-5b6a-4798-8a7b-6c5d4e3f2a1b", "at": "2026-11-23T12:00:00Z"}]
        }
    )

    shift_id: UUID
    at: Timestamp


class TrainingScheduled(StoreEvent):
    """A training session; `problem_id` is set when a detected common problem called for it."""

    event_type: ClassVar[str] = "retail.training.scheduled.v1"
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_SESSION,
                    "kind": "returns",
                    "trainer": "mgr-0007",
                    "trainees": ["emp-1042", "emp-1043"],
                    "starts_at": "2026-11-26T07:00:00Z",
                    "ends_at": "2026-11-26T08:00:00Z",
                    "problem_id": "2b3c4d5e-6f70-4182-93a4-b5c6d7e8f901",
                }
            ]
        }
    )

    session_id: UUID
    kind: TrainingKind
    trainer: StaffId
    trainees: list[StaffId] = Field(min_length=1, max_length=MAX_ITEMS)
    starts_at: Timestamp
    ends_at: Timestamp
    problem_id: UUID | None = None


class TrainingCompleted(StoreEvent):
    event_type: ClassVar[str] = "retail.training.completed.v1"
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{**_SESSION, "kind": "returns", "attended": ["emp-1042"], "at": "2026-11-26T08:00:00Z"}]
        }
    )

    session_id: UUID
    kind: TrainingKind
    attended: list[StaffId] = Field(max_length=MAX_ITEMS)
    at: Timestamp


class TrainingCancelled(StoreEvent):
    """A training session called off; `trainees` were enrolled in it (published once it had any)."""

    event_type: ClassVar[str] = "retail.training.cancelled.v1"
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{**_SESSION, "kind": "returns", "trainees": ["emp-1042"], "at": "2026-11-25T12:00:00Z"}]
        }
    )

    session_id: UUID
    kind: TrainingKind
    trainees: list[StaffId] = Field(max_length=MAX_ITEMS)
    at: Timestamp


class TrainingCause(StrEnum):
    register_complaints = "register_complaints"  # billing/register complaints above the site's usual rate
    hostile_escalations = "hostile_escalations"  # escalations of angry or hostile customers
    common_problem = "common_problem"  # a common problem detected across the region's stores


class TrainingProposed(StoreEvent):
    """Training that complaints call for, proposed once per cause to the site's manager, who confirms
    or dismisses it; `cause_ref` names the cause (a problem id, or the site and the window counted)."""

    event_type: ClassVar[str] = "retail.training.proposed.v1"
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_STORE,
                    "proposal_id": "6d5c4b3a-2f1e-4d0c-9b8a-7f6e5d4c3b2a",
                    "kind": "register",
                    "cause": "register_complaints",
                    "cause_ref": "hel-kamppi/2026-11-23",
                    "staff_ids": ["emp-1042", "emp-1043"],
                    "at": "2026-11-23T18:00:00Z",
                }
            ]
        }
    )

    proposal_id: UUID
    kind: TrainingKind
    cause: TrainingCause
    cause_ref: str = Field(min_length=1, max_length=200)
    staff_ids: list[StaffId] = Field(default_factory=list, max_length=MAX_ITEMS)
    problem_id: UUID | None = None
    at: Timestamp


class CoachingNoteRecorded(StoreEvent):
    """A coach observed a staff member's interactions; the note's text stays in the service."""

    event_type: ClassVar[str] = "retail.coaching.note_recorded.v1"
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_STORE,
                    "note_id": "3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f",
                    "staff_id": "emp-1042",
                    "coach": "rc-uusimaa-1",
                    "coach_role": "regional_coordinator",
                    "at": "2026-11-23T14:00:00Z",
                }
            ]
        }
    )

    note_id: UUID
    staff_id: StaffId
    coach: StaffId
    coach_role: Tier
    complaint_ids: list[UUID] = Field(default_factory=list, max_length=20, description="The complaints the note is about.")
    at: Timestamp


EVENTS = (
    ShiftScheduled, ShiftCancelled, TrainingScheduled, TrainingCompleted, TrainingCancelled, TrainingProposed,
    CoachingNoteRecorded,
)
