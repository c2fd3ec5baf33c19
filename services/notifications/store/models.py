"""Tables of the notifications service. A delivery holds ids only (the event's, the complaint's, the
recipient's staff id): contact channels are read from the staff directory at each attempt and never
stored, logged or published."""

import uuid
from datetime import datetime, time

from sqlalchemy import Index, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.shared.db import UtcDateTime
from services.shared.delivery.engine import DeliveryColumns
from services.shared.idempotency import IdempotencyKeyColumns
from services.shared.leases import LeaseColumns
from services.shared.outbox import OutboxColumns


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UtcDateTime}


class Delivery(DeliveryColumns, Base):
    """One notification to one person, recorded when its event is consumed (its id derived from the
    event's and the addressee, so a replayed event finds its deliveries and adds nothing) and sent
    afterwards by whichever sender claims it (`services.shared.delivery.engine`). One addressed to a
    group is sent on as one delivery per member; one addressed to a tier finds who is on duty when sent."""

    __tablename__ = "deliveries"
    __table_args__ = (Index("ix_deliveries_due", "status", "due_at"), Index("ix_deliveries_follow_up", "follow_up_at"))

    event_id: Mapped[uuid.UUID] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(30))
    step: Mapped[int] = mapped_column(default=0)  # 0; a page's follow-ups: 1 sent again, 2… to the next tier up
    follows: Mapped[uuid.UUID | None]  # the delivery this one follows up or was sent on from (a group's)
    complaint_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    store_id: Mapped[str | None] = mapped_column(String(63))
    region_id: Mapped[str] = mapped_column(String(63))
    tier: Mapped[str | None] = mapped_column(String(30))
    group_role: Mapped[str | None] = mapped_column(String(30))  # everyone of this role (in the region) is told
    staff_id: Mapped[str | None] = mapped_column(String(63), index=True)  # None until someone on duty is found
    recipient_role: Mapped[str | None] = mapped_column(String(30))
    about: Mapped[str] = mapped_column(String(500))
    event_at: Mapped[datetime]  # when it happened, as its event says
    acknowledged_at: Mapped[datetime | None]
    follow_up_at: Mapped[datetime | None]  # a sent page: when to check that someone acknowledged it


class Preference(Base):
    """How a person wants to be reached: their channels in order and their quiet hours (local time),
    in which nothing but a page reaches them. Absent, e-mail first, then webhook, then SMS, any time."""

    __tablename__ = "preferences"

    staff_id: Mapped[str] = mapped_column(String(63), primary_key=True)
    channels: Mapped[str] = mapped_column(String(50))  # comma-separated `Channel`s
    quiet_from: Mapped[time | None]
    quiet_until: Mapped[time | None]
    time_zone: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime]


class IdempotencyKey(IdempotencyKeyColumns, Base):
    __tablename__ = "idempotency_keys"


class OutboxEvent(OutboxColumns, Base):
    """Dead letters of undeliverable notifications, published to escalations.dlq by the relay."""

    __tablename__ = "outbox"


class Lease(LeaseColumns, Base):
    """Who runs a singleton job until when: the outbox relay and the retention pass."""

    __tablename__ = "leases"
