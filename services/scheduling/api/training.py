"""Training: the programmes, training sessions (scheduling, enrolment, attendance, completion), each
staff member's training, new hires awaiting onboarding, the promotion calendar with each site's
briefing, and de-escalation role-play scenarios with the trainees' chosen resolutions."""

from datetime import UTC, date, datetime, timedelta
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, Field, model_validator

from services.scheduling.api import schemas
from services.scheduling.api.deps import IdempotencyKeyHeader, Now, Sessions, Work, actor_for, run_once
from services.scheduling.domain.access import ADMINS, OWN_ONLY, READERS, SCHEDULERS
from services.scheduling.domain.training import (
    PROGRAMMES, EnrolmentStatus, SessionStatus, TrainingStatus, training_status,
)
from services.scheduling.service import training
from services.scheduling.service.shifts import Actor
from services.scheduling.service.training import PromotionSpec, SessionFilters, SessionSpec, TrainingRules
from services.scheduling.store.training import Enrolment, Promotion, TrainingSession
from services.shared.auth import Authorize
from services.shared.events.complaints import Category, Channel, Mood, Outcome, Severity, Technique
from services.shared.events.fields import LATEST, RegionId, StaffId
from services.shared.events.scheduling import TrainingKind
from services.shared.principal import Principal, Role

router = APIRouter(prefix="/v1", tags=["training"], responses=schemas.ERRORS)
Scheduler = Annotated[Actor, actor_for(*SCHEDULERS)]
Promoter = Annotated[Actor, actor_for(*ADMINS, Role.regional_coordinator)]
Reader = Annotated[Principal, Depends(Authorize(*(READERS - {Role.ops})))]
MAX_CAPACITY = 100
MAX_PROMOTION_DAYS = 366
PAGE_MAX = 1000


def _rules(request: Request) -> TrainingRules:
    settings = request.app.state.settings
    return TrainingRules(
        briefing_length=timedelta(minutes=settings.briefing_minutes), briefing_lookback_days=settings.briefing_lookback_days,
        role_play_scenarios=settings.role_play_scenarios, role_play_source=timedelta(days=settings.role_play_source_days),
    )


Rules = Annotated[TrainingRules, Depends(_rules)]
Trainees = Annotated[list[StaffId], Field(max_length=MAX_CAPACITY)]


class ProgrammeOut(BaseModel):
    kind: TrainingKind
    title: str
    skills: list[str] = Field(description="Added to each attendee's directory entry when a session is completed.")
    about: str


class SessionIn(schemas.Strict):
    model_config = {"json_schema_extra": {"examples": [{
        "site_id": "hel-kamppi", "kind": "register", "trainer": "mgr-0007", "starts_at": "2027-03-02T10:00:00+02:00",
        "ends_at": "2027-03-02T11:00:00+02:00", "capacity": 6, "staff_ids": ["emp-1042"],
    }]}}

    site_id: schemas.SiteId
    kind: TrainingKind
    trainer: StaffId
    starts_at: schemas.Instant
    ends_at: schemas.Instant
    capacity: int = Field(ge=1, le=MAX_CAPACITY)
    staff_ids: Trainees = Field(default_factory=list, description="Trainees to enrol at once.")
    promotion_id: UUID | None = Field(None, description="The promotion a promotions_briefing session briefs.")
    problem_id: UUID | None = Field(None, description="The detected common problem that called for the session.")
    proposal_id: UUID | None = Field(None, description="The training proposal the session answers: scheduling it confirms "
                                     "the proposal and links the session to it.")

    def spec(self) -> SessionSpec:
        return SessionSpec(self.site_id, self.kind, self.trainer, self.starts_at.astimezone(UTC), self.ends_at.astimezone(UTC),
                           self.capacity, tuple(self.staff_ids), self.promotion_id, self.problem_id, self.proposal_id)


class EnrolIn(schemas.Strict):
    staff_ids: Annotated[list[StaffId], Field(min_length=1, max_length=MAX_CAPACITY)]


class AttendanceIn(schemas.Strict):
    attended: Trainees = Field(default_factory=list)
    absent: Trainees = Field(default_factory=list)


class Attendee(BaseModel):
    staff_id: StaffId
    status: TrainingStatus


