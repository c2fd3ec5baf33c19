"""Tables of the scheduling service. Personal data lives only in a staff member's work contact
channels (e-mail, phone, webhook), which erasure clears and which never leave the service on Kafka
nor reach the logs or the stored idempotent responses."""

import uuid
from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.shared.db import UtcDateTime
from services.shared.idempotency import IdempotencyKeyColumns
from services.shared.intake import ProcessedEventColumns
from services.shared.leases import LeaseColumns
from services.shared.outbox import OutboxColumns


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UtcDateTime}


class Region(Base):
    """Also the lock that orders a region's shift changes, and so its sites' roster events."""

    __tablename__ = "regions"

    id: Mapped[str] = mapped_column(String(63), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))


class Site(Base):
    """A store, a call centre or a service desk; opening hours are {weekday: [[opens, closes]]} in
    local time, exceptions {date: [[opens, closes]]} ([] closed)."""

    __tablename__ = "sites"

    id: Mapped[str] = mapped_column(String(63), primary_key=True)
    region_id: Mapped[str] = mapped_column(ForeignKey("regions.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    timezone: Mapped[str] = mapped_column(String(64))
    opening_hours: Mapped[dict] = mapped_column(JSON)
    exceptions: Mapped[dict] = mapped_column(JSON)
    roster_cut: Mapped[bool] = mapped_column(default=False)  # its last roster left shifts out (see the roster refresh)


class StaffMember(Base):
    __tablename__ = "staff"

    id: Mapped[str] = mapped_column(String(63), primary_key=True)
    role: Mapped[str] = mapped_column(String(30))
    home_site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), index=True)
    region_id: Mapped[str] = mapped_column(ForeignKey("regions.id"), index=True)
    skills: Mapped[list[str]] = mapped_column(JSON)
    hire_date: Mapped[date] = mapped_column(Date)
    contracted_hours: Mapped[int]
    max_hours: Mapped[int]
    availability: Mapped[dict] = mapped_column(JSON)  # {weekday: [[from, to]]}; empty: any time
    leave: Mapped[list[dict]] = mapped_column(JSON)  # [{"first": date, "last": date}]
    work_email: Mapped[str | None] = mapped_column(String(320))
    work_phone: Mapped[str | None] = mapped_column(String(40))
    webhook_url: Mapped[str | None] = mapped_column(String(2000))
    contact_erased_at: Mapped[datetime | None]


class ShiftRow(Base):
    __tablename__ = "shifts"
    __table_args__ = (
        Index("ix_shifts_staff_time", "staff_id", "starts_at"),
        Index("ix_shifts_site_time", "site_id", "starts_at"),
        Index("ix_shifts_region_role", "region_id", "role", "starts_at"),
        Index("ix_shifts_site_week", "site_id", "week_start"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"))
    region_id: Mapped[str] = mapped_column(ForeignKey("regions.id"))
    staff_id: Mapped[str] = mapped_column(ForeignKey("staff.id"))
    role: Mapped[str] = mapped_column(String(30))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    week_start: Mapped[date] = mapped_column(Date)  # the Monday of the site's local week it starts in
    status: Mapped[str] = mapped_column(String(20))
    created_by: Mapped[str] = mapped_column(String(63))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class PublishedWeek(Base):
    """A site's week once published: shifts added to it later are published at once."""

    __tablename__ = "published_weeks"

    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), primary_key=True)
    week_start: Mapped[date] = mapped_column(Date, primary_key=True)
    published_by: Mapped[str] = mapped_column(String(63))
    published_at: Mapped[datetime]


class IdempotencyKey(IdempotencyKeyColumns, Base):
    __tablename__ = "idempotency_keys"


class OutboxEvent(OutboxColumns, Base):
    __tablename__ = "outbox"


class Lease(LeaseColumns, Base):
    """Who runs a singleton job until when: the outbox relay, the retention pass and the roster refresh."""

    __tablename__ = "leases"


class ProcessedEvent(ProcessedEventColumns, Base):
    """An event the scheduling worker has applied (see `services.shared.intake`)."""

    __tablename__ = "processed_events"
