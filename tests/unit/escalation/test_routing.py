"""Routing a new complaint, rule by rule: tier, on-duty assignee, deadlines, reason and paging."""

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

import services.escalation
from services.escalation.domain.routing import RoutingDecision, on_duty, route
from services.escalation.domain.rules import Rules, load_rules
from services.shared.events.complaints import Category, ComplaintFiled, Mood, Severity
from services.shared.events.escalations import Assignee, EscalationPaged, EscalationRouted
from services.shared.events.fields import Tier
from services.shared.events.roster import RosterPublished

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
BOOK = load_rules(Path(services.escalation.__file__).parent / "rules.toml")
RULES = BOOK.chain  # 20000 cents refund threshold, 3 complaints in 30 days
UUSIMAA = BOOK.for_region("uusimaa")  # 30000 cents refund threshold

ASSOCIATE, COORDINATOR, MANAGER = "emp-1042", "coord-0003", "mgr-0007"
REGIONAL = Assignee(tier=Tier.regional_coordinator)

COMPLAINT_EXAMPLE = ComplaintFiled.model_config["json_schema_extra"]["examples"][0]
ROSTER_EXAMPLE = RosterPublished.model_config["json_schema_extra"]["examples"][0]


def complaint(**changes: Any) -> ComplaintFiled:
    """A calm, low-severity service complaint that only the severity rule matches; each test changes what
    it is about."""
    calm = {
        **COMPLAINT_EXAMPLE,
        "category": "service",
        "severity": "low",
        "mood": "calm",
        "amount": None,
        "staff_involved": None,
    }
    return ComplaintFiled.model_validate({**calm, **changes})


def refund(minor_units: int, **changes: Any) -> ComplaintFiled:
    amount = {"minor_units": minor_units, "currency": "EUR"}
    return complaint(category="return_refund_exchange", amount=amount, **changes)


def shift(
    staff_id: str,
    role: Tier,
    starts_at: datetime = NOW - timedelta(hours=4),
    ends_at: datetime = NOW + timedelta(hours=4),
) -> dict:
    return {"staff_id": staff_id, "role": role, "starts_at": starts_at, "ends_at": ends_at}


def roster(*shifts: dict) -> RosterPublished:
    return RosterPublished.model_validate({**ROSTER_EXAMPLE, "on_duty": list(shifts)})


FULL_STORE = roster(
    shift(ASSOCIATE, Tier.associate), shift(COORDINATOR, Tier.coordinator), shift(MANAGER, Tier.store_manager)
)
NOBODY = roster()


def decide(
    filed: ComplaintFiled, on_roster: RosterPublished | None = FULL_STORE, rules: Rules = RULES, recent: int = 1
) -> RoutingDecision:
    return route(filed, on_roster, rules, recent, NOW)


def test_the_example_complaint_goes_to_the_store_manager_for_the_angry_customer():
    filed = ComplaintFiled.model_validate(COMPLAINT_EXAMPLE)
    assert decide(filed) == RoutingDecision(
        assignee=Assignee(tier=Tier.store_manager, staff_id=MANAGER),
        acknowledge_by=NOW + timedelta(minutes=10),
        resolve_by=NOW + timedelta(minutes=180),
        reason="mood angry → store_manager",
        page=None,
        page_reason=None,
    )


# ---- severity -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("severity", "tier", "staff_id"),
    [
        (Severity.low, Tier.associate, ASSOCIATE),
        (Severity.medium, Tier.associate, ASSOCIATE),
        (Severity.high, Tier.coordinator, COORDINATOR),
        (Severity.critical, Tier.store_manager, MANAGER),
    ],
)
def test_severity_alone_sets_the_tier(severity, tier, staff_id):
    decision = decide(complaint(severity=severity))
    assert decision.assignee == Assignee(tier=tier, staff_id=staff_id)
    assert decision.reason == f"severity {severity} → {tier}"


def test_the_severity_tiers_come_from_the_rules():
    rules = RULES.model_copy(update={"severity": {**RULES.severity, Severity.low: Tier.coordinator}})
    decision = decide(complaint(severity="low"), rules=rules)
    assert decision.assignee == Assignee(tier=Tier.coordinator, staff_id=COORDINATOR)


# ---- mood -----------------------------------------------------------------------------------


@pytest.mark.parametrize("mood", [Mood.angry, Mood.hostile])
def test_an_angry_or_hostile_customer_goes_to_the_store_manager(mood):
    decision = decide(complaint(mood=mood))
    assert decision.assignee == Assignee(tier=Tier.store_manager, staff_id=MANAGER)
    assert decision.reason == f"mood {mood} → store_manager"


