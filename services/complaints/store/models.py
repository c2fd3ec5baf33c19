"""Tables of the complaints service. Personal data lives only in each complaint's contact (as given
when it was filed) and in free text (descriptions, notes, CSAT comments), all of which erasure
clears, and in the responses stored for idempotent POSTs, which erasure does not reach: retention
deletes them (`idempotency_keep_hours`). A customer is no more than their keyed pseudonym, which
links their complaints and returns."""

import uuid
from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from services.shared.db import UtcDateTime
from services.shared.delivery.engine import DeliveryColumns
from services.shared.idempotency import IdempotencyKeyColumns
from services.shared.intake import ProcessedEventColumns
from services.shared.leases import LeaseColumns
from services.shared.outbox import OutboxColumns


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UtcDateTime}


class Region(Base):
    __tablename__ = "regions"

    id: Mapped[str] = mapped_column(String(63), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))


class Store(Base):
    __tablename__ = "stores"

    id: Mapped[str] = mapped_column(String(63), primary_key=True)
    region_id: Mapped[str] = mapped_column(ForeignKey("regions.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Helsinki")


CHAIN_SCOPE = "*"  # the chain's scope_id: not a slug, so it cannot collide with a region's or a store's


class ReturnPolicyVersionRow(Base):
    """One version of a return policy, never changed once written: the chain default (scope "chain",
    scope_id "*"), a region's or a store's own. The newest version of a scope is its policy; each says
    where it came from: an admin's change (`changed_by`) or an accepted policy proposal (its id, who
    proposed and who decided it, when, and the change it made)."""

    __tablename__ = "return_policy_versions"

    scope: Mapped[str] = mapped_column(String(10), primary_key=True)
    scope_id: Mapped[str] = mapped_column(String(63), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    return_window_days: Mapped[int]
    receipt_required: Mapped[bool]
    receipt_exempt_below_minor: Mapped[int] = mapped_column(BigInteger)
    approval_amount_minor: Mapped[int] = mapped_column(BigInteger)
    non_returnable_categories: Mapped[list[str]] = mapped_column(JSON)
    allowed_tenders: Mapped[list[str]] = mapped_column(JSON)
    currency: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[datetime]  # when it became the scope's policy
    source: Mapped[str] = mapped_column(String(20))  # admin, proposal
    changed_by: Mapped[str | None] = mapped_column(String(63))  # the admin, or the senior manager who accepted
    proposal_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    problem_id: Mapped[uuid.UUID | None]
    proposed_by: Mapped[str | None] = mapped_column(String(63))
    decided_at: Mapped[datetime | None]
    rationale: Mapped[str | None] = mapped_column(Text)
    change: Mapped[dict | None] = mapped_column(JSON)  # the proposal's change, as PolicyChange


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    customer_ref: Mapped[str] = mapped_column(String(40), unique=True)
    erased_at: Mapped[datetime | None]  # the last erasure; contact given with a later complaint is that complaint's


class Complaint(Base):
    __tablename__ = "complaints"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id"), index=True)
    region_id: Mapped[str] = mapped_column(ForeignKey("regions.id"), index=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"), index=True)
    contact_name: Mapped[str | None] = mapped_column(String(200))
    contact_email: Mapped[str | None] = mapped_column(String(320))
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(20))
    category: Mapped[str] = mapped_column(String(40), index=True)
    severity: Mapped[str] = mapped_column(String(20))
    mood: Mapped[str] = mapped_column(String(20))
    description: Mapped[str | None] = mapped_column(Text)
    receipt_ref: Mapped[str | None] = mapped_column(String(64))
    product_category: Mapped[str | None] = mapped_column(String(63))
    amount_minor: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str | None] = mapped_column(String(3))
    staff_involved: Mapped[str | None] = mapped_column(String(63))
    status: Mapped[str] = mapped_column(String(20), index=True)
    filed_by: Mapped[str] = mapped_column(String(63))
    assignee: Mapped[str | None] = mapped_column(String(63), index=True)
    assignee_role: Mapped[str | None] = mapped_column(String(30), index=True)  # the tier it is at
    # When it came to its assignee: routing or a raise older than a manual assignment does not undo it.
    assigned_at: Mapped[datetime | None]
    acknowledge_by: Mapped[datetime | None]  # the escalation's deadlines; None once acknowledged
    resolve_by: Mapped[datetime | None]
    reassigned: Mapped[bool] = mapped_column(default=False)
    reopen_count: Mapped[int] = mapped_column(default=0)
    resolution_technique: Mapped[str | None] = mapped_column(String(30))
    resolution_outcome: Mapped[str | None] = mapped_column(String(30))
    resolution_summary: Mapped[str | None] = mapped_column(Text)
    # The last resolution's steps of the technique, {"defuse": bool, ...}; None when it recorded none.
    resolution_steps: Mapped[dict[str, bool] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(index=True)
    updated_at: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]

    customer: Mapped["Customer"] = relationship(lazy="raise")
    notes: Mapped[list["Note"]] = relationship(lazy="raise", order_by="Note.created_at")
    history: Mapped[list["HistoryEntry"]] = relationship(
        lazy="raise", order_by="(HistoryEntry.at, HistoryEntry.id)"
    )


class Note(Base):
    __tablename__ = "complaint_notes"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    complaint_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("complaints.id"), index=True)
    author: Mapped[str] = mapped_column(String(63))
    text: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]


