"""Request and response bodies of the complaints API."""

from datetime import date, datetime
from typing import Annotated, Self
from uuid import UUID
from zoneinfo import available_timezones

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, model_validator

from services.complaints.domain.lifecycle import Status
from services.shared.events.complaints import Category, Channel, Mood, Outcome, Severity, Technique
from services.shared.events.fields import ProductCategory, RegionId, StaffId, StoreId, Tier
from services.shared.events.returns import NoReceiptReason, PolicyRule, ReturnKind, Tender

Text = Annotated[str, Field(min_length=1, max_length=5000)]


def _known_timezone(name: str) -> str:
    if name not in available_timezones():
        raise ValueError(f"unknown time zone {name!r}; use an IANA name such as Europe/Helsinki")
    return name


Phone = Annotated[str, Field(pattern=r"^\+?[0-9 ()-]{5,20}$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Money(Strict):
    minor_units: int = Field(ge=0, le=100_000_000, description="Amount in cents.")
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "EUR"


class Contact(Strict):
    name: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    email: EmailStr | None = None
    phone: Phone | None = None

    @model_validator(mode="after")
    def _reachable(self) -> Self:
        if not (self.email or self.phone):
            raise ValueError("give the customer's email or phone")
        return self


class NewComplaint(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "store_id": "hel-kamppi",
                    "customer": {"name": "Aino Virtanen", "email": "aino@example.com"},
                    "channel": "in_store",
                    "category": "return_refund_exchange",
                    "severity": "high",
                    "mood": "angry",
                    "description": "The kettle stopped working after two weeks and the refund was refused.",
                    "receipt_ref": "R-2026-118822",
                    "product_category": "small-appliances",
                    "amount": {"minor_units": 4990, "currency": "EUR"},
                }
            ]
        }
    )

    store_id: StoreId
    customer: Contact
    channel: Channel
    category: Category
    severity: Severity
    mood: Mood
    description: Text
    receipt_ref: Annotated[str, Field(max_length=64)] | None = None
    product_category: ProductCategory | None = None
    amount: Money | None = None
    staff_involved: StaffId | None = None


class NoteIn(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [{'text': 'Called the customer back; the replacement ships Friday.'}]})

    text: Text


class AssignIn(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [{'assignee': 'mgr-0007', 'assignee_role': 'store_manager'}]})

    assignee: StaffId
    assignee_role: Tier


class ResolveIn(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [{'technique': 'isolate_core_problem', 'outcome': 'exchange', 'summary': 'Exchanged the kettle for a new one.'}]})

    technique: Technique
    outcome: Outcome
    summary: Text


class ReopenIn(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [{'reason': 'The replacement kettle leaks too.'}]})

    reason: Text | None = None


class CustomerOut(BaseModel):
    customer_ref: str
    name: str | None = None
    email: str | None = None
    phone: str | None = None


class NoteOut(BaseModel):
    id: UUID
    author: StaffId
    text: str | None
    created_at: datetime


class ComplaintOut(BaseModel):
    id: UUID
    store_id: StoreId
    region_id: RegionId
    status: Status
    channel: Channel
    category: Category
    severity: Severity
    mood: Mood
    description: str | None = Field(description="Omitted for roles that may not see personal data.")
    customer: CustomerOut
    receipt_ref: str | None
    product_category: str | None
    amount: Money | None
    staff_involved: str | None
    filed_by: StaffId
    assignee: StaffId | None
    assignee_role: Tier | None
    resolution_technique: Technique | None
    resolution_outcome: Outcome | None
    resolution_summary: str | None
    reopen_count: int
    created_at: datetime
    updated_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    notes: list[NoteOut] = Field(default_factory=list)


class ResolvedOut(ComplaintOut):
    csat_token: str = Field(description="One-time token for the customer's satisfaction survey: hand it over once.")


class ComplaintPage(BaseModel):
    items: list[ComplaintOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


class CsatIn(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [{'score': 4, 'comment': 'Quick and friendly.'}]})

    score: Annotated[int, Field(ge=1, le=5)]
    comment: Annotated[str, Field(max_length=2000)] | None = None