@pytest.mark.parametrize("mood", [Mood.calm, Mood.upset])
def test_a_calm_or_upset_customer_leaves_the_tier_to_the_other_rules(mood):
    decision = decide(complaint(mood=mood))
    assert decision.assignee == Assignee(tier=Tier.associate, staff_id=ASSOCIATE)
    assert "mood" not in decision.reason


# ---- category -------------------------------------------------------------------------------


def test_a_staff_conduct_complaint_goes_to_the_coordinator():
    decision = decide(complaint(category="staff_conduct", staff_involved="emp-2001"))
    assert decision.assignee == Assignee(tier=Tier.coordinator, staff_id=COORDINATOR)
    assert decision.reason == "category staff_conduct → coordinator"


@pytest.mark.parametrize("category", sorted(set(Category) - {Category.staff_conduct}))
def test_other_categories_leave_the_tier_to_the_other_rules(category):
    decision = decide(complaint(category=category))
    assert decision.assignee == Assignee(tier=Tier.associate, staff_id=ASSOCIATE)
    assert "category" not in decision.reason


def test_a_staff_conduct_complaint_never_goes_to_the_coordinator_it_is_about():
    store = roster(shift(COORDINATOR, Tier.coordinator), shift("coord-0004", Tier.coordinator))
    decision = decide(complaint(category="staff_conduct", staff_involved=COORDINATOR), store)
    assert decision.assignee == Assignee(tier=Tier.coordinator, staff_id="coord-0004")


def test_a_staff_conduct_complaint_about_the_only_coordinator_on_duty_goes_to_the_regional_coordinator():
    decision = decide(complaint(category="staff_conduct", staff_involved=COORDINATOR))
    assert decision.assignee == REGIONAL
    assert decision.reason == "category staff_conduct → coordinator; no coordinator on duty: the region's coordinator"


@pytest.mark.parametrize(
    ("changes", "involved"),
    [
        ({"severity": "low"}, ASSOCIATE),
        ({"severity": "high"}, COORDINATOR),
        ({"severity": "critical"}, MANAGER),
        ({"mood": "angry"}, MANAGER),
    ],
    ids=["associate", "coordinator", "store manager (severity)", "store manager (mood)"],
)
def test_no_complaint_is_assigned_to_the_staff_member_it_is_about(changes, involved):
    decision = decide(complaint(**changes, staff_involved=involved))
    assert decision.assignee.staff_id != involved
    assert decision.assignee == REGIONAL


# ---- refund amount --------------------------------------------------------------------------


@pytest.mark.parametrize(("region", "threshold"), [("pirkanmaa", 20_000), ("uusimaa", 30_000)])
def test_a_refund_above_the_regions_threshold_goes_to_the_store_manager(region, threshold):
    rules = BOOK.for_region(region)
    decision = decide(refund(threshold + 1, region_id=region), rules=rules)
    assert decision.assignee == Assignee(tier=Tier.store_manager, staff_id=MANAGER)
    assert decision.reason == f"refund over {threshold / 100:.2f} → store_manager"


@pytest.mark.parametrize(("region", "threshold"), [("pirkanmaa", 20_000), ("uusimaa", 30_000)])
@pytest.mark.parametrize("below", [0, 1, 10_000])
def test_a_refund_at_or_below_the_regions_threshold_stays_with_the_associate(region, threshold, below):
    decision = decide(refund(threshold - below, region_id=region), rules=BOOK.for_region(region))
    assert decision.assignee == Assignee(tier=Tier.associate, staff_id=ASSOCIATE)
    assert "refund" not in decision.reason


def test_the_same_refund_goes_to_the_manager_in_the_chain_and_stays_with_the_associate_in_uusimaa():
    filed = refund(25_000)
    assert decide(filed, rules=RULES).assignee.tier == Tier.store_manager
    assert decide(filed, rules=UUSIMAA).assignee.tier == Tier.associate


def test_a_return_complaint_without_an_amount_stays_with_the_associate():
    decision = decide(complaint(category="return_refund_exchange", amount=None))
    assert decision.assignee.tier == Tier.associate


@pytest.mark.parametrize("category", sorted(set(Category) - {Category.return_refund_exchange, Category.staff_conduct}))
def test_a_large_amount_outside_returns_does_not_go_to_the_manager(category):
    decision = decide(complaint(category=category, amount={"minor_units": 1_000_000, "currency": "EUR"}))
    assert decision.assignee.tier == Tier.associate


# ---- repeat customer ------------------------------------------------------------------------


