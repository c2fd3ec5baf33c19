"""SLA timers: when a deadline is due, and how a breach moves the escalation one tier up."""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest

import services.escalation
from services.escalation.domain.rules import END_OF_TIME, Sla, load_rules
from services.escalation.domain.sla import Breach, Timer, acknowledged, check
from services.shared.events.escalations import Assignee, DeadlineKind, EscalationBreached, EscalationRaised
from services.shared.events.fields import Tier
from services.shared.events.roster import RosterPublished

NOW = datetime(2026, 11, 23, 9, 15, tzinfo=UTC)  # when the complaint was routed
RULES = load_rules(Path(services.escalation.__file__).parent / "rules.toml").chain
TIERS = [Tier.associate, Tier.coordinator, Tier.store_manager, Tier.regional_coordinator, Tier.senior_manager]

ASSOCIATE, COORDINATOR, MANAGER = "emp-1042", "coord-0003", "mgr-0007"
ON_DUTY = {Tier.associate: ASSOCIATE, Tier.coordinator: COORDINATOR, Tier.store_manager: MANAGER}
ROSTER_EXAMPLE = RosterPublished.model_config["json_schema_extra"]["examples"][0]


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def roster(
    *people: tuple[str, Tier],
    starts_at: datetime = NOW - timedelta(hours=1),
    ends_at: datetime = NOW + timedelta(days=3),
) -> RosterPublished:
    shifts = [
        {"staff_id": staff_id, "role": role, "starts_at": starts_at, "ends_at": ends_at} for staff_id, role in people
    ]
    return RosterPublished.model_validate({**ROSTER_EXAMPLE, "on_duty": shifts})


FULL_STORE = roster(*((staff_id, tier) for tier, staff_id in ON_DUTY.items()))
NOBODY = roster()


def timer(tier: Tier = Tier.associate, at: datetime = NOW) -> Timer:
    """A fresh, unacknowledged timer at `tier`, as routing sets it at `at`."""
    sla = RULES.sla[tier]
    return Timer(
        assignee=Assignee(tier=tier, staff_id=ON_DUTY.get(tier)),
        acknowledge_by=at + minutes(sla.acknowledge_minutes),
        resolve_by=at + minutes(sla.resolve_minutes),
    )


def due(t: Timer) -> datetime:
    """The moment the timer's next deadline passes."""
    return t.acknowledge_by if t.acknowledge_by is not None else t.resolve_by


# ---- when a deadline is due -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "acknowledge_by"),
    [(datetime(2099, 12, 31, 23, 50, tzinfo=UTC), END_OF_TIME), (END_OF_TIME - minutes(20), END_OF_TIME - minutes(5))],
    ids=["both past it", "one past it"],
)
def test_deadlines_past_the_end_of_time_are_the_end_of_time(start, acknowledge_by):
    deadlines = Sla(acknowledge_minutes=15, resolve_minutes=240).deadlines(start)
    assert deadlines == (acknowledge_by, END_OF_TIME)
    assert check(Timer(Assignee(tier=Tier.associate), *deadlines), RULES, FULL_STORE, start) is None


@pytest.mark.parametrize("before", [minutes(15), minutes(14), minutes(1), timedelta(microseconds=1)])
def test_nothing_is_due_before_the_acknowledge_deadline(before):
    t = timer()
    assert check(t, RULES, FULL_STORE, t.acknowledge_by - before) is None


def test_the_acknowledge_deadline_is_due_exactly_at_it():
    t = timer()
    breach = check(t, RULES, FULL_STORE, t.acknowledge_by)
    assert breach is not None
    assert breach.kind == DeadlineKind.acknowledge
    assert breach.deadline == t.acknowledge_by
    assert breach.from_tier == Tier.associate
    assert breach.reason == "acknowledge deadline passed at tier associate"


def test_a_late_check_reports_the_deadline_that_passed_not_the_check_time():
    t = timer()
    breach = check(t, RULES, FULL_STORE, t.acknowledge_by + minutes(7))
    assert (breach.kind, breach.deadline) == (DeadlineKind.acknowledge, t.acknowledge_by)


