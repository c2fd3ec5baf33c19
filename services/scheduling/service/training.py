"""Training sessions: scheduling, enrolment, attendance and completion (which adds the programme's
skills to the attendees' directory entries), onboarding of new hires, the promotion calendar and
each site's briefing, and de-escalation role-play from the site's own resolved complaints.

A person's bookings (trainer or trainee) are checked and written under a lock on their directory
entry, and a session's enrolments under a lock on the session, so two transactions never both
pass a capacity or double-booking check."""

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.scheduling.domain import training as rules
from services.scheduling.domain.access import ADMINS, OWN_ONLY, SCHEDULERS
from services.scheduling.domain.shifts import ShiftStatus
from services.scheduling.domain.training import (
    Booking, EnrolmentStatus, OnShift, Period, SessionClosed, SessionStatus, TrainingRecord, training_status,
)
from services.scheduling.service import directory, proposals
from services.scheduling.store.models import Region, ShiftRow, Site, StaffMember
from services.scheduling.store.complaints import ComplaintFact
from services.scheduling.store.training import (
    Enrolment, OnboardingDue, Promotion, PromotionBriefing, Scenario, ScenarioAnswer, TrainingSession,
)
from services.shared.errors import Conflict, InvalidField, NotFound, OutOfScope
from services.shared.events.complaints import (
    Category, Channel, Mood, Outcome, Severity, Technique,
)
from services.shared.events.fields import MAX_ITEMS, Tier
from services.shared.events.scheduling import TrainingCancelled, TrainingCompleted, TrainingKind, TrainingScheduled
from services.shared.outbox import add_events
from services.shared.principal import Principal
from services.shared.topics import SCHEDULING


@dataclass(frozen=True)
class TrainingRules:
    briefing_length: timedelta
    briefing_lookback_days: int
    role_play_scenarios: int
    role_play_source: timedelta


@dataclass(frozen=True)
class SessionSpec:
    site_id: str
    kind: TrainingKind
    trainer: str
    starts_at: datetime
    ends_at: datetime
    capacity: int
    staff_ids: tuple[str, ...] = ()
    promotion_id: uuid.UUID | None = None
    problem_id: uuid.UUID | None = None
    proposal_id: uuid.UUID | None = None


async def training_history(session: AsyncSession, staff_id: str) -> list[TrainingRecord]:
    """Every training session the staff member was enrolled in, earliest first."""
    rows = await session.execute(
        select(TrainingSession, Enrolment.status).join(Enrolment, Enrolment.session_id == TrainingSession.id)
        .where(Enrolment.staff_id == staff_id).order_by(TrainingSession.starts_at, TrainingSession.id)
    )
    return [
        TrainingRecord(row.id, TrainingKind(row.kind), row.site_id, row.starts_at, row.ends_at,
                       training_status(SessionStatus(row.status), EnrolmentStatus(status)))
        for row, status in rows
    ]


# Scheduling and enrolment


async def schedule_session(session: AsyncSession, who: Principal, now: datetime, training: TrainingRules,
                           spec: SessionSpec) -> TrainingSession:
    site = await session.get(Site, spec.site_id)
    if site is None:
        raise directory.UnknownSite(spec.site_id)
    who.require_scope(site.region_id, site.id)
    rules.check_session_times(spec.starts_at, spec.ends_at, now)
    if spec.promotion_id is not None:
        await _check_promotion(session, spec, site)
    row = await _create_session(session, site, who.sub, now, spec)
    if spec.kind == TrainingKind.de_escalation_role_play:
        await _draw_scenarios(session, row, now, training)
    if spec.kind == TrainingKind.onboarding:
        await _enrol_new_hires(session, row, site, now)
    if spec.proposal_id is not None:
        await proposals.answer_with_session(session, who, spec.proposal_id, row, now)
    await _announce(session, row, now)
    return row