@pytest.mark.parametrize("recent", [0, 1, 2])
def test_fewer_than_n_complaints_by_the_customer_leave_the_tier_alone(recent):
    decision = decide(complaint(), recent=recent)
    assert decision.assignee.tier == Tier.associate
    assert "complaints by the customer" not in decision.reason


@pytest.mark.parametrize("recent", [3, 4, 50])
def test_n_or_more_complaints_by_the_customer_go_to_the_coordinator(recent):
    decision = decide(complaint(), recent=recent)
    assert decision.assignee == Assignee(tier=Tier.coordinator, staff_id=COORDINATOR)
    assert decision.reason == f"{recent} complaints by the customer in 30 days → coordinator"


@pytest.mark.parametrize(("count", "below", "at"), [(2, 1, 2), (5, 4, 5)])
def test_the_repeat_count_comes_from_the_rules(count, below, at):
    rules = RULES.model_copy(update={"repeat_customer_count": count})
    assert decide(complaint(), rules=rules, recent=below).assignee.tier == Tier.associate
    assert decide(complaint(), rules=rules, recent=at).assignee.tier == Tier.coordinator


# ---- the highest tier wins ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filed", "recent", "tier", "reason"),
    [
        (
            complaint(severity="high", category="staff_conduct", staff_involved="emp-2001"),
            3,
            Tier.coordinator,
            "severity high → coordinator; category staff_conduct → coordinator; "
            "3 complaints by the customer in 30 days → coordinator",
        ),
        (
            complaint(severity="high", mood="angry", category="staff_conduct", staff_involved="emp-2001"),
            3,
            Tier.store_manager,
            "mood angry → store_manager",
        ),
        (
            refund(50_000, severity="critical", mood="hostile"),
            1,
            Tier.store_manager,
            "severity critical → store_manager; mood hostile → store_manager; refund over 200.00 → store_manager",
        ),
        (refund(50_000, severity="medium"), 5, Tier.store_manager, "refund over 200.00 → store_manager"),
        (
            complaint(severity="medium", mood="upset"),
            3,
            Tier.coordinator,
            "3 complaints by the customer in 30 days → coordinator",
        ),
    ],
    ids=[
        "three coordinator rules",
        "mood over coordinator rules",
        "three manager rules",
        "refund over repeat",
        "repeat over severity",
    ],
)
def test_the_highest_tier_wins_and_the_reason_names_only_the_rules_that_set_it(filed, recent, tier, reason):
    decision = decide(filed, recent=recent)
    assert decision.assignee.tier == tier
    assert decision.reason == reason


def test_a_rule_may_ask_for_a_tier_above_the_store():
    rules = RULES.model_copy(update={"severity": {**RULES.severity, Severity.critical: Tier.senior_manager}})
    decision = decide(complaint(severity="critical", mood="hostile"), rules=rules)
    assert decision.assignee == Assignee(tier=Tier.senior_manager)
    assert decision.reason == "severity critical → senior_manager"
    assert decision.resolve_by == NOW + timedelta(minutes=1440)


# ---- the assignee is on duty ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("starts_at", "ends_at", "on"),
    [
        (NOW, NOW + timedelta(hours=8), True),
        (NOW - timedelta(hours=8), NOW + timedelta(microseconds=1), True),
        (NOW - timedelta(hours=8), NOW, False),
        (NOW + timedelta(microseconds=1), NOW + timedelta(hours=8), False),
        (NOW - timedelta(days=1, hours=8), NOW - timedelta(days=1), False),
        (NOW + timedelta(days=1), NOW + timedelta(days=1, hours=8), False),
    ],
    ids=["starts now", "ends just after now", "ends now", "starts just after now", "yesterday", "tomorrow"],
)
def test_a_shift_starts_inclusively_and_ends_exclusively(starts_at, ends_at, on):
    decision = decide(complaint(), roster(shift(ASSOCIATE, Tier.associate, starts_at, ends_at)))
    expected = Assignee(tier=Tier.associate, staff_id=ASSOCIATE) if on else REGIONAL
    assert decision.assignee == expected


def test_shift_times_in_another_time_zone_compare_as_instants():
    helsinki = timezone(timedelta(hours=2))
    starts_at = datetime(2026, 11, 23, 14, 0, tzinfo=helsinki)  # 12:00 UTC, that is NOW
    decision = decide(complaint(), roster(shift(ASSOCIATE, Tier.associate, starts_at, starts_at + timedelta(hours=8))))
    assert decision.assignee.staff_id == ASSOCIATE