def test_an_unacknowledged_timer_reports_the_acknowledge_deadline_first_even_when_both_passed():
    t = timer()
    breach = check(t, RULES, FULL_STORE, t.resolve_by + minutes(1))
    assert (breach.kind, breach.deadline) == (DeadlineKind.acknowledge, t.acknowledge_by)


# ---- acknowledgement ------------------------------------------------------------------------


def test_acknowledging_clears_only_the_acknowledge_deadline():
    t = timer()
    assert acknowledged(t) == Timer(assignee=t.assignee, acknowledge_by=None, resolve_by=t.resolve_by)


@pytest.mark.parametrize("at", [minutes(15), minutes(16), minutes(239), minutes(240) - timedelta(microseconds=1)])
def test_an_acknowledged_timer_does_not_breach_before_its_resolve_deadline(at):
    assert check(acknowledged(timer()), RULES, FULL_STORE, NOW + at) is None


@pytest.mark.parametrize("late", [minutes(0), minutes(30)])
def test_an_acknowledged_timer_breaches_on_its_resolve_deadline(late):
    t = acknowledged(timer())
    breach = check(t, RULES, FULL_STORE, t.resolve_by + late)
    assert (breach.kind, breach.deadline, breach.from_tier) == (DeadlineKind.resolve, t.resolve_by, Tier.associate)
    assert breach.reason == "resolve deadline passed at tier associate"


# ---- a breach raises the tier one step ------------------------------------------------------

ONE_STEP_UP = [
    (Tier.associate, Assignee(tier=Tier.coordinator, staff_id=COORDINATOR)),
    (Tier.coordinator, Assignee(tier=Tier.store_manager, staff_id=MANAGER)),
    (Tier.store_manager, Assignee(tier=Tier.regional_coordinator)),
    (Tier.regional_coordinator, Assignee(tier=Tier.senior_manager)),
    (Tier.senior_manager, Assignee(tier=Tier.senior_manager)),
]


@pytest.mark.parametrize("ack", [False, True], ids=["acknowledge breach", "resolve breach"])
@pytest.mark.parametrize(("tier", "raised_to"), ONE_STEP_UP, ids=[str(tier) for tier, _ in ONE_STEP_UP])
def test_a_breach_raises_the_tier_one_step_to_the_person_on_duty(tier, raised_to, ack):
    t = acknowledged(timer(tier)) if ack else timer(tier)
    breach = check(t, RULES, FULL_STORE, due(t))
    assert breach.from_tier == tier
    assert breach.timer.assignee == raised_to


@pytest.mark.parametrize("on_roster", [None, NOBODY], ids=["no roster", "empty roster"])
@pytest.mark.parametrize("tier", [Tier.associate, Tier.coordinator])
def test_with_nobody_of_the_next_store_tier_on_duty_the_regional_coordinator_gets_it(tier, on_roster):
    t = timer(tier)
    assert check(t, RULES, on_roster, due(t)).timer.assignee == Assignee(tier=Tier.regional_coordinator)


def test_a_store_manager_whose_shift_ended_at_the_breach_is_not_on_duty():
    t = timer(Tier.coordinator)
    store = roster((MANAGER, Tier.store_manager), ends_at=t.acknowledge_by)
    assert check(t, RULES, store, t.acknowledge_by).timer.assignee == Assignee(tier=Tier.regional_coordinator)


def test_a_store_manager_whose_shift_starts_at_the_breach_is_on_duty():
    t = timer(Tier.coordinator)
    store = roster((MANAGER, Tier.store_manager), starts_at=t.acknowledge_by)
    breach = check(t, RULES, store, t.acknowledge_by)
    assert breach.timer.assignee == Assignee(tier=Tier.store_manager, staff_id=MANAGER)


def test_the_raise_looks_only_at_the_next_tier_on_the_roster():
    store = roster((ASSOCIATE, Tier.associate), (MANAGER, Tier.store_manager))
    t = timer(Tier.associate)
    assert check(t, RULES, store, due(t)).timer.assignee == Assignee(tier=Tier.regional_coordinator)