async def _check_promotion(session: AsyncSession, spec: SessionSpec, site: Site) -> None:
    promotion = await session.get(Promotion, spec.promotion_id)
    if promotion is None or promotion.region_id not in (None, site.region_id):
        raise InvalidField("promotion_id", f"no promotion {spec.promotion_id} runs at site {site.id}")
    if spec.kind != TrainingKind.promotions_briefing:
        raise InvalidField("promotion_id", f"a promotion is briefed in a {TrainingKind.promotions_briefing} session")


async def _create_session(session: AsyncSession, site: Site, by: str, now: datetime, spec: SessionSpec) -> TrainingSession:
    found = await _lock_staff(session, [spec.trainer, *spec.staff_ids])
    _check_known(found, [spec.trainer], "trainer")
    trainer_shifts = await _shifts_covering(session, [spec.trainer], site.id, spec.starts_at, spec.ends_at)
    rules.check_place(
        field="trainer", staff_id=spec.trainer, site_id=site.id, zone=directory.zone_of(site), start=spec.starts_at,
        end=spec.ends_at, shifts=trainer_shifts[spec.trainer],
        bookings=(await _bookings(session, [spec.trainer], spec.starts_at, spec.ends_at))[spec.trainer],
    )
    tier = trainer_shifts[spec.trainer][0].tier
    if tier not in rules.TRAINER_TIERS:
        raise rules.NotATrainer(spec.trainer, tier)
    row = TrainingSession(
        id=uuid.uuid4(), site_id=site.id, region_id=site.region_id, kind=spec.kind, trainer_id=spec.trainer,
        starts_at=spec.starts_at, ends_at=spec.ends_at, capacity=spec.capacity, status=SessionStatus.scheduled,
        promotion_id=spec.promotion_id, problem_id=spec.problem_id, created_by=by, created_at=now, updated_at=now,
    )
    session.add(row)
    await session.flush()
    await _enrol(session, row, site, spec.staff_ids, now)
    return row


async def enrol(session: AsyncSession, who: Principal, now: datetime, session_id: uuid.UUID,
                staff_ids: Iterable[str]) -> TrainingSession:
    row, site = await _load_for_change(session, who, session_id)
    if row.starts_at <= now:
        raise SessionClosed(f"training session {row.id} began at {row.starts_at.isoformat()}; enrolment is closed")
    await _enrol(session, row, site, staff_ids, now)
    await _announce(session, row, now)
    return row


async def _enrol(session: AsyncSession, row: TrainingSession, site: Site, staff_ids: Iterable[str], now: datetime) -> None:
    """Enrols those not yet enrolled, all or none: each must be on shift at the site throughout the
    session and in no other session then, and the session must have room for them all."""
    enrolled = set(await _enrolled(session, row.id))
    new = [staff_id for staff_id in dict.fromkeys(staff_ids) if staff_id not in enrolled]
    if row.trainer_id in new:
        raise InvalidField("staff_ids", f"{row.trainer_id} is the session's trainer, not a trainee")
    rules.check_room(row.id, row.capacity, len(enrolled), len(new))
    _check_known(await _lock_staff(session, new), new, "staff_ids")
    shifts = await _shifts_covering(session, new, site.id, row.starts_at, row.ends_at)
    bookings = await _bookings(session, new, row.starts_at, row.ends_at)
    for staff_id in new:
        rules.check_place(field="staff_ids", staff_id=staff_id, site_id=site.id, zone=directory.zone_of(site),
                          start=row.starts_at, end=row.ends_at, shifts=shifts[staff_id], bookings=bookings[staff_id])
        session.add(Enrolment(session_id=row.id, staff_id=staff_id, status=EnrolmentStatus.enrolled, enrolled_at=now))
    await session.flush()


async def _lock_staff(session: AsyncSession, staff_ids: Iterable[str]) -> set[str]:
    """Locks the directory entries of those who exist, in one order, and returns their ids."""
    query = select(StaffMember.id).where(StaffMember.id.in_(sorted(set(staff_ids)))).order_by(StaffMember.id).with_for_update()
    return set((await session.execute(query)).scalars())


