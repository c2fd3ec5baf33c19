"""SLA timers: a complaint not acknowledged or not resolved by its deadline moves up one tier."""

from dataclasses import dataclass, replace
from datetime import datetime

from services.escalation.domain.rules import TIERS, Rules
from services.escalation.domain.routing import STORE_TIERS, on_duty
from services.shared.events.escalations import Assignee, DeadlineKind
from services.shared.events.fields import Tier
from services.shared.events.roster import RosterPublished


@dataclass(frozen=True)
class Timer:
    """An open escalation's deadlines. `acknowledge_by` is None once acknowledged."""

    assignee: Assignee
    acknowledge_by: datetime | None
    resolve_by: datetime
    staff_involved: str | None = None  # never the assignee


@dataclass(frozen=True)
class Breach:
    kind: DeadlineKind
    deadline: datetime
    from_tier: Tier
    timer: Timer  # the timer after the move
    reason: str


def acknowledged(timer: Timer) -> Timer:
    return replace(timer, acknowledge_by=None)


def check(timer: Timer, rules: Rules, roster: RosterPublished | None, now: datetime) -> Breach | None:
    """The breach due at `now`, if any, with the timer moved one tier up and given that tier's
    deadlines from now (the top tier stays, with fresh deadlines, so a breach there is reported
    again when they pass)."""
    if timer.acknowledge_by is not None and now >= timer.acknowledge_by:
        kind, deadline = DeadlineKind.acknowledge, timer.acknowledge_by
    elif now >= timer.resolve_by:
        kind, deadline = DeadlineKind.resolve, timer.resolve_by
    else:
        return None
    current = timer.assignee.tier
    tier = TIERS[min(TIERS.index(current) + 1, len(TIERS) - 1)]
    person = on_duty(roster, tier, now, excluding=timer.staff_involved) if tier in STORE_TIERS else None
    if tier in STORE_TIERS and person is None:
        tier = Tier.regional_coordinator if TIERS.index(current) < TIERS.index(Tier.regional_coordinator) else current
    acknowledge_by, resolve_by = rules.sla[tier].deadlines(now)
    moved = Timer(
        assignee=Assignee(tier=tier, staff_id=person.staff_id if person else None),
        acknowledge_by=None if timer.acknowledge_by is None else acknowledge_by,
        resolve_by=resolve_by,
        staff_involved=timer.staff_involved,
    )
    return Breach(kind, deadline, current, moved, f"{kind} deadline passed at tier {current}")