@pytest.mark.parametrize("ack", [False, True], ids=["acknowledge breach", "resolve breach"])
def test_the_top_tier_stays_top_with_fresh_deadlines(ack):
    t = acknowledged(timer(Tier.senior_manager)) if ack else timer(Tier.senior_manager)
    now = due(t)
    breach = check(t, RULES, FULL_STORE, now)
    assert breach.from_tier == Tier.senior_manager
    assert breach.timer.assignee == Assignee(tier=Tier.senior_manager)
    assert breach.timer.resolve_by == now + minutes(1440)
    assert breach.timer.acknowledge_by == (None if ack else now + minutes(60))


# ---- the new deadlines ----------------------------------------------------------------------

NEW_SLA = [  # tier after the breach, and its (acknowledge, resolve) minutes in the default rules
    (Tier.associate, 15, 240),  # → coordinator
    (Tier.coordinator, 10, 180),  # → store_manager
    (Tier.store_manager, 30, 480),  # → regional_coordinator
    (Tier.regional_coordinator, 60, 1440),  # → senior_manager
]


@pytest.mark.parametrize(("tier", "acknowledge_minutes", "resolve_minutes"), NEW_SLA, ids=[str(t) for t, *_ in NEW_SLA])
def test_after_an_acknowledge_breach_the_new_acknowledge_deadline_follows_the_new_tiers_sla(
    tier, acknowledge_minutes, resolve_minutes
):
    t = timer(tier)
    now = t.acknowledge_by
    assert check(t, RULES, FULL_STORE, now).timer.acknowledge_by == now + minutes(acknowledge_minutes)


@pytest.mark.parametrize(("tier", "acknowledge_minutes", "resolve_minutes"), NEW_SLA, ids=[str(t) for t, *_ in NEW_SLA])
def test_after_an_acknowledge_breach_the_new_resolve_deadline_follows_the_new_tiers_sla(
    tier, acknowledge_minutes, resolve_minutes
):
    t = timer(tier)
    now = t.acknowledge_by
    assert check(t, RULES, FULL_STORE, now).timer.resolve_by == now + minutes(resolve_minutes)


@pytest.mark.parametrize(("tier", "acknowledge_minutes", "resolve_minutes"), NEW_SLA, ids=[str(t) for t, *_ in NEW_SLA])
def test_after_a_resolve_breach_the_new_resolve_deadline_follows_the_new_tiers_sla_and_stays_acknowledged(
    tier, acknowledge_minutes, resolve_minutes
):
    t = acknowledged(timer(tier))
    now = t.resolve_by
    moved = check(t, RULES, FULL_STORE, now).timer
    assert moved.acknowledge_by is None
    assert moved.resolve_by == now + minutes(resolve_minutes)


def test_with_nobody_on_duty_the_new_deadlines_follow_the_regional_coordinators_sla():
    t = acknowledged(timer(Tier.associate))
    now = t.resolve_by
    assert check(t, RULES, NOBODY, now).timer.resolve_by == now + minutes(480)


def test_the_new_deadlines_follow_the_rules_given():
    quick = RULES.sla[Tier.coordinator].model_copy(update={"resolve_minutes": 20})
    rules = RULES.model_copy(update={"sla": {**RULES.sla, Tier.coordinator: quick}})
    t = acknowledged(timer(Tier.associate))
    now = t.resolve_by
    assert check(t, rules, FULL_STORE, now).timer.resolve_by == now + minutes(20)


# ---- fires once, never skips ----------------------------------------------------------------


@pytest.mark.parametrize("ack", [False, True], ids=["acknowledge breach", "resolve breach"])
@pytest.mark.parametrize("tier", TIERS)
def test_after_a_breach_the_same_moment_reports_nothing_more(tier, ack):
    t = acknowledged(timer(tier)) if ack else timer(tier)
    now = due(t)
    breach = check(t, RULES, FULL_STORE, now)
    assert check(breach.timer, RULES, FULL_STORE, now) is None