def _check_known(found: set[str], staff_ids: Iterable[str], field: str) -> None:
    for staff_id in staff_ids:
        if staff_id not in found:
            raise InvalidField(field, f"unknown staff member {staff_id!r}")


async def _shifts_covering(session: AsyncSession, staff_ids: list[str], site_id: str, start: datetime,
                           end: datetime) -> dict[str, list[OnShift]]:
    rows = await session.execute(
        select(ShiftRow).where(
            ShiftRow.staff_id.in_(staff_ids), ShiftRow.site_id == site_id, ShiftRow.status == ShiftStatus.published,
            ShiftRow.starts_at <= start, ShiftRow.ends_at >= end,
        )
    )
    found: dict[str, list[OnShift]] = defaultdict(list)
    for shift in rows.scalars():
        found[shift.staff_id].append(OnShift(shift.staff_id, Tier(shift.role), shift.starts_at, shift.ends_at))
    return found


async def _bookings(session: AsyncSession, staff_ids: list[str], start: datetime, end: datetime,
                    site_id: str | None = None) -> dict[str, list[Booking]]:
    """Each person's sessions (as trainer or trainee; at the site, if given) that are not cancelled and
    overlap [start, end)."""
    overlapping = (TrainingSession.status != SessionStatus.cancelled, TrainingSession.starts_at < end,
                   TrainingSession.ends_at > start, *([TrainingSession.site_id == site_id] if site_id else []))
    earliest = (TrainingSession.starts_at, TrainingSession.id)
    as_trainee = select(Enrolment.staff_id, TrainingSession).join(TrainingSession, Enrolment.session_id == TrainingSession.id) \
        .where(Enrolment.staff_id.in_(staff_ids), *overlapping).order_by(*earliest)
    as_trainer = select(TrainingSession.trainer_id, TrainingSession) \
        .where(TrainingSession.trainer_id.in_(staff_ids), *overlapping).order_by(*earliest)
    found: dict[str, list[Booking]] = defaultdict(list)
    for query in (as_trainee, as_trainer):
        for staff_id, row in await session.execute(query):
            found[staff_id].append(Booking(row.id, row.starts_at, row.ends_at))
    return found


class TrainingDuringShift(Conflict):
    def __init__(self, staff_id: str, booking: Booking) -> None:
        super().__init__(
            f"staff member {staff_id!r} is in training session {booking.session_id} from {booking.starts_at.isoformat()} "
            f"to {booking.ends_at.isoformat()} during this shift: move or cancel the session first"
        )


async def check_shift_change(session: AsyncSession, shift: ShiftRow, start: datetime | None, end: datetime | None) -> None:
    """Refuses to move a published shift to [start, end), or to cancel it (None), when that would leave
    one of the person's training sessions at the site (as trainer or trainee) outside all their shifts."""
    for booking in (await _bookings(session, [shift.staff_id], shift.starts_at, shift.ends_at, shift.site_id))[shift.staff_id]:
        if start is not None and start <= booking.starts_at and booking.ends_at <= end:
            continue
        another = await session.scalar(select(ShiftRow.id).where(
            ShiftRow.staff_id == shift.staff_id, ShiftRow.site_id == shift.site_id, ShiftRow.id != shift.id,
            ShiftRow.status == ShiftStatus.published, ShiftRow.starts_at <= booking.starts_at,
            ShiftRow.ends_at >= booking.ends_at,
        ).limit(1))
        if another is None:
            raise TrainingDuringShift(shift.staff_id, booking)


async def _enrolled(session: AsyncSession, session_id: uuid.UUID) -> list[str]:
    query = select(Enrolment.staff_id).where(Enrolment.session_id == session_id).order_by(Enrolment.staff_id)
    return list((await session.execute(query)).scalars())


