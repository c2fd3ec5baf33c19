"""Whom an event tells, and of what: the person an escalation names (or whoever of its tier is on duty
when it names nobody), senior management of a policy proposal, the region's regional coordinators of
its decision, the site's store manager on duty of a training proposal, and the people of a training
session. Pure: who is on duty and who belongs to a group are found when the notice is sent."""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from services.notifications.domain.messages import Kind, utc
from services.shared.events.coordination import PolicyDecided, PolicyProposed
from services.shared.events.escalations import (
    Assignee, EscalationPaged, EscalationRaised, EscalationReopened, EscalationRouted,
)
from services.shared.events.fields import Tier
from services.shared.events.scheduling import (
    TrainingCancelled,
    TrainingCause,
    TrainingKind,
    TrainingProposed,
    TrainingScheduled,
)
from services.shared.principal import Role

GROUPS = frozenset({Role.senior_manager, Role.regional_coordinator})  # chain-wide; in the notice's region

TRAINING = {
    TrainingKind.onboarding: "onboarding",
    TrainingKind.register: "register",
    TrainingKind.returns: "returns",
    TrainingKind.de_escalation_role_play: "de-escalation role-play",
    TrainingKind.promotions_briefing: "promotions briefing",
}
CAUSES = {
    TrainingCause.register_complaints: "billing and register complaints above the site's usual rate",
    TrainingCause.hostile_escalations: "escalations of angry or hostile customers",
    TrainingCause.common_problem: "a common problem across the region's stores",
}


@dataclass(frozen=True)
class Addressee:
    staff_id: str | None = None  # the person; None: see tier / group
    tier: Tier | None = None  # with staff_id: the tier the person is told as; without: whoever of the tier is
    # on duty at the store (else the region's on-duty regional coordinator)
    group: Role | None = None  # everyone of this role (senior_manager: chain-wide; regional_coordinator: in
    # the region), expanded when sent

    def __post_init__(self) -> None:
        if self.group is not None and (self.staff_id is not None or self.tier is not None):
            raise ValueError("an addressee is a person, a tier on duty or a group, not several")
        if self.group is not None and self.group not in GROUPS:
            raise ValueError(f"no group of role {self.group}: only {', '.join(sorted(GROUPS))}")
        if self.staff_id is None and self.tier is None and self.group is None:
            raise ValueError("an addressee names a person, a tier on duty or a group")


@dataclass(frozen=True)
class Notice:
    kind: Kind
    store_id: str | None
    region_id: str
    complaint_id: UUID | None
    about: str  # ≤ 500 chars: the escalation's reason, the proposal's title, "returns training on …", ...
    at: datetime  # when it happened, per the event (a scheduled training: when it starts)
    addressees: tuple[Addressee, ...]  # de-duplicated, in a stable order


def notice(event: object) -> Notice | None:
    """What an event from the escalations, coordination or scheduling topics tells whom; None for events
    no one is told of."""
    match event:
        case EscalationPaged():
            return _escalation(Kind.page, event, event.recipient)
        case EscalationRaised():
            return _escalation(Kind.tier_raise, event, event.assignee)
        case EscalationRouted() | EscalationReopened():  # a reopened complaint is back with its assignee
            return _escalation(Kind.assignment, event, event.assignee)
        case PolicyProposed():
            return Notice(Kind.policy_proposed, None, event.region_id, None, event.title, event.at,
                          (Addressee(group=Role.senior_manager),))
        case PolicyDecided():
            return Notice(Kind.policy_decided, None, event.region_id, None,
                          f"proposal {event.proposal_id} {event.decision}", event.at,
                          (Addressee(group=Role.regional_coordinator),))
        case TrainingProposed():
            about = f"{TRAINING[event.kind]} training for {CAUSES[event.cause]} ({event.cause_ref})"
            return Notice(Kind.training_proposed, event.store_id, event.region_id, None, about, event.at,
                          (Addressee(tier=Tier.store_manager),))
        case TrainingScheduled():
            about = f"{TRAINING[event.kind]} training on {utc(event.starts_at)}"
            return _training(Kind.training_scheduled, event, about, event.starts_at, [event.trainer, *event.trainees])
        case TrainingCancelled():
            about = f"{TRAINING[event.kind]} training, session {event.session_id}"
            return _training(Kind.training_cancelled, event, about, event.at, event.trainees)
    return None


def _escalation(kind: Kind, event: EscalationPaged | EscalationRaised | EscalationRouted | EscalationReopened,
                to: Assignee) -> Notice:
    return Notice(kind, event.store_id, event.region_id, event.complaint_id, event.reason, event.at,
                  (Addressee(staff_id=to.staff_id, tier=to.tier),))


def _training(kind: Kind, event: TrainingScheduled | TrainingCancelled, about: str, at: datetime,
              people: list[str]) -> Notice | None:
    if not people:
        return None
    addressees = tuple(Addressee(staff_id=staff_id) for staff_id in dict.fromkeys(people))
    return Notice(kind, event.store_id, event.region_id, None, about, at, addressees)