class SessionOut(BaseModel):
    session_id: UUID
    site_id: schemas.SiteId
    region_id: RegionId
    kind: TrainingKind
    trainer: StaffId
    starts_at: datetime
    ends_at: datetime
    capacity: int
    status: SessionStatus
    promotion_id: UUID | None
    problem_id: UUID | None
    attendees: list[Attendee] = Field(description="A trainee sees their own place only.")


def _session_out(row: TrainingSession, enrolments: list[Enrolment]) -> SessionOut:
    return SessionOut(
        session_id=row.id, site_id=row.site_id, region_id=row.region_id, kind=row.kind, trainer=row.trainer_id,
        starts_at=row.starts_at.astimezone(UTC), ends_at=row.ends_at.astimezone(UTC), capacity=row.capacity,
        status=row.status, promotion_id=row.promotion_id, problem_id=row.problem_id,
        attendees=[Attendee(staff_id=e.staff_id, status=training_status(SessionStatus(row.status), EnrolmentStatus(e.status)))
                   for e in enrolments],
    )


async def _out(session, who: Principal, row: TrainingSession) -> SessionOut:
    return _session_out(row, (await training.attendees(session, who, [row]))[row.id])


class TrainingRecordOut(BaseModel):
    session_id: UUID
    kind: TrainingKind
    site_id: schemas.SiteId
    starts_at: datetime
    ends_at: datetime
    status: TrainingStatus


class AwaitingOut(BaseModel):
    staff_id: StaffId
    site_id: schemas.SiteId
    since: datetime


class PromotionIn(schemas.Strict):
    model_config = {"json_schema_extra": {"examples": [{
        "name": "Spring small appliances", "starts_on": "2027-03-08", "ends_on": "2027-03-21", "region_id": "uusimaa",
    }]}}

    name: str = Field(min_length=1, max_length=200, description="What the promotion is called; no personal data.")
    starts_on: date
    ends_on: date
    region_id: RegionId | None = Field(None, description="Its region; none: the whole chain (senior managers only).")

    @model_validator(mode="after")
    def _dates(self) -> "PromotionIn":
        if self.ends_on < self.starts_on:
            raise ValueError("ends_on is before starts_on")
        if (self.ends_on - self.starts_on).days >= MAX_PROMOTION_DAYS:
            raise ValueError(f"a promotion runs at most {MAX_PROMOTION_DAYS} days")
        if self.ends_on >= LATEST.date():
            raise ValueError(f"ends_on must be before {LATEST.date()}")
        return self


class PromotionOut(BaseModel):
    promotion_id: UUID
    name: str
    region_id: RegionId | None
    starts_on: date
    ends_on: date


class BriefingOut(BaseModel):
    site_id: schemas.SiteId
    session_id: UUID | None
    starts_at: datetime | None
    ends_at: datetime | None
    trainer: StaffId | None
    attendees: list[StaffId]
    problem: str | None = Field(description="Why the site has no briefing, when it has none.")


class PromotionDetail(PromotionOut):
    briefings: list[BriefingOut]


def _promotion_out(promotion: Promotion) -> PromotionOut:
    return PromotionOut(promotion_id=promotion.id, name=promotion.name, region_id=promotion.region_id,
                        starts_on=promotion.starts_on, ends_on=promotion.ends_on)


def _briefing_out(briefing: training.SiteBriefing) -> BriefingOut:
    held = briefing.session
    if held is None:
        return BriefingOut(site_id=briefing.site_id, session_id=None, starts_at=None, ends_at=None, trainer=None, attendees=[],
                           problem=briefing.problem)
    return BriefingOut(site_id=briefing.site_id, session_id=held.id, starts_at=held.starts_at.astimezone(UTC),
                       ends_at=held.ends_at.astimezone(UTC), trainer=held.trainer_id, attendees=briefing.attendees, problem=None)


async def _promotion_detail(session, who: Principal, promotion: Promotion) -> PromotionDetail:
    briefings = [_briefing_out(b) for b in await training.briefings(session, who, promotion)]
    return PromotionDetail(**_promotion_out(promotion).model_dump(), briefings=briefings)


class Resolution(BaseModel):
    technique: Technique
    outcome: Outcome


class AnswerIn(schemas.Strict, Resolution):
    pass


class AnswerOut(Resolution):
    staff_id: StaffId
    same_technique: bool = Field(description="The trainee chose the technique that resolved the complaint.")
    same_outcome: bool