class HistoryEntry(Base):
    """One step in a complaint's timeline: an event of its lifecycle, or a tier move the escalation
    service made ("escalation.routed", "escalation.raised", "escalation.reopened"). Notes have their own table."""

    __tablename__ = "complaint_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    complaint_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("complaints.id"), index=True)
    event: Mapped[str] = mapped_column(String(40))  # the event type without "retail." and ".v1"
    at: Mapped[datetime]
    by: Mapped[str | None] = mapped_column(String(63))  # None when the escalation service moved it
    tier: Mapped[str | None] = mapped_column(String(30))
    assignee: Mapped[str | None] = mapped_column(String(63))
    reason: Mapped[str | None] = mapped_column(String(500))  # the escalation rule's, never free text


class CsatSurvey(Base):
    """A one-time survey; only the token's hash is kept, so a database leak cannot answer it (but for
    the survey link still to be sent: see `SurveyDelivery`)."""

    __tablename__ = "csat_surveys"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    complaint_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("complaints.id"), index=True)
    issued_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]
    score: Mapped[int | None]
    comment: Mapped[str | None] = mapped_column(Text)


class SurveyDelivery(DeliveryColumns, Base):
    """Sending a resolved complaint's CSAT survey link to its customer (see `service.surveys`). It holds
    no address: the contact is read from the complaint at each attempt. It holds the survey's token, the
    one thing the link needs that is not stored elsewhere, only while it may still be sent: the token is
    cleared once the delivery has ended (sent, cancelled or given up) and by the customer's erasure."""

    __tablename__ = "survey_deliveries"
    __table_args__ = (Index("ix_survey_deliveries_due", "status", "due_at"),)

    complaint_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("complaints.id"), index=True)
    survey_token: Mapped[str | None] = mapped_column(String(64), index=True)


class ReturnRequestRow(Base):
    __tablename__ = "return_requests"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id"), index=True)
    region_id: Mapped[str] = mapped_column(ForeignKey("regions.id"))
    complaint_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("complaints.id"))
    customer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("customers.id"))
    kind: Mapped[str] = mapped_column(String(20))
    tender: Mapped[str] = mapped_column(String(20))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    receipt_number: Mapped[str | None] = mapped_column(String(64))
    no_receipt_reason: Mapped[str | None] = mapped_column(String(30))
    product_category: Mapped[str] = mapped_column(String(63))
    purchased_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(30), index=True)
    broken_rules: Mapped[list[str]] = mapped_column(JSON)
    approver: Mapped[str | None] = mapped_column(String(63))
    exception_reason: Mapped[str | None] = mapped_column(Text)
    decline_reason: Mapped[str | None] = mapped_column(Text)  # the store manager's words
    decline_category: Mapped[str | None] = mapped_column(String(30))
    # The policy version it was checked against (see ReturnPolicyVersionRow); None before versions were kept.
    policy_scope: Mapped[str | None] = mapped_column(String(10))
    policy_scope_id: Mapped[str | None] = mapped_column(String(63))
    policy_version: Mapped[int | None]
    requested_by: Mapped[str] = mapped_column(String(63))
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]


class ContactRead(Base):
    """A staff member was shown a complaint's customer contact: who, in which role, when, and through
    which endpoint. It holds no contact data itself; retention deletes it after `contact_reads_keep_days`."""

    __tablename__ = "contact_reads"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    complaint_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("complaints.id"), index=True)
    staff_id: Mapped[str] = mapped_column(String(63), index=True)
    role: Mapped[str] = mapped_column(String(30))
    endpoint: Mapped[str] = mapped_column(String(100))
    read_at: Mapped[datetime] = mapped_column(index=True)


class IdempotencyKey(IdempotencyKeyColumns, Base):
    __tablename__ = "idempotency_keys"


class OutboxEvent(OutboxColumns, Base):
    __tablename__ = "outbox"


class ProcessedEvent(ProcessedEventColumns, Base):
    """An escalation or coordination event the complaints worker has applied (see `services.shared.intake`)."""

    __tablename__ = "processed_events"


class Lease(LeaseColumns, Base):
    """Who runs a singleton job until when: the outbox relay, and the retention pass (whose expiry
    is when the next pass is due)."""

    __tablename__ = "leases"
