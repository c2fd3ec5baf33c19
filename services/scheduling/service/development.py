"""Coaching notes, each staff member's development record and their readiness for the next step.

Complaints resolved and their CSAT come from the complaints topic: each complaint's latest resolver
and latest score are kept with its facts, so a score counts for whoever resolved the complaint."""

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.scheduling.domain.development import Progress, Readiness, may_coach, readiness, sees_development
from services.scheduling.domain.training import TrainingRecord, TrainingStatus
from services.scheduling.service.training import training_history
from services.scheduling.store.complaints import ComplaintFact, keep_fact
from services.scheduling.settings import SchedulingSettings
from services.scheduling.store.development import CoachingNote
from services.scheduling.store.models import StaffMember
from services.shared.errors import NotFound, OutOfScope
from services.shared.events.complaints import ComplaintReopened, ComplaintResolved, CsatSubmitted
from services.shared.events.envelope import Envelope
from services.shared.events.fields import Tier
from services.shared.events.scheduling import CoachingNoteRecorded
from services.shared.outbox import add_events
from services.shared.principal import Principal, Role
from services.shared.topics import SCHEDULING

NOTES_IN_RECORD = 100


async def on_resolved(session: AsyncSession, envelope: Envelope, now: datetime) -> None:
    resolved: ComplaintResolved = envelope.data  # type: ignore[assignment]
    await keep_fact(session, resolved.complaint_id, resolved.store_id, resolved.region_id, resolved_by=resolved.by,
                    technique=resolved.technique, outcome=resolved.outcome, resolved_at=resolved.at)


async def on_reopened(session: AsyncSession, envelope: Envelope, now: datetime) -> None:
    """A reopened complaint's resolution did not hold: it counts for nobody, and role-play does not replay it."""
    reopened: ComplaintReopened = envelope.data  # type: ignore[assignment]
    await keep_fact(session, reopened.complaint_id, reopened.store_id, reopened.region_id, resolved_by=None,
                    technique=None, outcome=None, resolved_at=None)


async def on_csat(session: AsyncSession, envelope: Envelope, now: datetime) -> None:
    answer: CsatSubmitted = envelope.data  # type: ignore[assignment]
    await keep_fact(session, answer.complaint_id, answer.store_id, answer.region_id, csat_score=answer.score)


def effects(_settings: SchedulingSettings) -> dict:  # event class -> effect (see service.intake)
    return {ComplaintResolved: on_resolved, ComplaintReopened: on_reopened, CsatSubmitted: on_csat}


async def _staff_seen_by(session: AsyncSession, who: Principal, staff_id: str) -> StaffMember:
    staff = await session.get(StaffMember, staff_id)
    if staff is None or not sees_development(who, staff.id, staff.home_site_id, staff.region_id):
        raise NotFound(f"no staff member {staff_id} in your scope")
    return staff


async def record_note(session: AsyncSession, who: Principal, staff_id: str, text: str, complaint_ids: list[uuid.UUID],
                      now: datetime) -> CoachingNote:
    """A coach's note on a staff member; CoachingNoteRecorded tells the others it exists, without its text."""
    staff = await _staff_seen_by(session, who, staff_id)
    if not may_coach(who, staff.id, staff.home_site_id, staff.region_id):
        raise OutOfScope(f"a {who.role} may not write coaching notes on {staff.id}")
    note = CoachingNote(id=uuid.uuid4(), staff_id=staff.id, coach=who.sub, coach_role=who.role, text=text,
                        complaint_ids=[str(complaint) for complaint in complaint_ids], recorded_at=now)
    session.add(note)
    recorded = CoachingNoteRecorded(
        store_id=staff.home_site_id, region_id=staff.region_id, note_id=note.id, staff_id=staff.id, coach=who.sub,
        coach_role=Tier(who.role), complaint_ids=complaint_ids, at=now,
    )
    add_events(session, SCHEDULING, [recorded], now, subject=str(note.id))
    return note


async def list_notes(session: AsyncSession, who: Principal, staff_id: str, limit: int) -> list[CoachingNote]:
    """The latest notes on the staff member, newest first."""
    await _staff_seen_by(session, who, staff_id)
    return await _latest_notes(session, staff_id, limit)


async def _latest_notes(session: AsyncSession, staff_id: str, limit: int) -> list[CoachingNote]:
    query = (select(CoachingNote).where(CoachingNote.staff_id == staff_id)
             .order_by(CoachingNote.recorded_at.desc(), CoachingNote.id).limit(limit))
    return list(await session.scalars(query))


@dataclass(frozen=True)
class DevelopmentRecord:
    staff: StaffMember
    training: list[TrainingRecord]  # earliest first
    notes: list[CoachingNote]  # the latest NOTES_IN_RECORD
    progress: Progress
    readiness: Readiness


async def development_record(session: AsyncSession, who: Principal, staff_id: str, now: datetime) -> DevelopmentRecord:
    staff = await _staff_seen_by(session, who, staff_id)
    history = await training_history(session, staff.id)
    notes = await _latest_notes(session, staff.id, NOTES_IN_RECORD)
    notes_count = await session.scalar(select(func.count()).where(CoachingNote.staff_id == staff.id))
    resolved = await session.scalar(select(func.count()).where(ComplaintFact.resolved_by == staff.id))
    scores = await session.scalars(
        select(ComplaintFact.csat_score).where(ComplaintFact.resolved_by == staff.id, ComplaintFact.csat_score.is_not(None))
    )
    progress = Progress(
        hired=staff.hire_date, training_completed=frozenset(r.kind for r in history if r.status is TrainingStatus.completed),
        complaints_resolved=resolved, csat_scores=tuple(scores), coaching_notes=notes_count,
    )
    return DevelopmentRecord(staff, history, notes, progress, readiness(Role(staff.role), progress, now.date()))