class ReturnIn(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "store_id": "hel-kamppi",
                    "kind": "refund",
                    "tender": "credit",
                    "amount": {"minor_units": 4990, "currency": "EUR"},
                    "product_category": "small-appliances",
                    "purchased_on": "2026-11-09",
                    "receipt_number": "R-2026-118822",
                }
            ]
        }
    )

    store_id: StoreId
    kind: ReturnKind
    tender: Tender
    amount: Money
    product_category: ProductCategory
    purchased_on: date
    receipt_number: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    no_receipt_reason: NoReceiptReason | None = None
    complaint_id: UUID | None = None
    customer: Contact | None = None
    exception_reason: Text | None = Field(
        default=None, description="A store manager grants an exception to the broken rules with this reason."
    )

    @model_validator(mode="after")
    def _paperwork(self) -> Self:
        if not self.receipt_number and not self.no_receipt_reason:
            raise ValueError("give receipt_number, or no_receipt_reason when there is no receipt")
        return self


class ExceptionIn(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [{'reason': 'Loyal customer; the box was unopened.'}]})

    reason: Text


class ReturnOut(BaseModel):
    id: UUID
    store_id: StoreId
    region_id: RegionId
    kind: ReturnKind
    tender: Tender
    amount: Money
    product_category: str
    purchased_on: date
    receipt_number: str | None
    no_receipt_reason: NoReceiptReason | None
    complaint_id: UUID | None
    status: str = Field(description="approved, rejected, pending_approval or exception_granted")
    broken_rules: list[PolicyRule]
    rule_details: dict[str, str] = Field(default_factory=dict, description="Why each rule applies.")
    approver: StaffId | None
    requested_by: StaffId
    created_at: datetime
    decided_at: datetime | None


class ReturnPolicyIO(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [{'return_window_days': 30, 'receipt_required': True, 'approval_amount_minor': 20000, 'non_returnable_categories': ['gift-cards', 'perishables'], 'allowed_tenders': ['cash', 'credit', 'debit', 'gift_card'], 'currency': 'EUR'}]})

    return_window_days: int = Field(ge=0, le=3650)
    receipt_required: bool
    approval_amount_minor: int = Field(ge=0)
    non_returnable_categories: list[ProductCategory] = Field(default_factory=list, max_length=200)
    allowed_tenders: list[Tender] = Field(min_length=1)
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "EUR"


class RegionIn(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [{'name': 'Uusimaa'}]})

    name: Annotated[str, Field(min_length=1, max_length=200)]


class StoreIn(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [{'region_id': 'uusimaa', 'name': 'Kamppi', 'timezone': 'Europe/Helsinki'}]})

    region_id: RegionId
    name: Annotated[str, Field(min_length=1, max_length=200)]
    timezone: Annotated[str, AfterValidator(_known_timezone)] = Field(
        "Europe/Helsinki", description="IANA time zone; a store's dates (such as the return window) are local."
    )


class ErasureIn(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [{'email': 'aino@example.com'}]})

    email: EmailStr | None = None
    phone: Phone | None = None
    customer_ref: Annotated[str, Field(pattern=r"^cref_[0-9a-f]{32}$")] | None = None

    @model_validator(mode="after")
    def _one(self) -> Self:
        if not (self.email or self.phone or self.customer_ref):
            raise ValueError("give the customer's email, phone or customer_ref")
        return self


class ErasureOut(BaseModel):
    customer_ref: str
    complaints: int
    erased_at: datetime


class StoreOut(BaseModel):
    id: StoreId
    region_id: RegionId
    name: str
    timezone: str


class Problem(BaseModel):
    detail: str = Field(description="What is wrong, in words a person can act on.")


class TransitionProblem(Problem):
    current_status: Status


ERRORS: dict[int | str, dict] = {
    401: {"model": Problem, "description": "No valid bearer token"},
    403: {"model": Problem, "description": "The role or the region/store scope does not allow it"},
    404: {"model": Problem, "description": "No such resource"},
    413: {"model": Problem, "description": "The request body is too large"},
}