def test_off_duty_people_are_passed_over_for_the_one_on_duty():
    store = roster(
        shift("emp-0001", Tier.associate, NOW - timedelta(hours=8), NOW),
        shift("emp-0002", Tier.associate, NOW + timedelta(hours=1), NOW + timedelta(hours=9)),
        shift(ASSOCIATE, Tier.associate),
    )
    assert decide(complaint(), store).assignee == Assignee(tier=Tier.associate, staff_id=ASSOCIATE)


def test_with_several_on_duty_the_first_on_the_roster_is_assigned():
    store = roster(shift(ASSOCIATE, Tier.associate), shift("emp-2001", Tier.associate))
    assert decide(complaint(), store).assignee.staff_id == ASSOCIATE


def test_someone_of_another_tier_on_duty_is_not_assigned():
    store = roster(shift(MANAGER, Tier.store_manager), shift(COORDINATOR, Tier.coordinator))
    assert decide(complaint(severity="low"), store).assignee == REGIONAL


SHIFTS_OVER = roster(shift(MANAGER, Tier.store_manager, NOW - timedelta(hours=8), NOW))


@pytest.mark.parametrize("on_roster", [None, NOBODY, SHIFTS_OVER], ids=["no roster", "empty roster", "shifts over"])
@pytest.mark.parametrize(
    ("severity", "tier"), [("low", Tier.associate), ("high", Tier.coordinator), ("critical", Tier.store_manager)]
)
def test_with_nobody_of_the_tier_on_duty_the_regional_coordinator_gets_it_and_the_reason_says_so(
    on_roster, severity, tier
):
    decision = decide(complaint(severity=severity), on_roster)
    assert decision.assignee == REGIONAL
    assert decision.assignee.staff_id is None
    assert decision.reason == f"severity {severity} → {tier}; no {tier} on duty: the region's coordinator"


def test_on_duty_finds_the_person_and_skips_the_excluded():
    store = roster(shift(MANAGER, Tier.store_manager), shift("mgr-0008", Tier.store_manager))
    assert on_duty(store, Tier.store_manager, NOW).staff_id == MANAGER
    assert on_duty(store, Tier.store_manager, NOW, excluding=MANAGER).staff_id == "mgr-0008"
    assert on_duty(store, Tier.coordinator, NOW) is None
    assert on_duty(None, Tier.store_manager, NOW) is None


# ---- deadlines ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filed", "on_roster", "tier", "acknowledge_minutes", "resolve_minutes"),
    [
        (complaint(severity="low"), FULL_STORE, Tier.associate, 15, 240),
        (complaint(severity="high"), FULL_STORE, Tier.coordinator, 15, 240),
        (complaint(severity="critical"), FULL_STORE, Tier.store_manager, 10, 180),
        (complaint(severity="critical"), NOBODY, Tier.regional_coordinator, 30, 480),
        (complaint(severity="low"), None, Tier.regional_coordinator, 30, 480),
    ],
    ids=["associate", "coordinator", "store manager", "manager off duty", "no roster"],
)
def test_the_deadlines_come_from_the_sla_of_the_tier_that_gets_it(
    filed, on_roster, tier, acknowledge_minutes, resolve_minutes
):
    decision = decide(filed, on_roster)
    assert decision.assignee.tier == tier
    assert decision.acknowledge_by == NOW + timedelta(minutes=acknowledge_minutes)
    assert decision.resolve_by == NOW + timedelta(minutes=resolve_minutes)


def test_the_deadlines_follow_the_regions_sla():
    quick = RULES.sla[Tier.associate].model_copy(update={"acknowledge_minutes": 3})
    rules = RULES.model_copy(update={"sla": {**RULES.sla, Tier.associate: quick}})
    decision = decide(complaint(), rules=rules)
    assert decision.acknowledge_by == NOW + timedelta(minutes=3)
    assert decision.resolve_by == NOW + timedelta(minutes=240)


# ---- paging ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"severity": "critical"}, "severity critical"),
        ({"mood": "hostile"}, "mood hostile"),
        ({"severity": "critical", "mood": "hostile"}, "severity critical; mood hostile"),
    ],
)
def test_an_extreme_case_pages_the_store_manager_on_duty(changes, reason):
    decision = decide(complaint(**changes))
    assert decision.page == Assignee(tier=Tier.store_manager, staff_id=MANAGER)
    assert decision.page_reason == reason


MANAGER_GONE = roster(
    shift(ASSOCIATE, Tier.associate), shift(MANAGER, Tier.store_manager, NOW - timedelta(hours=8), NOW)
)


