"""Topic `complaints`: a complaint's lifecycle, CSAT answers and erasures, keyed by store_id."""

from enum import StrEnum
from typing import Annotated, ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from services.shared.events.envelope import StoreEvent
from services.shared.events.fields import Count, CustomerRef, Money, ProductCategory, StaffId, Tier, Timestamp

_STORE = {"store_id": "hel-kamppi", "region_id": "uusimaa"}
_COMPLAINT = {**_STORE, "complaint_id": "0c6f8e1e-6a0b-4b43-9d0e-2f1f4f6f1a01"}


class Channel(StrEnum):
    in_store = "in_store"
    phone = "phone"
    call_centre = "call_centre"
    web = "web"
    email = "email"


class Category(StrEnum):
    service = "service"
    product_quality = "product_quality"
    return_refund_exchange = "return_refund_exchange"
    billing_transaction = "billing_transaction"
    promotion_pricing = "promotion_pricing"
    staff_conduct = "staff_conduct"
    wait_time = "wait_time"
    other = "other"


class Severity(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"


class Mood(StrEnum):
    calm = "calm"
    upset = "upset"
    angry = "angry"
    hostile = "hostile"


class Technique(StrEnum):
    defuse = "defuse"
    isolate_core_problem = "isolate_core_problem"
    address_concerns = "address_concerns"


class Outcome(StrEnum):
    refund = "refund"
    exchange = "exchange"
    store_credit = "store_credit"
    repair = "repair"
    apology = "apology"
    policy_exception = "policy_exception"
    no_action = "no_action"


class ResolutionSteps(BaseModel):
    """Which steps of the technique (defuse the situation, isolate the core problem, address the
    customer's concerns) the resolver took: one yes or no per step, named as the `Technique` it is.
    Yes/no rather than a list of the steps taken, because the technique prescribes their order, so an
    order adds nothing, and because a step left out is then a recorded no, never an omission."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    defuse: bool
    isolate_core_problem: bool
    address_concerns: bool

    def taken(self) -> list[Technique]:
        return [step for step in Technique if getattr(self, step)]


class ComplaintEvent(StoreEvent):
    complaint_id: UUID


class ComplaintFiled(ComplaintEvent):
    """A complaint was filed. The description and contact data stay in the complaints service."""

    event_type: ClassVar[str] = "retail.complaint.filed.v1"
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_COMPLAINT,
                    "customer_ref": "cref_3f2a9c0d1b7e4e55a1c2d3e4f5a6b7c8",
                    "channel": "in_store",
                    "category": "return_refund_exchange",
                    "severity": "high",
                    "mood": "angry",
                    "filed_by": "emp-1042",
                    "filed_at": "2026-11-23T09:15:00Z",
                    "has_receipt": True,
                    "product_category": "small-appliances",
                    "amount": {"minor_units": 12990, "currency": "EUR"},
                    "staff_involved": None,
                    "prior_complaints_30d": 1,
                }
            ]
        }
    )

    customer_ref: CustomerRef
    channel: Channel
    category: Category
    severity: Severity
    mood: Mood
    filed_by: StaffId
    filed_at: Timestamp
    has_receipt: bool = False
    product_category: ProductCategory | None = None
    amount: Money | None = None
    staff_involved: StaffId | None = Field(
        default=None, description="The staff member the complaint is about (staff_conduct); never its assignee."
    )
    prior_complaints_30d: Count = Field(
        default=0, description="Complaints by the same customer, at any store, in the 30 days before this one."
    )


class ComplaintAcknowledged(ComplaintEvent):
    event_type: ClassVar[str] = "retail.complaint.acknowledged.v1"
    model_config = ConfigDict(
        json_schema_extra={"examples": [{**_COMPLAINT, "by": "emp-1042", "at": "2026-11-23T09:17:00Z"}]}
    )

    by: StaffId
    at: Timestamp


class ComplaintAssigned(ComplaintEvent):
    event_type: ClassVar[str] = "retail.complaint.assigned.v1"
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_COMPLAINT,
                    "assignee": "mgr-0007",
                    "assignee_role": "store_manager",
                    "by": "emp-1042",
                    "at": "2026-11-23T09:18:00Z",
                }
            ]
        }
    )

    assignee: StaffId
    assignee_role: Tier
    by: StaffId
    at: Timestamp


class ComplaintNoteAdded(ComplaintEvent):
    """An interaction note was recorded; its text may hold personal data and stays in the service."""

    event_type: ClassVar[str] = "retail.complaint.note_added.v1"
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_COMPLAINT,
                    "note_id": "9a1d2c3b-4e5f-4a6b-8c7d-0e1f2a3b4c5d",
                    "by": "emp-1042",
                    "at": "2026-11-23T09:20:00Z",
                }
            ]
        }
    )

    note_id: UUID
    by: StaffId
    at: Timestamp


class ComplaintResolved(ComplaintEvent):
    event_type: ClassVar[str] = "retail.complaint.resolved.v1"
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_COMPLAINT,
                    "technique": "isolate_core_problem",
                    "outcome": "exchange",
                    "by": "mgr-0007",
                    "at": "2026-11-23T09:40:00Z",
                    "first_contact": True,
                    "by_role": "store_manager",
                    "steps": {"defuse": True, "isolate_core_problem": True, "address_concerns": False},
                }
            ]
        }
    )

    technique: Technique
    outcome: Outcome
    by: StaffId
    at: Timestamp
    first_contact: bool = Field(description="Resolved in the first interaction, without a hand-over.")
    by_role: Tier = Field(description="The role of the staff member who resolved it.")
    steps: ResolutionSteps | None = Field(
        default=None, description="The steps of the technique the resolver recorded; null when not recorded."
    )


class ComplaintReopened(ComplaintEvent):
    event_type: ClassVar[str] = "retail.complaint.reopened.v1"
    model_config = ConfigDict(
        json_schema_extra={"examples": [{**_COMPLAINT, "by": "emp-2001", "at": "2026-11-24T10:00:00Z"}]}
    )

    by: StaffId
    at: Timestamp


class ComplaintClosed(ComplaintEvent):
    event_type: ClassVar[str] = "retail.complaint.closed.v1"
    model_config = ConfigDict(
        json_schema_extra={"examples": [{**_COMPLAINT, "by": "mgr-0007", "at": "2026-11-30T16:00:00Z"}]}
    )

    by: StaffId
    at: Timestamp


class CsatSubmitted(ComplaintEvent):
    """A customer answered the satisfaction survey; any comment text stays in the service."""

    event_type: ClassVar[str] = "retail.csat.submitted.v1"
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{**_COMPLAINT, "score": 4, "has_comment": True, "at": "2026-11-23T18:05:00Z"}]
        }
    )

    score: Annotated[int, Field(ge=1, le=5)]
    has_comment: bool = False
    at: Timestamp


class CustomerErased(StoreEvent):
    """A customer's personal data was erased; one event per store that held their complaints."""

    event_type: ClassVar[str] = "retail.customer.erased.v1"
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{**_STORE, "customer_ref": "cref_3f2a9c0d1b7e4e55a1c2d3e4f5a6b7c8", "at": "2026-12-01T08:00:00Z"}]
        }
    )

    customer_ref: CustomerRef
    at: Timestamp


EVENTS = (
    ComplaintFiled,
    ComplaintAcknowledged,
    ComplaintAssigned,
    ComplaintNoteAdded,
    ComplaintResolved,
    ComplaintReopened,
    ComplaintClosed,
    CsatSubmitted,
    CustomerErased,
)