async def _announce(session: AsyncSession, row: TrainingSession, now: datetime) -> None:
    """The session as it now stands. The contract carries at least one trainee, so a session is
    announced from its first enrolment on, and again with every later one."""
    trainees = await _enrolled(session, row.id)
    if trainees:
        event = TrainingScheduled(
            store_id=row.site_id, region_id=row.region_id, session_id=row.id, kind=TrainingKind(row.kind),
            trainer=row.trainer_id, trainees=trainees, starts_at=row.starts_at, ends_at=row.ends_at,
            problem_id=row.problem_id,
        )
        add_events(session, SCHEDULING, [event], now, subject=str(row.id))


async def _load_for_change(session: AsyncSession, who: Principal, session_id: uuid.UUID) -> tuple[TrainingSession, Site]:
    row = await session.get(TrainingSession, session_id, with_for_update=True)
    if row is None:
        raise NotFound(f"no training session {session_id}")
    who.require_scope(row.region_id, row.site_id)
    if row.status != SessionStatus.scheduled:
        raise SessionClosed(f"training session {row.id} is {row.status}")
    return row, await session.get(Site, row.site_id)


# Attendance, completion and cancellation


async def record_attendance(session: AsyncSession, who: Principal, now: datetime, session_id: uuid.UUID,
                            attended: list[str], absent: list[str]) -> TrainingSession:
    row, _ = await _load_for_change(session, who, session_id)
    if row.starts_at > now:
        raise SessionClosed(f"training session {row.id} begins at {row.starts_at.isoformat()}; attendance is taken from then")
    both = set(attended) & set(absent)
    if both:
        raise InvalidField("absent", f"{min(both)} is also among the attended")
    enrolments = {e.staff_id: e for e in (await session.execute(
        select(Enrolment).where(Enrolment.session_id == row.id))).scalars()}
    marks = (("attended", attended, EnrolmentStatus.attended), ("absent", absent, EnrolmentStatus.absent))
    for field, staff_ids, status in marks:
        for staff_id in staff_ids:
            if staff_id not in enrolments:
                raise InvalidField(field, f"{staff_id} is not enrolled in training session {row.id}")
            enrolments[staff_id].status = status
    row.updated_at = now
    return row


async def complete(session: AsyncSession, who: Principal, now: datetime, session_id: uuid.UUID) -> TrainingSession:
    """Completes the session: those whose attendance was not taken were absent; those who attended
    gain the programme's skills (and, for onboarding, are no longer awaiting it)."""
    row, _ = await _load_for_change(session, who, session_id)
    if row.starts_at > now:
        raise SessionClosed(f"training session {row.id} begins at {row.starts_at.isoformat()}; it cannot be completed before")
    await session.execute(
        update(Enrolment).where(Enrolment.session_id == row.id, Enrolment.status == EnrolmentStatus.enrolled)
        .values(status=EnrolmentStatus.absent)
    )
    attended = list((await session.execute(
        select(Enrolment.staff_id).where(Enrolment.session_id == row.id, Enrolment.status == EnrolmentStatus.attended)
        .order_by(Enrolment.staff_id)
    )).scalars())
    skills = rules.PROGRAMMES[TrainingKind(row.kind)].skills
    for staff in (await session.execute(select(StaffMember).where(StaffMember.id.in_(attended)))).scalars():
        staff.skills = sorted(set(staff.skills) | set(skills))
    if row.kind == TrainingKind.onboarding:
        await session.execute(delete(OnboardingDue).where(OnboardingDue.staff_id.in_(attended)))
    row.status, row.updated_at = SessionStatus.completed, now
    event = TrainingCompleted(store_id=row.site_id, region_id=row.region_id, session_id=row.id, kind=TrainingKind(row.kind),
                              attended=attended, at=now)
    add_events(session, SCHEDULING, [event], now, subject=str(row.id))
    return row


async def cancel(session: AsyncSession, who: Principal, now: datetime, session_id: uuid.UUID) -> TrainingSession:
    """Cancels the session; its new hires are awaiting onboarding again."""
    row, _ = await _load_for_change(session, who, session_id)
    row.status, row.updated_at = SessionStatus.cancelled, now
    trainees = await _enrolled(session, row.id)
    if trainees:  # announced: the trainees and their managers learn it is off
        event = TrainingCancelled(store_id=row.site_id, region_id=row.region_id, session_id=row.id,
                                  kind=TrainingKind(row.kind), trainees=trainees, at=now)
        add_events(session, SCHEDULING, [event], now, subject=str(row.id))
    return row


