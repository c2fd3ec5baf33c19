"""Who sees and writes a staff member's coaching notes and development record, and how ready they are
for the next step of the career path (associate → coordinator → store manager → regional
coordinator), criterion by criterion, so that managers can promote from within."""

from dataclasses import dataclass
from datetime import date

from services.shared.events.scheduling import TrainingKind
from services.shared.principal import REGION_ROLES, Principal, Role

COACHES = frozenset({Role.coordinator, Role.store_manager, Role.regional_coordinator, Role.senior_manager})
NEXT_STEP = {
    Role.associate: Role.coordinator,
    Role.call_centre_agent: Role.coordinator,
    Role.coordinator: Role.store_manager,
    Role.store_manager: Role.regional_coordinator,
}
_FRONT_LINE_TRAINING = frozenset({TrainingKind.onboarding, TrainingKind.register, TrainingKind.returns,
                                  TrainingKind.de_escalation_role_play})


@dataclass(frozen=True)
class Requirements:
    """What a step up asks for; CSAT counts only from `csat_responses` answers up."""

    tenure_months: int
    training: frozenset[TrainingKind]
    complaints_resolved: int
    csat_responses: int
    average_csat: float
    coaching_notes: int


REQUIREMENTS = {
    Role.coordinator: Requirements(12, _FRONT_LINE_TRAINING, 50, 10, 4.0, 2),
    Role.store_manager: Requirements(24, _FRONT_LINE_TRAINING | {TrainingKind.promotions_briefing}, 150, 30, 4.2, 4),
    Role.regional_coordinator: Requirements(36, frozenset(TrainingKind), 300, 60, 4.3, 6),
}


def sees_development(who: Principal, staff_id: str, site_id: str, region_id: str) -> bool:
    """Notes and the development record: the person, their site's manager, their region's coordinators
    and senior managers; nobody else, since a note judges a person."""
    if who.sub == staff_id or who.role is Role.senior_manager:
        return True
    if who.role is Role.store_manager:
        return who.store_id == site_id
    return who.role in REGION_ROLES and who.region_id == region_id


def may_coach(who: Principal, staff_id: str, site_id: str, region_id: str) -> bool:
    return who.role in COACHES and who.sub != staff_id and sees_development(who, staff_id, site_id, region_id)


@dataclass(frozen=True)
class Progress:
    hired: date
    training_completed: frozenset[str]
    complaints_resolved: int
    csat_scores: tuple[int, ...]
    coaching_notes: int

    @property
    def average_csat(self) -> float | None:
        return round(sum(self.csat_scores) / len(self.csat_scores), 2) if self.csat_scores else None


@dataclass(frozen=True)
class Criterion:
    name: str
    met: bool
    required: float | list[str]
    actual: float | list[str] | None


@dataclass(frozen=True)
class Readiness:
    role: Role
    next_role: Role | None  # None: the top of the path, or a role off it
    criteria: tuple[Criterion, ...]

    @property
    def ready(self) -> bool:
        return self.next_role is not None and all(criterion.met for criterion in self.criteria)


def tenure_months(hired: date, today: date) -> int:
    """Whole months from the hire date; none before it."""
    return max(0, (today.year - hired.year) * 12 + today.month - hired.month - (today.day < hired.day))


def readiness(role: Role, progress: Progress, today: date) -> Readiness:
    next_role = NEXT_STEP.get(role)
    if next_role is None:
        return Readiness(role, None, ())
    needs = REQUIREMENTS[next_role]
    tenure = tenure_months(progress.hired, today)
    average = progress.average_csat
    return Readiness(role, next_role, (
        Criterion("tenure_months", tenure >= needs.tenure_months, needs.tenure_months, tenure),
        Criterion("training_completed", needs.training <= progress.training_completed, sorted(needs.training),
                  sorted(progress.training_completed)),
        Criterion("complaints_resolved", progress.complaints_resolved >= needs.complaints_resolved,
                  needs.complaints_resolved, progress.complaints_resolved),
        Criterion("csat_responses", len(progress.csat_scores) >= needs.csat_responses, needs.csat_responses,
                  len(progress.csat_scores)),
        Criterion("average_csat", average is not None and len(progress.csat_scores) >= needs.csat_responses
                  and average >= needs.average_csat, needs.average_csat, average),
        Criterion("coaching_notes", progress.coaching_notes >= needs.coaching_notes, needs.coaching_notes,
                  progress.coaching_notes),
    ))
