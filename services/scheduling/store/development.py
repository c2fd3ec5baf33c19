"""Tables of training proposals, the complaint facts the worker learns from the other services' topics,
and coaching notes. A complaint fact holds no personal data: the complaint's category, customer mood,
filing time, whether it was escalated, who resolved it and the CSAT score it got. A coaching note's
text stays in this table; only its id and links travel on Kafka."""

import uuid
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from services.scheduling.store.models import Base
from services.shared.db import insert_statement

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


class ComplaintFact(Base):
    """What the worker knows of one complaint, from whichever of its events came first: escalation
    events may arrive before the complaint's filing, since they travel on another topic."""

    __tablename__ = "complaint_facts"
    __table_args__ = (
        Index("ix_complaint_facts_site_filed", "site_id", "filed_at"),
        Index("ix_complaint_facts_resolved_by", "resolved_by"),
    )

    complaint_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    site_id: Mapped[str] = mapped_column(String(63))  # a site this service may not know
    region_id: Mapped[str] = mapped_column(String(63))
    category: Mapped[str | None] = mapped_column(String(30))
    mood: Mapped[str | None] = mapped_column(String(20))
    filed_at: Mapped[datetime | None]
    escalated: Mapped[bool] = mapped_column(default=False)
    resolved_by: Mapped[str | None] = mapped_column(String(63))  # the latest resolution's staff member
    csat_score: Mapped[int | None]  # the latest answer


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


async def keep_fact(session: AsyncSession, complaint_id: uuid.UUID, site_id: str, region_id: str,
                    **known: object) -> ComplaintFact:
    """Adds what an event tells of a complaint to its fact, in one statement, and returns the whole
    fact: of two events of one complaint applied at once, the later sees what the earlier added."""
    statement = (
        insert_statement(session, ComplaintFact)
        .values(complaint_id=complaint_id, site_id=site_id, region_id=region_id, **known)
        .on_conflict_do_update(index_elements=["complaint_id"], set_=known)
        .returning(ComplaintFact)
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(statement)).one()