# Reading


@dataclass(frozen=True)
class SessionFilters:
    site_id: str | None = None
    region_id: str | None = None
    kind: TrainingKind | None = None
    starts_from: datetime | None = None
    starts_before: datetime | None = None


def _own(who: Principal):
    """What of the training sessions a front-line person sees: those they train or are enrolled in."""
    enrolled = select(Enrolment.session_id).where(Enrolment.staff_id == who.sub)
    return or_(TrainingSession.trainer_id == who.sub, TrainingSession.id.in_(enrolled))


async def list_sessions(session: AsyncSession, who: Principal, filters: SessionFilters, limit: int) -> list[TrainingSession]:
    """Sessions in the caller's scope, earliest first: a front-line person sees their own."""
    who.require_scope(filters.region_id, filters.site_id)
    query = select(TrainingSession).order_by(TrainingSession.starts_at, TrainingSession.id).limit(limit)
    query = directory.in_scope(query, who, TrainingSession, _own(who), site_id=filters.site_id,
                               region_id=filters.region_id, kind=filters.kind)
    if filters.starts_from is not None:
        query = query.where(TrainingSession.starts_at >= filters.starts_from)
    if filters.starts_before is not None:
        query = query.where(TrainingSession.starts_at < filters.starts_before)
    return list((await session.execute(query)).scalars())


async def load_session(session: AsyncSession, who: Principal, session_id: uuid.UUID) -> TrainingSession:
    row = await session.get(TrainingSession, session_id)
    visible = row is not None and who.scope_error(row.region_id, row.site_id) is None and (
        who.role not in OWN_ONLY or row.trainer_id == who.sub or who.sub in await _enrolled(session, row.id)
    )
    if not visible:
        raise NotFound(f"no training session {session_id} in your scope")
    return row


async def attendees(session: AsyncSession, who: Principal, rows: Iterable[TrainingSession]) -> dict[uuid.UUID, list[Enrolment]]:
    """Each session's enrolments the caller may see: a trainee sees their own place only."""
    rows = list(rows)
    query = select(Enrolment).where(Enrolment.session_id.in_([row.id for row in rows])).order_by(Enrolment.staff_id)
    found: dict[uuid.UUID, list[Enrolment]] = {row.id: [] for row in rows}
    for enrolment in (await session.execute(query)).scalars():
        found[enrolment.session_id].append(enrolment)
    for row in rows:
        if who.role in OWN_ONLY and row.trainer_id != who.sub:
            found[row.id] = [enrolment for enrolment in found[row.id] if enrolment.staff_id == who.sub]
    return found


async def staff_training(session: AsyncSession, who: Principal, staff_id: str) -> list[TrainingRecord]:
    staff = await session.get(StaffMember, staff_id)
    if staff is None or not rules.sees_training(who, staff.id, staff.home_site_id, staff.region_id):
        raise NotFound(f"no staff member {staff_id} in your scope")
    return await training_history(session, staff.id)


# Onboarding


async def new_hire(session: AsyncSession, staff: StaffMember, now: datetime) -> None:
    """A staff member just added to the directory awaits onboarding, if they are a new hire; they are
    enrolled when an onboarding session is scheduled at their site during one of their shifts, or when
    a shift of theirs is published during one."""
    site = await session.get(Site, staff.home_site_id)
    await session.flush()  # the directory entry first, for the row below to refer to
    if rules.is_new_hire(staff.hire_date, now.astimezone(directory.zone_of(site)).date()):
        session.add(OnboardingDue(staff_id=staff.id, site_id=staff.home_site_id, since=now))


