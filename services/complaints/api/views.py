"""Response bodies, and turning stored rows into them, with personal data only for the roles that
need it."""

from dataclasses import asdict
from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel, Field

from services.complaints.api.schemas import Money, ReturnPolicyIO
from services.complaints.domain.access import sees_case_text
from services.complaints.domain.lifecycle import Status
from services.complaints.service.commands import Contact
from services.complaints.service.context import Context
from services.complaints.service.policies import policy_of, version_of
from services.complaints.service.returns import policy_version_of
from services.complaints.store.models import Complaint, ContactRead, ReturnPolicyVersionRow, ReturnRequestRow, Store
from services.shared.events.complaints import Category, Channel, Mood, Outcome, ResolutionSteps, Severity, Technique
from services.shared.events.coordination import PolicyChange
from services.shared.events.fields import RegionId, StaffId, StoreId, Tier
from services.shared.events.returns import (
    DeclineReason, NoReceiptReason, PolicyRule, PolicyScope, PolicyVersion, ReturnKind, Tender,
)


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


class HistoryOut(BaseModel):
    event: str = Field(description='What happened: "complaint.acknowledged", "complaint.assigned", "complaint.resolved", '
                       '"complaint.reopened", "complaint.closed", or a tier move of the escalation: "escalation.routed", '
                       '"escalation.raised", "escalation.reopened".')
    at: datetime
    by: StaffId | None = Field(description="Who did it; null for the escalation's moves.")
    tier: Tier | None = Field(description="The tier it moved to.")
    assignee: StaffId | None
    reason: str | None = Field(description="Why the escalation moved it.")


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
    resolution_steps: ResolutionSteps | None = Field(
        description="The steps of the technique the last resolution took (true) or not (false); null when it recorded none."
    )
    reopen_count: int
    created_at: datetime
    updated_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    notes: list[NoteOut] = Field(default_factory=list)
    history: list[HistoryOut] = Field(
        default_factory=list, description="Its events and tier moves, oldest first (not in lists); notes are in `notes`."
    )


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
    status: str = Field(description="approved, rejected, pending_approval, exception_granted or declined")
    broken_rules: list[PolicyRule]
    rule_details: dict[str, str] = Field(default_factory=dict, description="Why each rule applies.")
    policy_version: PolicyVersion | None = Field(
        None, description="The return policy version it was checked against; null for one checked before versions "
        "were kept."
    )
    approver: StaffId | None = Field(
        description="The store manager who approved it, granted the exception or declined it; null when the policy alone "
        "decided."
    )
    decline_reason: str | None = Field(
        None, description="Why the store manager declined it, in their words; omitted for roles that do not work returns."
    )
    decline_category: DeclineReason | None = None
    requested_by: StaffId
    created_at: datetime
    decided_at: datetime | None


class ReturnPage(BaseModel):
    items: list[ReturnOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


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
        resolution_steps=complaint.resolution_steps,
        reopen_count=complaint.reopen_count, created_at=complaint.created_at, updated_at=complaint.updated_at,
        acknowledged_at=complaint.acknowledged_at, resolved_at=complaint.resolved_at, closed_at=complaint.closed_at,
        notes=[
            NoteOut(id=note.id, author=note.author, text=note.text if personal else None, created_at=note.created_at)
            for note in complaint.notes
        ]
        if with_notes else [],
        history=[
            HistoryOut(event=step.event, at=step.at, by=step.by, tier=step.tier, assignee=step.assignee, reason=step.reason)
            for step in complaint.history
        ]
        if with_notes else [],
    )


def return_out(request: ReturnRequestRow, ctx: Context, details: dict[str, str] | None = None) -> ReturnOut:
    """The request as the caller may see it: the decline's reason only for the roles that work returns."""
    return ReturnOut(
        id=request.id, store_id=request.store_id, region_id=request.region_id, kind=request.kind,
        tender=request.tender, amount=Money(minor_units=request.amount_minor, currency=request.currency),
        product_category=request.product_category, purchased_on=request.purchased_on,
        receipt_number=request.receipt_number, no_receipt_reason=request.no_receipt_reason,
        complaint_id=request.complaint_id, status=request.status, broken_rules=request.broken_rules,
        policy_version=policy_version_of(request),
        rule_details=details or {}, approver=request.approver, requested_by=request.requested_by,
        decline_reason=request.decline_reason if sees_case_text(ctx.who) else None,
        decline_category=request.decline_category,
        created_at=request.created_at, decided_at=request.decided_at,
    )


def contact_read_out(read: ContactRead) -> ContactReadOut:
    return ContactReadOut(
        complaint_id=read.complaint_id, staff_id=read.staff_id, role=read.role, endpoint=read.endpoint, read_at=read.read_at,
    )


def store_out(store: Store) -> StoreOut:
    return StoreOut(id=store.id, region_id=store.region_id, name=store.name, timezone=store.timezone)


class ProposalProvenance(BaseModel):
    """The accepted policy proposal a version came from."""

    proposal_id: UUID
    problem_id: UUID | None
    proposed_by: StaffId | None = Field(description="The regional coordinator who proposed it.")
    decided_by: StaffId | None = Field(description="The senior manager who accepted it.")
    decided_at: datetime | None
    rationale: str | None
    change: PolicyChange = Field(description="The change it made, as proposed.")


class PolicyVersionOut(BaseModel):
    version: PolicyVersion
    rules: ReturnPolicyIO
    effective_from: datetime = Field(description="When it became the policy of its scope.")
    source: str = Field(description="admin (set through this API) or proposal (an accepted policy proposal)")
    changed_by: StaffId | None = Field(description="The admin who set it, or the senior manager who accepted the proposal.")
    proposal: ProposalProvenance | None = Field(description="For a version from a proposal.")


class PolicyHistoryOut(BaseModel):
    scope: PolicyScope
    scope_id: str | None = Field(description="The region or store; null for the chain.")
    in_force: PolicyVersion = Field(
        description="The version the scope's returns are checked against now: for a store or region without a policy of "
        "its own, its region's or the chain's (version 0 of the chain is the built-in default)."
    )
    versions: list[PolicyVersionOut] = Field(description="The scope's own versions, newest first.")


def policy_version_out(row: ReturnPolicyVersionRow) -> PolicyVersionOut:
    proposal = None
    if row.proposal_id is not None:
        proposal = ProposalProvenance(
            proposal_id=row.proposal_id, problem_id=row.problem_id, proposed_by=row.proposed_by,
            decided_by=row.changed_by, decided_at=row.decided_at, rationale=row.rationale,
            change=PolicyChange.model_validate(row.change),
        )
    return PolicyVersionOut(
        version=version_of(row), rules=ReturnPolicyIO.of(policy_of(row)), effective_from=row.created_at,
        source=row.source, changed_by=row.changed_by, proposal=proposal,
    )
