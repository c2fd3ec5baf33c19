"""What the scheduling worker knows of each complaint, from the complaints and escalations topics, for
training proposals, role-play scenarios and development records. No personal data: the category,
severity, channel and customer mood, when it was filed, whether it was escalated, the resolution
that holds (by whom, technique, outcome, when) and the CSAT score it got."""

import uuid
from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from services.scheduling.store.models import Base
from services.shared.db import insert_statement


class ComplaintFact(Base):
    """What the worker knows of one complaint, from whichever of its events came first: escalation
    events may arrive before the complaint's filing, since they travel on another topic."""

    __tablename__ = "complaint_facts"
    __table_args__ = (
        Index("ix_complaint_facts_site_filed", "site_id", "filed_at"),
        Index("ix_complaint_facts_resolved_by", "resolved_by"),
        Index("ix_complaint_facts_site_resolved", "site_id", "resolved_at"),
    )

    complaint_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    site_id: Mapped[str] = mapped_column(String(63))  # a site this service may not know
    region_id: Mapped[str] = mapped_column(String(63))
    category: Mapped[str | None] = mapped_column(String(30))
    mood: Mapped[str | None] = mapped_column(String(20))
    severity: Mapped[str | None] = mapped_column(String(20))
    channel: Mapped[str | None] = mapped_column(String(20))
    filed_at: Mapped[datetime | None]
    escalated: Mapped[bool] = mapped_column(default=False)
    # The resolution that holds (a reopened complaint has none until it is resolved again).
    resolved_by: Mapped[str | None] = mapped_column(String(63))
    technique: Mapped[str | None] = mapped_column(String(30))
    outcome: Mapped[str | None] = mapped_column(String(30))
    resolved_at: Mapped[datetime | None]
    csat_score: Mapped[int | None]  # the latest answer


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