def _awaiting(site_ids: Iterable[str]):
    """Due new hires with no place in an onboarding session still to be held (one cancelled, or one
    they missed, leaves them awaiting it)."""
    placed = select(Enrolment.staff_id).join(TrainingSession, Enrolment.session_id == TrainingSession.id).where(
        TrainingSession.kind == TrainingKind.onboarding, TrainingSession.status == SessionStatus.scheduled
    )
    return select(OnboardingDue).where(OnboardingDue.site_id.in_(list(site_ids)), OnboardingDue.staff_id.not_in(placed)) \
        .order_by(OnboardingDue.since, OnboardingDue.staff_id)


async def awaiting_onboarding(session: AsyncSession, who: Principal, site_id: str | None,
                              region_id: str | None) -> list[OnboardingDue]:
    sites = await directory.sites_in_scope(session, who, site_id, region_id)
    return list((await session.execute(_awaiting(site.id for site in sites))).scalars())


async def _enrol_new_hires(session: AsyncSession, row: TrainingSession, site: Site, now: datetime) -> None:
    """Enrols the site's new hires awaiting onboarding who can join the session, longest waiting first,
    while there is room; the others keep waiting (and are listed as awaiting)."""
    for due in list((await session.execute(_awaiting([site.id]))).scalars()):
        if len(await _enrolled(session, row.id)) >= row.capacity:
            return
        if due.staff_id == row.trainer_id:
            continue
        try:
            await _enrol(session, row, site, [due.staff_id], now)
        except (rules.NotOnShift, rules.DoubleBooked):
            continue


async def enrol_new_hires_on_shift(session: AsyncSession, shifts: Iterable[ShiftRow], now: datetime) -> None:
    """A new hire awaiting onboarding whose shift is published joins the first onboarding session at the
    site during it that has room."""
    for shift in shifts:
        awaiting = _awaiting([shift.site_id]).where(OnboardingDue.staff_id == shift.staff_id)
        if (await session.execute(awaiting)).scalar_one_or_none() is None:
            continue
        held = await session.scalars(select(TrainingSession).where(
            TrainingSession.site_id == shift.site_id, TrainingSession.kind == TrainingKind.onboarding,
            TrainingSession.status == SessionStatus.scheduled, TrainingSession.starts_at >= max(shift.starts_at, now),
            TrainingSession.ends_at <= shift.ends_at, TrainingSession.trainer_id != shift.staff_id,
        ).order_by(TrainingSession.starts_at, TrainingSession.id))
        for row in list(held):
            if len(await _enrolled(session, row.id)) >= row.capacity:
                continue
            try:
                await _enrol(session, row, await session.get(Site, shift.site_id), [shift.staff_id], now)
            except (rules.NotOnShift, rules.DoubleBooked):
                continue
            await _announce(session, row, now)
            break


# The promotion calendar


@dataclass(frozen=True)
class PromotionSpec:
    name: str
    starts_on: date
    ends_on: date
    region_id: str | None


async def create_promotion(session: AsyncSession, who: Principal, now: datetime, training: TrainingRules,
                           spec: PromotionSpec) -> Promotion:
    if spec.region_id is None and who.role not in ADMINS:
        raise OutOfScope("only a senior manager or a service may run a chain-wide promotion; name your region")
    who.require_scope(spec.region_id)
    if spec.region_id is not None and await session.get(Region, spec.region_id) is None:
        raise InvalidField("region_id", f"unknown region {spec.region_id!r}")
    if spec.starts_on <= now.date():
        raise InvalidField("starts_on", f"must be after today ({now.date()}), so that the staff can be briefed before")
    promotion = Promotion(id=uuid.uuid4(), name=spec.name, region_id=spec.region_id, starts_on=spec.starts_on,
                          ends_on=spec.ends_on, created_by=who.sub, created_at=now)
    session.add(promotion)
    await session.flush()
    await plan_briefings(session, who, now, training, promotion)
    return promotion


