"""The boards' read model: one row per case of the worker's cases changelog, as the boards show it,
and how far into each changelog partition the rows are."""

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, SmallInteger, String, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.shared.db import UtcDateTime

OPEN = text("resolved_at IS NULL")


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UtcDateTime}


class BoardCase(Base):
    __tablename__ = "board_cases"
    __table_args__ = (
        # a region's open complaints in board order (BOARD_ORDER), and their counts
        Index("ix_board_cases_open", "region_id", text("breaches DESC"), text("paged DESC"), "severity_rank", "filed_at",
              "complaint_id", postgresql_where=OPEN, sqlite_where=OPEN),
        Index("ix_board_cases_open_store", "region_id", "store_id", postgresql_where=OPEN, sqlite_where=OPEN),
        Index("ix_board_cases_resolved", "region_id", "resolved_at"),  # the last day's history
    )

    complaint_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)  # the changelog key
    changelog_offset: Mapped[int] = mapped_column(BigInteger)  # of the record the row is: only a later one replaces it
    region_id: Mapped[str] = mapped_column(String(63))
    store_id: Mapped[str] = mapped_column(String(63))
    category: Mapped[str] = mapped_column(String(30))
    severity: Mapped[str] = mapped_column(String(30))
    severity_rank: Mapped[int] = mapped_column(SmallInteger)
    mood: Mapped[str] = mapped_column(String(30))
    channel: Mapped[str] = mapped_column(String(30))
    tier: Mapped[str] = mapped_column(String(30))
    staff_id: Mapped[str | None] = mapped_column(String(63))
    reason: Mapped[str] = mapped_column(String(500))
    filed_at: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    acknowledge_by: Mapped[datetime | None]
    resolve_by: Mapped[datetime]
    breaches: Mapped[int] = mapped_column(Integer)
    breached_tiers: Mapped[str] = mapped_column(String(200))  # comma-separated, in the order breached
    first_breach_at: Mapped[datetime | None]
    paged: Mapped[bool]


class BoardOffset(Base):
    """The next offset to read in a partition of the cases changelog: every record before it is applied."""

    __tablename__ = "board_offsets"

    changelog_partition: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    next_offset: Mapped[int] = mapped_column(BigInteger)
