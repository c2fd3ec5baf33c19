"""Tables of training proposals and coaching notes. A coaching note's text stays in this table; only
its id and links travel on Kafka."""

import uuid
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.scheduling.store.models import Base

NOTE_MAX_CHARS = 4000
REASON_MAX_CHARS = 500


class TrainingProposal(Base):
    """Training proposed to a site's manager, once per cause: the cause key is (site, cause, cause_ref)."""

    __tablename__ = "training_proposals"
    __table_args__ = (
        UniqueConstraint("site_id", "cause", "cause_ref", name="uq_training_proposals_cause"),
        Index("ix_training_proposals_region_time", "region_id", "proposed_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"))
    region_id: Mapped[str] = mapped_column(ForeignKey("regions.id"))
    kind: Mapped[str] = mapped_column(String(30))
    cause: Mapped[str] = mapped_column(String(30))
    cause_ref: Mapped[str] = mapped_column(String(200))
    staff_ids: Mapped[list[str]] = mapped_column(JSON)
    problem_id: Mapped[uuid.UUID | None]
    proposed_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20))  # proposed, confirmed or dismissed
    decided_by: Mapped[str | None] = mapped_column(String(63))
    decided_at: Mapped[datetime | None]
    reason: Mapped[str | None] = mapped_column(String(REASON_MAX_CHARS))
    session_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("training_sessions.id"))  # the training that answers it


class CoachingNote(Base):
    __tablename__ = "coaching_notes"
    __table_args__ = (Index("ix_coaching_notes_staff_time", "staff_id", "recorded_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    staff_id: Mapped[str] = mapped_column(ForeignKey("staff.id"))
    coach: Mapped[str] = mapped_column(String(63))
    coach_role: Mapped[str] = mapped_column(String(30))
    text: Mapped[str] = mapped_column(String(NOTE_MAX_CHARS))
    complaint_ids: Mapped[list[str]] = mapped_column(JSON)
    recorded_at: Mapped[datetime]