def walk(
    start: Timer, on_roster: RosterPublished | None, until: timedelta, step: timedelta = minutes(1)
) -> list[tuple[datetime, Breach]]:
    """Checks the timer at every step, as a worker's clock would, keeping the timer each breach leaves."""
    breaches, current, now = [], start, NOW
    while now <= NOW + until:
        if (breach := check(current, RULES, on_roster, now)) is not None:
            assert check(breach.timer, RULES, on_roster, now) is None, "fired twice at one moment"
            breaches.append((now, breach))
            current = breach.timer
        now += step
    return breaches


@pytest.mark.parametrize("start", [timer(), acknowledged(timer())], ids=["unacknowledged", "acknowledged"])
def test_walking_forward_raises_one_tier_at_a_time_up_to_the_top(start):
    breaches = walk(start, FULL_STORE, until=timedelta(days=2))
    tiers = [breach.from_tier for _, breach in breaches] + [breaches[-1][1].timer.assignee.tier]
    assert tiers[:5] == TIERS
    assert set(tiers[5:]) == {Tier.senior_manager}
    for (_, breach), (_, following) in zip(breaches, breaches[1:]):
        assert following.from_tier == breach.timer.assignee.tier


@pytest.mark.parametrize("start", [timer(), acknowledged(timer())], ids=["unacknowledged", "acknowledged"])
@pytest.mark.parametrize("step", [minutes(1), minutes(5), timedelta(seconds=7)])
def test_walking_forward_fires_each_deadline_once_and_on_time(start, step):
    breaches = walk(start, FULL_STORE, until=timedelta(days=2), step=step)
    deadlines = [(breach.kind, breach.deadline) for _, breach in breaches]
    assert len(deadlines) == len(set(deadlines))
    for at, breach in breaches:
        assert breach.deadline <= at < breach.deadline + step


def test_an_acknowledged_walk_breaches_only_resolve_deadlines():
    breaches = walk(acknowledged(timer()), FULL_STORE, until=timedelta(days=2))
    assert {breach.kind for _, breach in breaches} == {DeadlineKind.resolve}
    assert all(breach.timer.acknowledge_by is None for _, breach in breaches)


def test_walking_forward_with_nobody_on_duty_goes_to_the_region_then_senior_management():
    breaches = walk(timer(), NOBODY, until=timedelta(days=1))
    assignees = [breach.timer.assignee for _, breach in breaches[:3]]
    assert assignees == [
        Assignee(tier=Tier.regional_coordinator),
        Assignee(tier=Tier.senior_manager),
        Assignee(tier=Tier.senior_manager),
    ]


def test_the_staff_member_a_complaint_is_about_never_gets_it_on_a_breach():
    # A staff_conduct complaint about the store manager sits with the coordinator; when the coordinator
    # misses the deadline it must not go to that store manager, but past them to the region.
    t = Timer(
        assignee=Assignee(tier=Tier.coordinator, staff_id=COORDINATOR),
        acknowledge_by=NOW + minutes(15),
        resolve_by=NOW + minutes(240),
        staff_involved=MANAGER,
    )
    breach = check(t, RULES, FULL_STORE, t.acknowledge_by)
    assert breach.timer.assignee == Assignee(tier=Tier.regional_coordinator)


# ---- a breach fits the contracts it is published in -----------------------------------------


@pytest.mark.parametrize("ack", [False, True], ids=["acknowledge breach", "resolve breach"])
def test_a_breach_can_be_published(ack):
    t = acknowledged(timer()) if ack else timer()
    now = due(t)
    breach = check(t, RULES, FULL_STORE, now)
    common = {"store_id": "hel-kamppi", "region_id": "uusimaa", "complaint_id": UUID(int=1), "at": now}
    EscalationBreached(**common, tier=breach.from_tier, deadline_kind=breach.kind, deadline=breach.deadline)
    EscalationRaised(
        **common,
        from_tier=breach.from_tier,
        assignee=breach.timer.assignee,
        acknowledge_by=breach.timer.acknowledge_by,
        resolve_by=breach.timer.resolve_by,
        reason=breach.reason,
    )