async def replan_briefings(session: AsyncSession, who: Principal, now: datetime, training: TrainingRules,
                           promotion_id: uuid.UUID) -> Promotion:
    """Plans again the briefings of the sites that have none yet (their shifts may be published since)."""
    promotion = await load_promotion(session, who, promotion_id)
    if promotion.region_id is None and who.role not in ADMINS:
        raise OutOfScope("only a senior manager or a service may plan a chain-wide promotion's briefings")
    await plan_briefings(session, who, now, training, promotion)
    return promotion


async def plan_briefings(session: AsyncSession, who: Principal, now: datetime, training: TrainingRules,
                         promotion: Promotion) -> None:
    query = select(Site).order_by(Site.id)
    if promotion.region_id is not None:
        query = query.where(Site.region_id == promotion.region_id)
    for site in (await session.execute(query)).scalars():
        briefing = await session.get(PromotionBriefing, (promotion.id, site.id))
        if briefing is None:
            briefing = PromotionBriefing(promotion_id=promotion.id, site_id=site.id)
            session.add(briefing)
        if briefing.session_id is None:
            briefing.session_id, briefing.problem = await _brief(session, who, now, training, promotion, site)
    await session.flush()


async def _brief(session: AsyncSession, who: Principal, now: datetime, training: TrainingRules, promotion: Promotion,
                 site: Site) -> tuple[uuid.UUID | None, str | None]:
    """The site's briefing session, or why there is none."""
    zone, days = directory.zone_of(site), training.briefing_lookback_days
    window: Period = (datetime.combine(promotion.starts_on - timedelta(days=days), time(0), zone),
                      datetime.combine(promotion.starts_on, time(0), zone))
    rows = (await session.execute(
        select(ShiftRow).where(ShiftRow.site_id == site.id, ShiftRow.status == ShiftStatus.published,
                               ShiftRow.starts_at < window[1], ShiftRow.ends_at > window[0])
    )).scalars()
    shifts = [OnShift(row.staff_id, Tier(row.role), row.starts_at, row.ends_at) for row in rows]
    booked = await _bookings(session, sorted({shift.staff_id for shift in shifts}), *window)
    plan = rules.plan_briefing(
        starts_on=promotion.starts_on, zone=zone, shifts=shifts, now=now, length=training.briefing_length,
        lookback_days=days, busy={staff: [(b.starts_at, b.ends_at) for b in listed] for staff, listed in booked.items()},
    )
    if plan is None:
        return None, (f"no store manager is on a published shift with other staff at site {site.id} in the {days} days "
                      f"before {promotion.starts_on}")
    spec = SessionSpec(site.id, TrainingKind.promotions_briefing, plan.trainer, plan.starts_at, plan.ends_at,
                       len(plan.attendees), plan.attendees, promotion.id)
    row = await _create_session(session, site, who.sub, now, spec)
    await _announce(session, row, now)
    return row.id, None


async def load_promotion(session: AsyncSession, who: Principal, promotion_id: uuid.UUID) -> Promotion:
    promotion = await session.get(Promotion, promotion_id)
    if promotion is None or (promotion.region_id is not None and who.scope_error(promotion.region_id) is not None):
        raise NotFound(f"no promotion {promotion_id} in your scope")
    return promotion


async def list_promotions(session: AsyncSession, who: Principal, ends_from: date | None, limit: int) -> list[Promotion]:
    """The promotion calendar in the caller's scope (their region's and the chain's), earliest first."""
    query = select(Promotion).order_by(Promotion.starts_on, Promotion.id).limit(limit)
    if who.region_id is not None and who.role not in ADMINS:
        query = query.where(or_(Promotion.region_id.is_(None), Promotion.region_id == who.region_id))
    if ends_from is not None:
        query = query.where(Promotion.ends_on >= ends_from)
    return list((await session.execute(query)).scalars())


@dataclass(frozen=True)
class SiteBriefing:
    site_id: str
    session: TrainingSession | None
    attendees: list[str]
    problem: str | None