class ScenarioOut(BaseModel):
    number: int
    category: Category
    severity: Severity
    mood: Mood
    channel: Channel
    resolved_with: Resolution | None = Field(
        description="What resolved the real complaint; shown to a trainee once they have answered."
    )
    answers: list[AnswerOut]


@router.get("/training/programmes", response_model=list[ProgrammeOut], summary="Training programmes and the skills they grant")
async def programmes(_: Reader) -> list[ProgrammeOut]:
    return [ProgrammeOut(kind=p.kind, title=p.title, skills=list(p.skills), about=p.about) for p in PROGRAMMES.values()]


@router.post("/training/sessions", status_code=201, response_model=SessionOut, summary="Schedule a training session")
async def schedule(body: SessionIn, request: Request, actor: Scheduler, rules: Rules,
                   idempotency_key: IdempotencyKeyHeader = None) -> Response:
    async def work(session):
        row = await training.schedule_session(session, actor.who, actor.now, rules, body.spec())
        return 201, await _out(session, actor.who, row)

    return await run_once(request, actor.who, idempotency_key, work)


@router.get("/training/sessions", response_model=list[SessionOut], summary="Training sessions in your scope, earliest first")
async def list_sessions(
    who: Reader, sessions: Sessions, site_id: schemas.SiteId | None = None, region_id: RegionId | None = None,
    kind: TrainingKind | None = None, starts_from: schemas.Instant | None = None, starts_before: schemas.Instant | None = None,
    limit: Annotated[int, Query(ge=1, le=PAGE_MAX)] = 200,
) -> list[SessionOut]:
    async with sessions() as session:
        filters = SessionFilters(site_id, region_id, kind, starts_from, starts_before)
        rows = await training.list_sessions(session, who, filters, limit)
        enrolments = await training.attendees(session, who, rows)
    return [_session_out(row, enrolments[row.id]) for row in rows]


@router.get("/training/sessions/{session_id}", response_model=SessionOut, summary="A training session")
async def get_session(session_id: UUID, who: Reader, sessions: Sessions) -> SessionOut:
    async with sessions() as session:
        return await _out(session, who, await training.load_session(session, who, session_id))


@router.post("/training/sessions/{session_id}/enrolments", response_model=SessionOut, summary="Enrol staff in a training session")
async def enrol(session_id: UUID, body: EnrolIn, request: Request, actor: Scheduler,
                idempotency_key: IdempotencyKeyHeader = None) -> Response:
    async def work(session):
        row = await training.enrol(session, actor.who, actor.now, session_id, body.staff_ids)
        return 200, await _out(session, actor.who, row)

    return await run_once(request, actor.who, idempotency_key, work)


@router.put("/training/sessions/{session_id}/attendance", response_model=SessionOut,
            summary="Record who attended a training session and who was absent")
async def attendance(session_id: UUID, body: AttendanceIn, actor: Scheduler, uow: Work) -> SessionOut:
    async with uow.begin() as session:
        row = await training.record_attendance(session, actor.who, actor.now, session_id, body.attended, body.absent)
        return await _out(session, actor.who, row)


@router.post("/training/sessions/{session_id}/complete", response_model=SessionOut,
             summary="Complete a training session: its attendees gain the programme's skills")
async def complete(session_id: UUID, request: Request, actor: Scheduler,
                   idempotency_key: IdempotencyKeyHeader = None) -> Response:
    async def work(session):
        return 200, await _out(session, actor.who, await training.complete(session, actor.who, actor.now, session_id))

    return await run_once(request, actor.who, idempotency_key, work)


@router.post("/training/sessions/{session_id}/cancel", response_model=SessionOut, summary="Cancel a training session")
async def cancel(session_id: UUID, request: Request, actor: Scheduler, idempotency_key: IdempotencyKeyHeader = None) -> Response:
    async def work(session):
        return 200, await _out(session, actor.who, await training.cancel(session, actor.who, actor.now, session_id))

    return await run_once(request, actor.who, idempotency_key, work)


@router.get("/training/sessions/{session_id}/scenarios", response_model=list[ScenarioOut],
            summary="A role-play's scenarios, what resolved each, and the trainees' chosen resolutions")
