"""Topic `coordination`: common problems across stores and policy proposals, keyed by region_id."""

from enum import StrEnum
from typing import ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from services.shared.events.complaints import Category
from services.shared.events.envelope import RegionEvent
from services.shared.events.fields import MAX_COUNT, MAX_ITEMS, Count, StaffId, StoreId, Timestamp
from services.shared.events.returns import PolicyRule

_PROBLEM = {"region_id": "uusimaa", "problem_id": "2b3c4d5e-6f70-4182-93a4-b5c6d7e8f901"}
_PROPOSAL = {**_PROBLEM, "proposal_id": "8f9e0d1c-2b3a-4c5d-8e6f-7a8b9c0d1e2f"}
_EVIDENCE = {
    "category": "return_refund_exchange",
    "policy_rule": "return_window",
    "window_start": "2026-11-16T00:00:00Z",
    "window_end": "2026-11-23T00:00:00Z",
    "stores": [
        {"store_id": "hel-kamppi", "count": 9, "baseline": 2.0},
        {"store_id": "esp-iso-omena", "count": 7, "baseline": 1.5},
        {"store_id": "van-jumbo", "count": 6, "baseline": 1.0},
    ],
    "sample_complaint_ids": ["0c6f8e1e-6a0b-4b43-9d0e-2f1f4f6f1a01"],
}


class Decision(StrEnum):
    accepted = "accepted"
    rejected = "rejected"


class StoreCount(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    store_id: StoreId
    count: Count
    baseline: float = Field(
        ge=0, le=MAX_COUNT, allow_inf_nan=False, description="The store's expected count for such a window."
    )


class Evidence(BaseModel):
    """What a common problem rests on: which stores saw how much of what, and when."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    category: Category
    policy_rule: PolicyRule | None = Field(default=None, description="For returns: the rule that rejected them.")
    window_start: Timestamp
    window_end: Timestamp
    stores: list[StoreCount] = Field(min_length=1, max_length=MAX_ITEMS)
    sample_complaint_ids: list[UUID] = Field(default_factory=list, max_length=20)
    sample_return_ids: list[UUID] = Field(
        default_factory=list, max_length=20, description="For returns: some of the rejected requests."
    )


class CoordinationEvent(RegionEvent):
    problem_id: UUID


class ProblemDetected(CoordinationEvent):
    event_type: ClassVar[str] = "retail.coordination.problem_detected.v1"
    model_config = ConfigDict(json_schema_extra={"examples": [{**_PROBLEM, "evidence": _EVIDENCE, "at": "2026-11-23T00:00:05Z"}]})

    evidence: Evidence
    at: Timestamp


class ProblemAcknowledged(CoordinationEvent):
    event_type: ClassVar[str] = "retail.coordination.problem_acknowledged.v1"
    model_config = ConfigDict(
        json_schema_extra={"examples": [{**_PROBLEM, "by": "rc-uusimaa-1", "at": "2026-11-23T08:10:00Z"}]}
    )

    by: StaffId
    at: Timestamp


class PolicyProposed(CoordinationEvent):
    """A regional coordinator's proposal to senior management, with the problem's evidence."""

    event_type: ClassVar[str] = "retail.coordination.policy_proposed.v1"
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_PROPOSAL,
                    "title": "Extend the return window for small appliances to 30 days",
                    "proposal": "Three stores reject many small-appliance returns at day 15-20; align with the 30-day warranty desk.",
                    "evidence": _EVIDENCE,
                    "by": "rc-uusimaa-1",
                    "at": "2026-11-23T08:30:00Z",
                }
            ]
        }
    )

    proposal_id: UUID
    title: str = Field(min_length=1, max_length=200)
    proposal: str = Field(min_length=1, max_length=5000)
    evidence: Evidence
    by: StaffId
    at: Timestamp


class PolicyDecided(CoordinationEvent):
    event_type: ClassVar[str] = "retail.coordination.policy_decided.v1"
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_PROPOSAL,
                    "decision": "accepted",
                    "rationale": "Matches the warranty desk; roll out chain-wide in January.",
                    "by": "sm-0001",
                    "at": "2026-11-25T12:00:00Z",
                }
            ]
        }
    )

    proposal_id: UUID
    decision: Decision
    rationale: str = Field(default="", max_length=5000)
    by: StaffId
    at: Timestamp


EVENTS = (ProblemDetected, ProblemAcknowledged, PolicyProposed, PolicyDecided)
