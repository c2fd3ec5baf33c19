"""Who gets a new complaint, by when, and whether someone is paged at once."""

from dataclasses import dataclass
from datetime import datetime

from services.escalation.domain.rules import TIERS, Rules
from services.shared.events.complaints import Category, ComplaintFiled
from services.shared.events.escalations import Assignee
from services.shared.events.fields import Tier
from services.shared.events.roster import OnDuty, RosterPublished

STORE_TIERS = {Tier.associate, Tier.coordinator, Tier.store_manager}


@dataclass(frozen=True)
class RoutingDecision:
    assignee: Assignee
    acknowledge_by: datetime
    resolve_by: datetime
    reason: str
    page: Assignee | None
    page_reason: str | None


def on_duty(roster: RosterPublished | None, tier: Tier, now: datetime, excluding: str | None = None) -> OnDuty | None:
    """The first person of the tier on duty at `now` (never `excluding`), by roster order."""
    if roster is None:
        return None
    return next(
        (
            shift for shift in roster.on_duty
            if shift.role == tier and shift.starts_at <= now < shift.ends_at and shift.staff_id != excluding
        ),
        None,
    )


def route(
    complaint: ComplaintFiled, roster: RosterPublished | None, rules: Rules, recent_by_customer: int, now: datetime
) -> RoutingDecision:
    """`recent_by_customer` counts this customer's complaints in the last 30 days, this one included."""
    reasons = [(rules.severity[complaint.severity], f"severity {complaint.severity}")]
    if complaint.mood in rules.mood:
        reasons.append((rules.mood[complaint.mood], f"mood {complaint.mood}"))
    if complaint.category in rules.category:
        reasons.append((rules.category[complaint.category], f"category {complaint.category}"))
    if (
        complaint.category is Category.return_refund_exchange
        and complaint.amount is not None
        and complaint.amount.minor_units > rules.refund_threshold_minor
    ):
        reasons.append((Tier.store_manager, f"refund over {rules.refund_threshold_minor / 100:.2f}"))
    if recent_by_customer >= rules.repeat_customer_count:
        reasons.append(
            (Tier.coordinator, f"{recent_by_customer} complaints by the customer in 30 days")
        )
    tier = max((tier for tier, _ in reasons), key=TIERS.index)
    why = [f"{reason} → {tier_}" for tier_, reason in reasons if tier_ == tier]
    person = on_duty(roster, tier, now, excluding=complaint.staff_involved) if tier in STORE_TIERS else None
    if tier in STORE_TIERS and person is None:
        why.append(f"no {tier} on duty: the region's coordinator")
        tier = Tier.regional_coordinator
    acknowledge_by, resolve_by = rules.sla[tier].deadlines(now)
    page, page_reason = _page(complaint, roster, rules, now)
    return RoutingDecision(
        assignee=Assignee(tier=tier, staff_id=person.staff_id if person else None),
        acknowledge_by=acknowledge_by,
        resolve_by=resolve_by,
        reason="; ".join(why),
        page=page,
        page_reason=page_reason,
    )


def _page(
    complaint: ComplaintFiled, roster: RosterPublished | None, rules: Rules, now: datetime
) -> tuple[Assignee | None, str | None]:
    triggers = []
    if complaint.severity in rules.page_severities:
        triggers.append(f"severity {complaint.severity}")
    if complaint.mood in rules.page_moods:
        triggers.append(f"mood {complaint.mood}")
    if not triggers:
        return None, None
    manager = on_duty(roster, Tier.store_manager, now, excluding=complaint.staff_involved)
    if manager is not None:
        return Assignee(tier=Tier.store_manager, staff_id=manager.staff_id), "; ".join(triggers)
    # A schedule's manager-level person of an hour is a store manager or a coordinator; a complaint
    # about the store manager on duty goes past the store, to the region.
    in_charge = on_duty(roster, Tier.coordinator, now, excluding=complaint.staff_involved)
    if in_charge is not None and on_duty(roster, Tier.store_manager, now) is None:
        reason = "; ".join([*triggers, "no store manager on duty: the coordinator in charge"])
        return Assignee(tier=Tier.coordinator, staff_id=in_charge.staff_id), reason
    return Assignee(tier=Tier.regional_coordinator), "; ".join([*triggers, "no store manager on duty"])