@pytest.mark.parametrize(
    "on_roster", [None, NOBODY, MANAGER_GONE], ids=["no roster", "empty roster", "manager's shift over"]
)
@pytest.mark.parametrize(
    ("changes", "reason"),
    [({"severity": "critical"}, "severity critical"), ({"mood": "hostile"}, "mood hostile")],
)
def test_with_no_store_manager_on_duty_the_regional_coordinator_is_paged_and_the_reason_says_so(
    on_roster, changes, reason
):
    decision = decide(complaint(**changes), on_roster)
    assert decision.page == REGIONAL
    assert decision.page_reason == f"{reason}; no store manager on duty"


def test_with_no_store_manager_on_duty_the_coordinator_in_charge_of_the_shift_is_paged():
    """The schedule puts one manager-level person on every open hour: a store manager or, when none
    works, a coordinator; the page goes to that person, in the store, not to the region."""
    without_manager = roster(shift(ASSOCIATE, Tier.associate), shift(COORDINATOR, Tier.coordinator))
    decision = decide(complaint(severity="critical"), without_manager)
    assert decision.page == Assignee(tier=Tier.coordinator, staff_id=COORDINATOR)
    assert decision.page_reason == "severity critical; no store manager on duty: the coordinator in charge"


@pytest.mark.parametrize("severity", [Severity.low, Severity.medium, Severity.high])
@pytest.mark.parametrize("mood", [Mood.calm, Mood.upset, Mood.angry])
def test_a_complaint_that_is_not_extreme_pages_nobody(severity, mood):
    decision = decide(complaint(severity=severity, mood=mood))
    assert decision.page is None
    assert decision.page_reason is None


def test_a_big_refund_by_a_repeat_customer_pages_nobody():
    decision = decide(refund(1_000_000), recent=10)
    assert decision.page is None


def test_the_page_never_goes_to_the_store_manager_the_complaint_is_about():
    store = roster(shift(MANAGER, Tier.store_manager), shift("mgr-0008", Tier.store_manager))
    decision = decide(complaint(category="staff_conduct", mood="hostile", staff_involved=MANAGER), store)
    assert decision.page == Assignee(tier=Tier.store_manager, staff_id="mgr-0008")


def test_with_only_the_store_manager_involved_on_duty_the_regional_coordinator_is_paged():
    decision = decide(complaint(category="staff_conduct", severity="critical", staff_involved=MANAGER))
    assert decision.page == REGIONAL
    assert decision.page_reason == "severity critical; no store manager on duty"


@pytest.mark.parametrize(
    ("page_severities", "page_moods", "changes", "paged"),
    [
        ({Severity.high, Severity.critical}, {Mood.hostile}, {"severity": "high"}, True),
        ({Severity.critical}, set(), {"mood": "hostile"}, False),
        (set(), {Mood.hostile}, {"severity": "critical"}, False),
        (set(), {Mood.angry, Mood.hostile}, {"mood": "angry"}, True),
    ],
    ids=["high pages", "hostile does not page", "critical does not page", "angry pages"],
)
def test_what_pages_comes_from_the_rules(page_severities, page_moods, changes, paged):
    rules = RULES.model_copy(
        update={"page_severities": frozenset(page_severities), "page_moods": frozenset(page_moods)}
    )
    decision = decide(complaint(**changes), rules=rules)
    assert (decision.page is not None) is paged


def test_the_page_goes_to_the_manager_even_when_the_complaint_is_assigned_lower():
    rules = RULES.model_copy(update={"mood": {}})
    decision = decide(complaint(mood="hostile"), rules=rules)
    assert decision.assignee == Assignee(tier=Tier.associate, staff_id=ASSOCIATE)
    assert decision.page == Assignee(tier=Tier.store_manager, staff_id=MANAGER)


# ---- the decision fits the contracts it is published in -------------------------------------


@pytest.mark.parametrize(
    ("filed", "on_roster"),
    [
        (ComplaintFiled.model_validate(COMPLAINT_EXAMPLE), FULL_STORE),
        (refund(50_000, severity="critical", mood="hostile"), None),
        (complaint(category="staff_conduct", severity="high", staff_involved=COORDINATOR), FULL_STORE),
    ],
)
def test_a_decision_and_its_page_can_be_published(filed, on_roster):
    decision = decide(filed, on_roster, recent=3)
    common = {"store_id": filed.store_id, "region_id": filed.region_id, "complaint_id": filed.complaint_id, "at": NOW}
    EscalationRouted(
        **common,
        assignee=decision.assignee,
        acknowledge_by=decision.acknowledge_by,
        resolve_by=decision.resolve_by,
        reason=decision.reason,
    )
    if decision.page is not None:
        EscalationPaged(**common, page_id=UUID(int=1), recipient=decision.page, reason=decision.page_reason)
