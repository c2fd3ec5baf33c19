"""Training: the programmes and the skills they grant, who may join a training session (inside their
shift at the site, not booked elsewhere, while there is room), what each person's training came to,
when a promotion's briefing is held at a site, and which of a site's resolved complaints a
de-escalation role-play plays.

Onboarding grants no skill: it introduces a new hire to the site, its people and its policies. The
skills on a directory entry are what the schedule solver relies on (a register skill covered every
open hour), so they come only from the programme that teaches and practises them."""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from uuid import UUID
from zoneinfo import ZoneInfo

from services.scheduling.domain.access import ADMINS
from services.shared.errors import Conflict, InvalidField
from services.shared.events.complaints import Category, Channel, Mood, Outcome, Severity, Technique
from services.shared.events.fields import Tier
from services.shared.events.scheduling import TrainingKind
from services.shared.principal import REGION_ROLES, Principal, Role

Period = tuple[datetime, datetime]  # [start, end), aware


@dataclass(frozen=True)
class Programme:
    kind: TrainingKind
    title: str
    skills: tuple[str, ...]  # added to an attendee's directory entry when the session is completed
    about: str


PROGRAMMES: dict[TrainingKind, Programme] = {
    programme.kind: programme
    for programme in (
        Programme(TrainingKind.onboarding, "Onboarding", (),
                  "A new hire's introduction to the site, its people and its policies; new hires are enrolled automatically."),
        Programme(TrainingKind.register, "Register operations",
                  ("register_cash", "register_credit", "register_debit", "register_gift_card"),
                  "Cash, credit, debit and gift-card purchases, handled quickly and correctly."),
        Programme(TrainingKind.returns, "Returns and exchanges", ("returns_exchanges",),
                  "Returns, refunds and exchanges: their limits, exceptions and paperwork."),
        Programme(TrainingKind.de_escalation_role_play, "De-escalation role-play", ("de_escalation",),
                  "Scenarios from the site's own resolved complaints: defuse, isolate the core problem, address the "
                  "concerns; each trainee's chosen resolution is set against what resolved it."),
        Programme(TrainingKind.promotions_briefing, "Promotions and cross-selling briefing", ("promotions",),
                  "A promotion's offers and how to cross-sell them, before it starts."),
    )
}
# Added to the directory later than this after their hire date, a person is staff being brought into
# the system, not a new hire (rule data, not a setting: the directory has no settings to pass).
NEW_HIRE_WITHIN = timedelta(days=30)
TRAINER_TIERS = frozenset({Tier.coordinator, Tier.store_manager, Tier.regional_coordinator})
BRIEFED_TIERS = frozenset({Tier.associate, Tier.coordinator, Tier.store_manager})  # a site's own staff


class SessionStatus(StrEnum):
    scheduled = "scheduled"
    completed = "completed"
    cancelled = "cancelled"


class EnrolmentStatus(StrEnum):
    enrolled = "enrolled"
    attended = "attended"
    absent = "absent"


class TrainingStatus(StrEnum):
    """Where a person's place in a training session stands."""

    enrolled = "enrolled"
    attended = "attended"
    completed = "completed"
    absent = "absent"
    cancelled = "cancelled"


@dataclass(frozen=True)
class TrainingRecord:
    """One training session of a staff member's, as their development record shows it."""

    session_id: UUID
    kind: TrainingKind
    site_id: str
    starts_at: datetime
    ends_at: datetime
    status: TrainingStatus


def is_new_hire(hire_date: date, added_on: date) -> bool:
    return added_on - hire_date <= NEW_HIRE_WITHIN


def training_status(session: SessionStatus, enrolment: EnrolmentStatus) -> TrainingStatus:
    """A completed session is completed for those who attended and absent for the rest."""
    if session is SessionStatus.cancelled:
        return TrainingStatus.cancelled
    if session is SessionStatus.completed:
        return TrainingStatus.completed if enrolment is EnrolmentStatus.attended else TrainingStatus.absent
    return TrainingStatus(enrolment.value)


class BadSessionTimes(InvalidField):
    pass


class NotOnShift(InvalidField):
    def __init__(self, field: str, staff_id: str, site_id: str, start: datetime, end: datetime, zone: ZoneInfo) -> None:
        local = f"{start.astimezone(zone):%a %Y-%m-%d %H:%M}–{end.astimezone(zone):%H:%M} ({zone.key})"
        super().__init__(field, f"staff member {staff_id!r} has no published shift at site {site_id} covering {local}")


class NotATrainer(InvalidField):
    def __init__(self, staff_id: str, tier: Tier) -> None:
        allowed = ", ".join(sorted(TRAINER_TIERS))
        super().__init__("trainer", f"staff member {staff_id!r} works as {tier}; a trainer is one of {allowed}")


class DoubleBooked(Conflict):
    def __init__(self, staff_id: str, other: "Booking") -> None:
        super().__init__(
            f"staff member {staff_id!r} is already in training session {other.session_id} from "
            f"{other.starts_at.isoformat()} to {other.ends_at.isoformat()}"
        )


class SessionFull(Conflict):
    def __init__(self, session_id: UUID, capacity: int, enrolled: int, asked: int) -> None:
        super().__init__(
            f"training session {session_id} is full: capacity {capacity}, {enrolled} enrolled, {asked} more asked"
        )


