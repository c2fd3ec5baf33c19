"""Topic `coordination`: common problems across stores and policy proposals, keyed by region_id."""

from enum import StrEnum
from typing import ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.shared.events.complaints import Category
from services.shared.events.envelope import RegionEvent
from services.shared.events.fields import (
    MAX_COUNT, MAX_ITEMS, Count, ProductCategory, StaffId, StoreId, Timestamp,
)
from services.shared.events.returns import PolicyRule, Tender

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


_CHANGE = {"return_window_days": 30}
LONGEST_RETURN_WINDOW_DAYS = 365
LARGEST_APPROVAL_AMOUNT_MINOR = 100_000_000  # a million in the currency's major units, as a store's own policy allows
LARGEST_RECEIPT_EXEMPTION_MINOR = 100_000  # a thousand in major units: beyond that, drop the receipt requirement instead


class PolicyChange(BaseModel):
    """A concrete change to the return policy of the proposal's region: each rule given is set to
    the value given in the region's policy and in every store's own policy there; a rule not given
    stays as each of them has it. The amount is in the policy's currency."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    return_window_days: int | None = Field(default=None, ge=1, le=LONGEST_RETURN_WINDOW_DAYS)
    receipt_required: bool | None = None
    receipt_exempt_below_minor: int | None = Field(
        default=None, ge=0, le=LARGEST_RECEIPT_EXEMPTION_MINOR,
        description="The amount under which a return needs no receipt even where one is required, in minor units; "
        "0: every return needs one.",
    )
    approval_amount_minor: int | None = Field(
        default=None, ge=0, le=LARGEST_APPROVAL_AMOUNT_MINOR,
        description="The amount over which a store manager approves, in minor units.",
    )
    non_returnable_categories_added: list[ProductCategory] = Field(default_factory=list, max_length=50)
    non_returnable_categories_removed: list[ProductCategory] = Field(default_factory=list, max_length=50)
    allowed_tenders: list[Tender] | None = Field(
        default=None, min_length=1, max_length=len(Tender), description="The tenders refunds may go to, all of them."
    )

    @model_validator(mode="after")
    def _changes_something(self) -> "PolicyChange":
        if not self.model_dump(exclude_defaults=True):
            raise ValueError("a change names at least one rule to change")
        if both := set(self.non_returnable_categories_added) & set(self.non_returnable_categories_removed):
            raise ValueError(f"categories both added and removed: {', '.join(sorted(both))}")
        if self.allowed_tenders is not None and len(set(self.allowed_tenders)) != len(self.allowed_tenders):
            raise ValueError("allowed_tenders names a tender twice")
        return self


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
                    "change": _CHANGE,
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
    change: PolicyChange | None = Field(
        default=None, description="The change to the region's return policy; none for advice without one."
    )
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
                    "change": _CHANGE,
                    "proposed_by": "rc-uusimaa-1",
                    "by": "sm-0001",
                    "at": "2026-11-25T12:00:00Z",
                }
            ]
        }
    )

    proposal_id: UUID
    decision: Decision
    rationale: str = Field(default="", max_length=5000)
    change: PolicyChange | None = Field(
        default=None, description="The proposal's change, which an acceptance makes the region's policy."
    )
    proposed_by: StaffId | None = Field(default=None, description="The coordinator who proposed it.")
    by: StaffId
    at: Timestamp


EVENTS = (ProblemDetected, ProblemAcknowledged, PolicyProposed, PolicyDecided)