async def scenarios(session_id: UUID, who: Reader, sessions: Sessions) -> list[ScenarioOut]:
    async with sessions() as session:
        listed, answers = await training.scenarios(session, who, session_id)
    shown = []
    for scenario in listed:
        actual = Resolution(technique=scenario.technique, outcome=scenario.outcome)
        mine = [a for a in answers if a.number == scenario.number]
        shown.append(ScenarioOut(
            number=scenario.number, category=scenario.category, severity=scenario.severity, mood=scenario.mood,
            channel=scenario.channel, resolved_with=actual if mine or who.role not in OWN_ONLY else None,
            answers=[AnswerOut(staff_id=a.staff_id, technique=a.technique, outcome=a.outcome,
                               same_technique=a.technique == scenario.technique, same_outcome=a.outcome == scenario.outcome)
                     for a in mine],
        ))
    return shown


@router.put("/training/sessions/{session_id}/scenarios/{number}/answers/{staff_id}", response_model=Resolution,
            summary="Record a trainee's chosen resolution of a role-play scenario")
async def answer(session_id: UUID, number: Annotated[int, Path(ge=1, le=100)], staff_id: StaffId, body: AnswerIn, who: Reader,
                 uow: Work, now: Now) -> Resolution:
    async with uow.begin() as session:
        chosen = await training.answer(session, who, now, session_id, number, staff_id, body.technique, body.outcome)
        return Resolution(technique=chosen.technique, outcome=chosen.outcome)


@router.get("/staff/{staff_id}/training", response_model=list[TrainingRecordOut], summary="A staff member's training")
async def staff_training(staff_id: StaffId, who: Reader, sessions: Sessions) -> list[TrainingRecordOut]:
    async with sessions() as session:
        records = await training.staff_training(session, who, staff_id)
    return [TrainingRecordOut.model_validate(record, from_attributes=True) for record in records]


@router.get("/training/onboarding", response_model=list[AwaitingOut],
            summary="New hires awaiting onboarding: enrolled when an onboarding session is scheduled during their shift")
async def awaiting_onboarding(actor: Scheduler, sessions: Sessions, site_id: schemas.SiteId | None = None,
                              region_id: RegionId | None = None) -> list[AwaitingOut]:
    async with sessions() as session:
        due = await training.awaiting_onboarding(session, actor.who, site_id, region_id)
    return [AwaitingOut(staff_id=d.staff_id, site_id=d.site_id, since=d.since.astimezone(UTC)) for d in due]


@router.post("/promotions", status_code=201, response_model=PromotionDetail,
             summary="Add a promotion to the calendar; each site in its scope gets a briefing before it starts")
async def create_promotion(body: PromotionIn, request: Request, actor: Promoter, rules: Rules,
                           idempotency_key: IdempotencyKeyHeader = None) -> Response:
    async def work(session):
        spec = PromotionSpec(body.name, body.starts_on, body.ends_on, body.region_id)
        promotion = await training.create_promotion(session, actor.who, actor.now, rules, spec)
        return 201, await _promotion_detail(session, actor.who, promotion)

    return await run_once(request, actor.who, idempotency_key, work)


@router.post("/promotions/{promotion_id}/briefings", response_model=PromotionDetail,
             summary="Plan again the briefings of the sites that have none yet")
async def replan(promotion_id: UUID, request: Request, actor: Promoter, rules: Rules,
                 idempotency_key: IdempotencyKeyHeader = None) -> Response:
    async def work(session):
        promotion = await training.replan_briefings(session, actor.who, actor.now, rules, promotion_id)
        return 200, await _promotion_detail(session, actor.who, promotion)

    return await run_once(request, actor.who, idempotency_key, work)


@router.get("/promotions", response_model=list[PromotionOut], summary="The promotion calendar in your scope, earliest first")
async def promotions(who: Reader, sessions: Sessions, ends_from: date | None = None,
                     limit: Annotated[int, Query(ge=1, le=PAGE_MAX)] = 200) -> list[PromotionOut]:
    async with sessions() as session:
        return [_promotion_out(p) for p in await training.list_promotions(session, who, ends_from, limit)]


@router.get("/promotions/{promotion_id}", response_model=PromotionDetail, summary="A promotion and its briefings")
async def promotion(promotion_id: UUID, who: Reader, sessions: Sessions) -> PromotionDetail:
    async with sessions() as session:
        return await _promotion_detail(session, who, await training.load_promotion(session, who, promotion_id))