class SessionClosed(Conflict):
    pass


@dataclass(frozen=True)
class OnShift:
    """A published shift of a staff member's at a site, in the tier they work."""

    staff_id: str
    tier: Tier
    starts_at: datetime
    ends_at: datetime

    def covers(self, start: datetime, end: datetime) -> bool:
        return self.starts_at <= start and end <= self.ends_at


@dataclass(frozen=True)
class Booking:
    """A staff member's place in a training session that is not cancelled, as trainer or trainee."""

    session_id: UUID
    starts_at: datetime
    ends_at: datetime

    def overlaps(self, start: datetime, end: datetime) -> bool:
        return self.starts_at < end and start < self.ends_at


def check_session_times(start: datetime, end: datetime, now: datetime) -> None:
    if end <= start:
        raise BadSessionTimes("ends_at", "must be after starts_at")
    if start <= now:
        raise BadSessionTimes("starts_at", f"is not in the future (now {now.isoformat()})")


def check_place(*, field: str, staff_id: str, site_id: str, zone: ZoneInfo, start: datetime, end: datetime,
                shifts: Iterable[OnShift], bookings: Iterable[Booking]) -> None:
    """A person takes part in a session (as trainer or trainee) only inside one of their published
    shifts at its site, and only when no other session of theirs overlaps it."""
    if not any(shift.covers(start, end) for shift in shifts):
        raise NotOnShift(field, staff_id, site_id, start, end, zone)
    for other in bookings:
        if other.overlaps(start, end):
            raise DoubleBooked(staff_id, other)


def check_room(session_id: UUID, capacity: int, enrolled: int, asked: int) -> None:
    if enrolled + asked > capacity:
        raise SessionFull(session_id, capacity, enrolled, asked)


def sees_training(who: Principal, staff_id: str, site_id: str, region_id: str) -> bool:
    """A person's training: themselves, their site's manager, their region's coordinators, and the
    chain-wide roles."""
    if who.sub == staff_id:
        return True
    if who.role is Role.store_manager:
        return who.store_id == site_id
    if who.role in REGION_ROLES:
        return who.region_id == region_id
    return who.role in ADMINS


@dataclass(frozen=True)
class Briefing:
    """A promotion's briefing at a site: when, held by which manager, for whom."""

    starts_at: datetime
    ends_at: datetime
    trainer: str
    attendees: tuple[str, ...]


def plan_briefing(*, starts_on: date, zone: ZoneInfo, shifts: Sequence[OnShift], busy: Mapping[str, Sequence[Period]],
                  now: datetime, length: timedelta, lookback_days: int) -> Briefing | None:
    """The briefing on the last day before the promotion starts (looking back `lookback_days`) on
    which a store manager is on shift with other staff: at the start of a shift that day, the time
    when most of the site's staff are on shift with a manager; ties go to the earlier time. Nobody
    already in another training session then is counted. None: no such day."""
    for back in range(1, lookback_days + 1):
        day = starts_on - timedelta(days=back)
        opens = datetime.combine(day, time(0), zone)
        closes = datetime.combine(day + timedelta(days=1), time(0), zone)
        best: Briefing | None = None
        for start in sorted({shift.starts_at for shift in shifts if opens <= shift.starts_at < closes and shift.starts_at > now}):
            end = start + length
            free = [shift for shift in shifts if shift.covers(start, end) and shift.tier in BRIEFED_TIERS
                    and not any(begins < end and start < ends for begins, ends in busy.get(shift.staff_id, ()))]
            hosts = sorted(shift.staff_id for shift in free if shift.tier is Tier.store_manager)
            if not hosts:
                continue
            attendees = tuple(sorted({shift.staff_id for shift in free} - {hosts[0]}))
            if attendees and (best is None or len(attendees) > len(best.attendees)):
                best = Briefing(start, end, hosts[0], attendees)
        if best is not None:
            return best
    return None


MOOD_HARDNESS = {Mood.hostile: 3, Mood.angry: 2, Mood.upset: 1, Mood.calm: 0}
SEVERITY_WEIGHT = {Severity.critical: 3, Severity.high: 2, Severity.medium: 1, Severity.low: 0}


@dataclass(frozen=True)
class ResolvedComplaint:
    """What role-play keeps of a site's resolved complaint: no customer, no staff, no text."""

    category: Category
    severity: Severity
    mood: Mood
    channel: Channel
    technique: Technique
    outcome: Outcome
    resolved_at: datetime


def pick_scenarios(resolved: Iterable[ResolvedComplaint], count: int) -> list[ResolvedComplaint]:
    """The hardest of the site's resolved complaints first (mood, then severity, then the latest),
    one per kind of situation (category, mood, severity, channel), at most `count`."""
    picked: dict[tuple, ResolvedComplaint] = {}
    for complaint in sorted(
        resolved, key=lambda c: (MOOD_HARDNESS[c.mood], SEVERITY_WEIGHT[c.severity], c.resolved_at), reverse=True
    ):
        picked.setdefault((complaint.category, complaint.mood, complaint.severity, complaint.channel), complaint)
        if len(picked) == count:
            break
    return list(picked.values())
