"""Response bodies, and turning stored rows into them, with personal data only for the roles that
need it."""

from dataclasses import asdict
from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel, Field

from services.complaints.api.schemas import Money
from services.complaints.domain.access import sees_case_text
from services.complaints.domain.lifecycle import Status
from services.complaints.service.commands import Contact
from services.complaints.service.context import Context
from services.complaints.store.models import Complaint, ContactRead, ReturnRequestRow, Store
from services.shared.events.complaints import Category, Channel, Mood, Outcome, Severity, Technique
from services.shared.events.fields import RegionId, StaffId, StoreId, Tier
from services.shared.events.returns import NoReceiptReason, PolicyRule, ReturnKind, Tender


class CustomerOut(BaseModel):
    """The customer's pseudonym, and the contact given with this complaint for those who need it."""

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
    description: str | None = Field(description="Omitted for roles that do not work complaints.")
    customer: CustomerOut
    receipt_ref: str | None
    product_category: str | None
    amount: Money | None
    staff_involved: str | None
    filed_by: StaffId
    assignee: StaffId | None = Field(description="Whom it is routed, raised or assigned to; null while only its tier is known.")
    assignee_role: Tier | None = Field(description="The tier it is at.")
    acknowledge_by: datetime | None = Field(description="The escalation's deadline to acknowledge it; null once acknowledged.")
    resolve_by: datetime | None = Field(
        description="The escalation's deadline to resolve it; null until routed, and after a reopening until the escalation "
        "restarts its timers."
    )
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


class ContactReadOut(BaseModel):
    complaint_id: UUID
    staff_id: StaffId
    role: str
    endpoint: str = Field(description='What showed the contact, such as "GET /v1/complaints/{complaint_id}".')
    read_at: datetime


class ContactReadPage(BaseModel):
    items: list[ContactReadOut]
    next_cursor: int | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


class ErasureOut(BaseModel):
    customer_ref: str
    complaints: int
    erased_at: datetime


class StoreOut(BaseModel):
    id: StoreId
    region_id: RegionId
    name: str
    timezone: str



def complaint_out(complaint: Complaint, ctx: Context, *, with_notes: bool, contact: Contact | None) -> ComplaintOut:
    """The complaint as the caller may see it; `contact` is what the caller gave or was disclosed
    (`service.contact_reads.disclose`), never read from the row here."""
    personal = sees_case_text(ctx.who)
    return ComplaintOut(
        id=complaint.id, store_id=complaint.store_id, region_id=complaint.region_id, status=complaint.status,
        channel=complaint.channel, category=complaint.category, severity=complaint.severity, mood=complaint.mood,
        description=complaint.description if personal else None,
        customer=CustomerOut(customer_ref=complaint.customer.customer_ref, **(asdict(contact) if contact else {})),
        receipt_ref=complaint.receipt_ref, product_category=complaint.product_category,
        amount=Money(minor_units=complaint.amount_minor, currency=complaint.currency)
        if complaint.amount_minor is not None else None,
        staff_involved=complaint.staff_involved, filed_by=complaint.filed_by, assignee=complaint.assignee,
        assignee_role=complaint.assignee_role, acknowledge_by=complaint.acknowledge_by, resolve_by=complaint.resolve_by,
        resolution_technique=complaint.resolution_technique,
        resolution_outcome=complaint.resolution_outcome,
        resolution_summary=complaint.resolution_summary if personal else None,
        reopen_count=complaint.reopen_count, created_at=complaint.created_at, updated_at=complaint.updated_at,
        acknowledged_at=complaint.acknowledged_at, resolved_at=complaint.resolved_at, closed_at=complaint.closed_at,
        notes=[
            NoteOut(id=note.id, author=note.author, text=note.text if personal else None, created_at=note.created_at)
            for note in complaint.notes
        ]
        if with_notes else [],
    )


def return_out(request: ReturnRequestRow, details: dict[str, str] | None = None) -> ReturnOut:
    return ReturnOut(
        id=request.id, store_id=request.store_id, region_id=request.region_id, kind=request.kind,
        tender=request.tender, amount=Money(minor_units=request.amount_minor, currency=request.currency),
        product_category=request.product_category, purchased_on=request.purchased_on,
        receipt_number=request.receipt_number, no_receipt_reason=request.no_receipt_reason,
        complaint_id=request.complaint_id, status=request.status, broken_rules=request.broken_rules,
        rule_details=details or {}, approver=request.approver, requested_by=request.requested_by,
        created_at=request.created_at, decided_at=request.decided_at,
    )


def contact_read_out(read: ContactRead) -> ContactReadOut:
    return ContactReadOut(
        complaint_id=read.complaint_id, staff_id=read.staff_id, role=read.role, endpoint=read.endpoint, read_at=read.read_at,
    )


def store_out(store: Store) -> StoreOut:
    return StoreOut(id=store.id, region_id=store.region_id, name=store.name, timezone=store.timezone)
