"""Routes of coaching and development: coaching notes on a staff member, their development record and
their readiness for the next step of the career path."""

from datetime import date, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from services.scheduling.api import schemas
from services.scheduling.api.training import TrainingRecordOut
from services.scheduling.api.deps import IdempotencyKeyHeader, Now, Sessions, run_once
from services.scheduling.domain.access import READERS
from services.scheduling.domain.development import COACHES, Readiness
from services.scheduling.service import development
from services.scheduling.store.development import NOTE_MAX_CHARS, CoachingNote
from services.shared.auth import Authorize
from services.shared.events.fields import StaffId, Tier
from services.shared.principal import Principal, Role

router = APIRouter(prefix="/v1", tags=["coaching and development"], responses=schemas.ERRORS)
Reader = Annotated[Principal, Depends(Authorize(*READERS))]
Coach = Annotated[Principal, Depends(Authorize(*COACHES))]
PAGE_MAX = 500
MAX_COMPLAINTS = 20  # as many as CoachingNoteRecorded carries


class NoteIn(schemas.Strict):
    text: str = Field(min_length=1, max_length=NOTE_MAX_CHARS, description="What the coach observed and advised.")
    complaint_ids: list[UUID] = Field(default_factory=list, max_length=MAX_COMPLAINTS,
                                      description="The complaints the note is about.")


class NoteOut(BaseModel):
    note_id: UUID
    staff_id: StaffId
    coach: StaffId
    coach_role: Tier
    text: str
    complaint_ids: list[UUID]
    recorded_at: datetime


def _note(row: CoachingNote) -> NoteOut:
    return NoteOut(note_id=row.id, staff_id=row.staff_id, coach=row.coach, coach_role=Tier(row.coach_role), text=row.text,
                   complaint_ids=row.complaint_ids, recorded_at=row.recorded_at)


class CriterionOut(BaseModel):
    name: str = Field(description="tenure_months, training_completed, complaints_resolved, csat_responses, average_csat "
                      "or coaching_notes")
    met: bool
    required: float | list[str]
    actual: float | list[str] | None


class ReadinessOut(BaseModel):
    staff_id: StaffId
    role: Role
    next_role: Role | None = Field(description="The next step of the career path; none at its top or off it.")
    ready: bool
    criteria: list[CriterionOut]


def _readiness(staff_id: str, readiness: Readiness) -> ReadinessOut:
    return ReadinessOut(
        staff_id=staff_id, role=readiness.role, next_role=readiness.next_role, ready=readiness.ready,
        criteria=[CriterionOut(**vars(criterion)) for criterion in readiness.criteria],
    )


class DevelopmentOut(BaseModel):
    staff_id: StaffId
    role: Role
    home_site_id: schemas.SiteId
    hire_date: date
    training: list[TrainingRecordOut]
    coaching_notes: list[NoteOut] = Field(description=f"The latest {development.NOTES_IN_RECORD}.")
    coaching_notes_count: int
    complaints_resolved: int
    csat_responses: int
    average_csat: float | None = Field(description="Of the complaints they resolved; none before any answer.")
    readiness: ReadinessOut


@router.post(
    "/staff/{staff_id}/coaching-notes", status_code=201, response_model=NoteOut,
    summary="Record a coaching note on a staff member (the text stays in this service)",
)
async def record_note(staff_id: StaffId, body: NoteIn, request: Request, who: Coach, now: Now,
                      idempotency_key: IdempotencyKeyHeader = None) -> Response:
    async def work(session):
        complaint_ids = list(dict.fromkeys(body.complaint_ids))
        return 201, _note(await development.record_note(session, who, staff_id, body.text, complaint_ids, now))

    return await run_once(request, who, idempotency_key, work)


@router.get("/staff/{staff_id}/coaching-notes", response_model=list[NoteOut],
            summary="A staff member's coaching notes, newest first")
async def list_notes(staff_id: StaffId, who: Reader, sessions: Sessions,
                     limit: Annotated[int, Query(ge=1, le=PAGE_MAX)] = 100) -> list[NoteOut]:
    async with sessions() as session:
        return [_note(row) for row in await development.list_notes(session, who, staff_id, limit)]


@router.get("/staff/{staff_id}/development", response_model=DevelopmentOut, summary="A staff member's development record")
async def development_record(staff_id: StaffId, who: Reader, sessions: Sessions, now: Now) -> DevelopmentOut:
    async with sessions() as session:
        record = await development.development_record(session, who, staff_id, now)
    progress = record.progress
    return DevelopmentOut(
        staff_id=record.staff.id, role=Role(record.staff.role), home_site_id=record.staff.home_site_id,
        hire_date=record.staff.hire_date,
        training=[TrainingRecordOut.model_validate(entry, from_attributes=True) for entry in record.training],
        coaching_notes=[_note(row) for row in record.notes], coaching_notes_count=progress.coaching_notes,
        complaints_resolved=progress.complaints_resolved, csat_responses=len(progress.csat_scores),
        average_csat=progress.average_csat, readiness=_readiness(record.staff.id, record.readiness),
    )


@router.get("/staff/{staff_id}/readiness", response_model=ReadinessOut,
            summary="How ready a staff member is for the next step of the career path, criterion by criterion")
async def readiness(staff_id: StaffId, who: Reader, sessions: Sessions, now: Now) -> ReadinessOut:
    async with sessions() as session:
        record = await development.development_record(session, who, staff_id, now)
    return _readiness(record.staff.id, record.readiness)