async def briefings(session: AsyncSession, who: Principal, promotion: Promotion) -> list[SiteBriefing]:
    """The promotion's briefing at each site the caller sees: its session and attendees, or why there is none."""
    sites = {site.id for site in await directory.sites_in_scope(session, who, None, promotion.region_id)}
    rows = (await session.execute(
        select(PromotionBriefing, TrainingSession).outerjoin(TrainingSession, PromotionBriefing.session_id == TrainingSession.id)
        .where(PromotionBriefing.promotion_id == promotion.id).order_by(PromotionBriefing.site_id)
    )).all()
    return [
        SiteBriefing(briefing.site_id, held, await _enrolled(session, held.id) if held else [], briefing.problem)
        for briefing, held in rows if briefing.site_id in sites
    ]


# De-escalation role-play


async def _draw_scenarios(session: AsyncSession, row: TrainingSession, now: datetime, training: TrainingRules) -> None:
    query = select(ComplaintFact).where(
        ComplaintFact.site_id == row.site_id, ComplaintFact.resolved_at >= now - training.role_play_source,
        ComplaintFact.category.is_not(None),  # its filing not seen (before this service kept complaints)
    ).order_by(ComplaintFact.resolved_at.desc()).limit(MAX_ITEMS)
    resolved = [
        rules.ResolvedComplaint(Category(c.category), Severity(c.severity), Mood(c.mood), Channel(c.channel),
                                Technique(c.technique), Outcome(c.outcome), c.resolved_at)
        for c in (await session.execute(query)).scalars()
    ]
    picked = rules.pick_scenarios(resolved, training.role_play_scenarios)
    if not picked:
        days = training.role_play_source.days
        raise InvalidField("kind", f"site {row.site_id} has no complaint resolved in the last {days} days to role-play")
    for number, complaint in enumerate(picked, start=1):
        session.add(Scenario(session_id=row.id, number=number, category=complaint.category, severity=complaint.severity,
                             mood=complaint.mood, channel=complaint.channel, technique=complaint.technique,
                             outcome=complaint.outcome))


async def scenarios(session: AsyncSession, who: Principal, session_id: uuid.UUID) -> tuple[list[Scenario], list[ScenarioAnswer]]:
    """The session's scenarios and the answers the caller may see: a trainee sees their own."""
    row = await load_session(session, who, session_id)
    listed = (await session.execute(select(Scenario).where(Scenario.session_id == row.id).order_by(Scenario.number))).scalars()
    answers = select(ScenarioAnswer).where(ScenarioAnswer.session_id == row.id) \
        .order_by(ScenarioAnswer.number, ScenarioAnswer.staff_id)
    if who.role in OWN_ONLY and row.trainer_id != who.sub:
        answers = answers.where(ScenarioAnswer.staff_id == who.sub)
    return list(listed), list((await session.execute(answers)).scalars())


async def answer(session: AsyncSession, who: Principal, now: datetime, session_id: uuid.UUID, number: int, staff_id: str,
                 technique: Technique, outcome: Outcome) -> ScenarioAnswer:
    """Records the trainee's chosen resolution of a scenario, by the trainee, the trainer or a manager of the site."""
    row = await load_session(session, who, session_id)
    if who.sub not in (staff_id, row.trainer_id) and who.role not in SCHEDULERS:
        raise OutOfScope("a trainee records their own answers; the trainer or a manager records anyone's")
    if row.status == SessionStatus.cancelled or row.starts_at > now:
        raise SessionClosed(f"training session {row.id} is not under way (it is {row.status}, from {row.starts_at.isoformat()})")
    if await session.get(Scenario, (row.id, number)) is None:
        raise NotFound(f"training session {row.id} has no scenario {number}")
    if staff_id not in await _enrolled(session, row.id):
        raise InvalidField("staff_id", f"{staff_id} is not enrolled in training session {row.id}", "path")
    chosen = await session.get(ScenarioAnswer, (row.id, number, staff_id)) or ScenarioAnswer(
        session_id=row.id, number=number, staff_id=staff_id)
    chosen.technique, chosen.outcome, chosen.answered_at = technique, outcome, now
    session.add(chosen)
    return chosen
