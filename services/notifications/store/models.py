"""Tables of the notifications service. A delivery holds ids only (the page's, the complaint's, the
recipient's staff id): contact channels are read from the staff directory at each attempt and never
stored, logged or published."""

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.shared.db import UtcDateTime
from services.shared.idempotency import IdempotencyKeyColumns
from services.shared.leases import LeaseColumns
from services.shared.outbox import OutboxColumns


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UtcDateTime}


class Status(StrEnum):
    pending = "pending"  # to send, at `due_at`
    sent = "sent"  # the SMTP relay accepted it
    undeliverable = "undeliverable"  # given up after the last attempt; on escalations.dlq


class Delivery(Base):
    """One notification (a page, a tier raise) to one person over one channel, recorded when its event
    is consumed (one per event id: a replayed event finds its delivery and adds nothing) and sent
    afterwards by whichever sender claims it."""

    __tablename__ = "deliveries"
    __table_args__ = (Index("ix_deliveries_due", "status", "due_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    event_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(20))
    complaint_id: Mapped[uuid.UUID]
    store_id: Mapped[str] = mapped_column(String(63))
    region_id: Mapped[str] = mapped_column(String(63))
    tier: Mapped[str] = mapped_column(String(30))
    staff_id: Mapped[str | None] = mapped_column(String(63))  # None until someone on duty is found
    recipient_role: Mapped[str | None] = mapped_column(String(30))
    reason: Mapped[str] = mapped_column(String(500))
    event_at: Mapped[datetime]  # when the escalation happened, as its event says
    status: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int]
    due_at: Mapped[datetime]
    claimed_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(200))  # the kind of failure, never its text
    created_at: Mapped[datetime] = mapped_column(index=True)
    sent_at: Mapped[datetime | None]
    acknowledged_at: Mapped[datetime | None]


class IdempotencyKey(IdempotencyKeyColumns, Base):
    __tablename__ = "idempotency_keys"


class OutboxEvent(OutboxColumns, Base):
    """Dead letters of undeliverable notifications, published to escalations.dlq by the relay."""

    __tablename__ = "outbox"


class Lease(LeaseColumns, Base):
    """Who runs a singleton job until when: the outbox relay and the retention pass."""

    __tablename__ = "leases"
