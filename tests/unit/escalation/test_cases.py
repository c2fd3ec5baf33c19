"""A complaint's case: opened from its routing, then acknowledged, breached, resolved, reopened and finally
forgotten; stored as JSON in the worker's table."""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import services.escalation
from services.escalation.domain.cases import BreachMark, Case, PageMark
from services.escalation.domain.routing import route
from services.escalation.domain.rules import END_OF_TIME, Rules, load_rules
from services.escalation.domain.sla import Timer, check
from services.shared.events.complaints import ComplaintFiled
from services.shared.events.escalations import Assignee, DeadlineKind
from services.shared.events.fields import Tier
from services.shared.events.roster import RosterPublished

NOW = datetime(2026, 11, 23, 9, 15, tzinfo=UTC)  # when the complaint was routed
RULES = load_rules(Path(services.escalation.__file__).parent / "rules.toml").chain
PARTITION = 3
RESOLVED_KEPT = timedelta(days=7)  # how long a resolved case is kept, for a reopening

ASSOCIATE, COORDINATOR, MANAGER = "emp-1042", "coord-0003", "mgr-0007"
COMPLAINT_EXAMPLE = ComplaintFiled.model_config["json_schema_extra"]["examples"][0]
ROSTER_EXAMPLE = RosterPublished.model_config["json_schema_extra"]["examples"][0]


def roster(*people: tuple[str, Tier]) -> RosterPublished:
    shifts = [
        {"staff_id": staff_id, "role": role, "starts_at": NOW - timedelta(hours=1), "ends_at": NOW + timedelta(days=3)}
        for staff_id, role in people
    ]
    return RosterPublished.model_validate({**ROSTER_EXAMPLE, "on_duty": shifts})


FULL_STORE = roster((ASSOCIATE, Tier.associate), (COORDINATOR, Tier.coordinator), (MANAGER, Tier.store_manager))


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def complaint(**changes: Any) -> ComplaintFiled:
    """A calm, low-severity service complaint, which goes to the associate and pages nobody."""
    calm = {**COMPLAINT_EXAMPLE, "category": "service", "severity": "low", "mood": "calm", "amount": None}
    return ComplaintFiled.model_validate({**calm, **changes})


def opened(filed: ComplaintFiled | None = None, on_roster: RosterPublished | None = FULL_STORE) -> Case:
    filed = filed or complaint()
    return Case.opened(filed, route(filed, on_roster, RULES, 1, NOW), PARTITION, NOW)


def breached(case: Case, at: datetime | None = None, rules: Rules = RULES) -> Case:
    """The case after its next deadline passes, at that deadline unless `at` says later."""
    at = at or (case.acknowledge_by or case.resolve_by)
    breach = check(case.timer, rules, FULL_STORE, at)
    assert breach is not None, "no deadline had passed"
    return case.breached(breach, at)


# ---- opening -------------------------------------------------------------------------------------


def test_a_case_opens_with_the_complaint_and_its_routing():
    filed = complaint(severity="high", channel="web")
    decision = route(filed, FULL_STORE, RULES, 1, NOW)
    case = Case.opened(filed, decision, PARTITION, NOW)
    assert (case.complaint_id, case.store_id, case.region_id) == (filed.complaint_id, "hel-kamppi", "uusimaa")
    assert (case.category, case.severity, case.mood, case.channel) == ("service", "high", "calm", "web")
    assert case.filed_at == filed.filed_at
    assert case.assignee == Assignee(tier=Tier.coordinator, staff_id=COORDINATOR)
    assert case.reason == "severity high → coordinator"
    assert case.timer == Timer(case.assignee, NOW + minutes(15), NOW + minutes(240))
    assert case.partition == PARTITION
    assert case.open
    assert (case.acknowledged_at, case.breaches, case.pages) == (None, (), ())


@pytest.mark.parametrize(
    ("on_roster", "recipient", "reason"),
    [
        (FULL_STORE, Assignee(tier=Tier.store_manager, staff_id=MANAGER), "severity critical"),
        (None, Assignee(tier=Tier.regional_coordinator), "severity critical; no store manager on duty"),
    ],
    ids=["manager on duty", "nobody on duty"],
)
def test_a_case_opened_with_a_page_records_who_was_paged_and_why(on_roster, recipient, reason):
    case = opened(complaint(severity="critical"), on_roster)
    assert case.pages == (PageMark(recipient=recipient, reason=reason, at=NOW),)


def test_a_case_keeps_the_staff_member_it_is_about_out_of_its_escalations():
    case = opened(complaint(category="staff_conduct", severity="high", staff_involved=MANAGER))
    assert case.timer.staff_involved == MANAGER
    assert breached(case).assignee == Assignee(tier=Tier.regional_coordinator)


# ---- acknowledgement and resolution --------------------------------------------------------------


def test_acknowledging_stops_only_the_acknowledge_deadline():
    case = opened()
    deadline = case.acknowledge_by
    acknowledged = case.acknowledged(NOW + minutes(5))
    assert acknowledged.acknowledged_at == NOW + minutes(5)
    assert acknowledged.timer == Timer(case.assignee, None, case.resolve_by)
    assert check(acknowledged.timer, RULES, FULL_STORE, deadline) is None
    assert check(acknowledged.timer, RULES, FULL_STORE, case.resolve_by).kind == DeadlineKind.resolve


