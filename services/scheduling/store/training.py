"""Tables of training: sessions and their enrolments, new hires awaiting onboarding, the promotion
calendar and each site's briefing, and de-escalation role-play. What role-play keeps of a complaint
is its situation and how it was resolved: never the customer, the staff or any text."""

import uuid
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from services.scheduling.store.models import Base


class Promotion(Base):
    """A promotion of the calendar, in one region or (region None) the whole chain."""

    __tablename__ = "promotions"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200))
    region_id: Mapped[str | None] = mapped_column(ForeignKey("regions.id"), index=True)
    starts_on: Mapped[date] = mapped_column(Date, index=True)
    ends_on: Mapped[date] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(63))
    created_at: Mapped[datetime]


class TrainingSession(Base):
    __tablename__ = "training_sessions"
    __table_args__ = (
        Index("ix_training_sessions_site_time", "site_id", "starts_at"),
        Index("ix_training_sessions_region_time", "region_id", "starts_at"),
        Index("ix_training_sessions_trainer_time", "trainer_id", "starts_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"))
    region_id: Mapped[str] = mapped_column(ForeignKey("regions.id"))
    kind: Mapped[str] = mapped_column(String(30))
    trainer_id: Mapped[str] = mapped_column(ForeignKey("staff.id"))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    capacity: Mapped[int]
    status: Mapped[str] = mapped_column(String(20))
    promotion_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("promotions.id"))
    problem_id: Mapped[uuid.UUID | None]  # the detected common problem that called for it
    created_by: Mapped[str] = mapped_column(String(63))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Enrolment(Base):
    __tablename__ = "training_enrolments"

    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("training_sessions.id"), primary_key=True)
    staff_id: Mapped[str] = mapped_column(ForeignKey("staff.id"), primary_key=True, index=True)
    status: Mapped[str] = mapped_column(String(20))
    enrolled_at: Mapped[datetime]


class OnboardingDue(Base):
    """A new hire who has not completed onboarding; awaiting it while no session holds a place for them."""

    __tablename__ = "onboarding_due"

    staff_id: Mapped[str] = mapped_column(ForeignKey("staff.id"), primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), index=True)
    since: Mapped[datetime]


class PromotionBriefing(Base):
    """A promotion's briefing at one site: its session, or why there is none."""

    __tablename__ = "promotion_briefings"

    promotion_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("promotions.id"), primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), primary_key=True)
    session_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("training_sessions.id"))
    problem: Mapped[str | None] = mapped_column(String(300))


class Scenario(Base):
    """A role-play scenario of a session, copied from one of its site's resolved complaints."""

    __tablename__ = "role_play_scenarios"

    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("training_sessions.id"), primary_key=True)
    number: Mapped[int] = mapped_column(primary_key=True)
    category: Mapped[str] = mapped_column(String(30))
    severity: Mapped[str] = mapped_column(String(20))
    mood: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(20))
    technique: Mapped[str] = mapped_column(String(30))  # what resolved the complaint
    outcome: Mapped[str] = mapped_column(String(30))


class ScenarioAnswer(Base):
    """A trainee's chosen resolution of a scenario."""

    __tablename__ = "role_play_answers"

    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("training_sessions.id"), primary_key=True)
    number: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[str] = mapped_column(ForeignKey("staff.id"), primary_key=True)
    technique: Mapped[str] = mapped_column(String(30))
    outcome: Mapped[str] = mapped_column(String(30))
    answered_at: Mapped[datetime]