def test_acknowledging_again_keeps_the_first_acknowledgement():
    once = opened().acknowledged(NOW + minutes(5))
    assert once.acknowledged(NOW + minutes(9)) == once


def test_a_resolved_case_is_no_longer_open():
    case = opened().acknowledged(NOW + minutes(5)).resolved(NOW + minutes(30))
    assert not case.open
    assert case.resolved_at == NOW + minutes(30)


def test_a_reopened_case_is_open_and_unacknowledged_with_fresh_deadlines_at_its_tier():
    case = breached(opened().acknowledged(NOW + minutes(5)))  # raised to the coordinator on the resolve deadline
    reopen_at = NOW + timedelta(days=2)
    reopened = case.resolved(NOW + timedelta(days=1)).reopened(RULES, reopen_at)
    assert reopened.open
    assert reopened.acknowledged_at is None
    assert reopened.assignee == Assignee(tier=Tier.coordinator, staff_id=COORDINATOR)
    assert (reopened.acknowledge_by, reopened.resolve_by) == (reopen_at + minutes(15), reopen_at + minutes(240))
    assert reopened.breaches == case.breaches


def test_a_reopened_case_gets_the_deadlines_of_the_rules_given():
    quick = RULES.sla[Tier.store_manager].model_copy(update={"acknowledge_minutes": 2, "resolve_minutes": 20})
    rules = RULES.model_copy(update={"sla": {**RULES.sla, Tier.store_manager: quick}})
    case = opened(complaint(severity="critical")).resolved(NOW + minutes(30))
    reopened = case.reopened(rules, NOW + minutes(60))
    assert (reopened.acknowledge_by, reopened.resolve_by) == (NOW + minutes(62), NOW + minutes(80))


def test_a_reopened_case_can_be_acknowledged_again():
    case = opened().acknowledged(NOW + minutes(5)).resolved(NOW + minutes(30)).reopened(RULES, NOW + minutes(60))
    again = case.acknowledged(NOW + minutes(61))
    assert (again.acknowledged_at, again.acknowledge_by) == (NOW + minutes(61), None)


# ---- breaches ------------------------------------------------------------------------------------


def test_a_breach_moves_the_case_up_a_tier_with_new_deadlines_and_marks_it():
    case = opened()
    late = case.acknowledge_by + minutes(1)
    breach = check(case.timer, RULES, FULL_STORE, late)
    moved = case.breached(breach, late)
    assert moved.timer == breach.timer
    assert moved.assignee == Assignee(tier=Tier.coordinator, staff_id=COORDINATOR)
    assert moved.reason == "acknowledge deadline passed at tier associate"
    assert moved.breaches == (
        BreachMark(kind=DeadlineKind.acknowledge, tier=Tier.associate, deadline=case.acknowledge_by, at=late),
    )
    assert check(moved.timer, RULES, FULL_STORE, late) is None


def test_each_breach_adds_its_mark():
    twice = breached(breached(opened()))
    assert [(mark.kind, mark.tier) for mark in twice.breaches] == [
        (DeadlineKind.acknowledge, Tier.associate),
        (DeadlineKind.acknowledge, Tier.coordinator),
    ]
    assert twice.assignee == Assignee(tier=Tier.store_manager, staff_id=MANAGER)


def test_an_acknowledged_case_stays_acknowledged_when_it_breaches_its_resolve_deadline():
    case = breached(opened().acknowledged(NOW + minutes(5)))
    assert case.breaches[0].kind == DeadlineKind.resolve
    assert (case.acknowledge_by, case.acknowledged_at) == (None, NOW + minutes(5))


# ---- forgetting ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "after", "expired"),
    [
        (opened(), timedelta(days=30), False),
        (opened().resolved(NOW), RESOLVED_KEPT, False),
        (opened().resolved(NOW), RESOLVED_KEPT + timedelta(microseconds=1), True),
        (opened().resolved(NOW).reopened(RULES, NOW), timedelta(days=30), False),
    ],
    ids=["open", "resolved just long enough", "resolved longer", "reopened"],
)
def test_a_case_is_forgotten_only_when_resolved_longer_than_it_is_kept(case, after, expired):
    assert case.expired(NOW + after, RESOLVED_KEPT) is expired


def test_a_case_resolved_at_the_end_of_time_is_kept_to_the_end_of_time():
    resolved = opened().resolved(END_OF_TIME - timedelta(days=1))
    assert resolved.next_due(RESOLVED_KEPT) == END_OF_TIME
    assert not resolved.expired(END_OF_TIME, RESOLVED_KEPT)


# ---- stored as JSON ------------------------------------------------------------------------------


def test_a_case_stored_as_json_is_the_same_case_and_breaches_the_same():
    filed = complaint(category="staff_conduct", severity="critical", staff_involved=COORDINATOR)
    case = breached(opened(filed).acknowledged(NOW + minutes(5)))
    stored = Case.model_validate_json(case.model_dump_json())
    assert stored == case
    assert stored.pages and stored.breaches and stored.staff_involved == COORDINATOR
    later = case.resolve_by
    assert check(stored.timer, RULES, FULL_STORE, later) == check(case.timer, RULES, FULL_STORE, later)
