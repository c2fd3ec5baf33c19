"""Readiness for the next step of the career path, criterion by criterion, and who sees and writes
a staff member's coaching notes and development record."""

from datetime import date

import pytest

from services.scheduling.domain.development import (
    REQUIREMENTS, Progress, may_coach, readiness, sees_development, tenure_months,
)
from services.shared.events.scheduling import TrainingKind
from services.shared.principal import Principal, Role

TODAY = date(2027, 3, 1)
FRONT_LINE = frozenset({"onboarding", "register", "returns", "de_escalation_role_play"})


def progress(**changes) -> Progress:
    ready = {"hired": date(2025, 3, 1), "training_completed": FRONT_LINE, "complaints_resolved": 50,
             "csat_scores": (4,) * 10, "coaching_notes": 2}
    return Progress(**{**ready, **changes})


def unmet(role: Role, **changes) -> list[str]:
    return [c.name for c in readiness(role, progress(**changes), TODAY).criteria if not c.met]


def test_an_associate_who_meets_every_criterion_is_ready_to_coordinate():
    ready = readiness(Role.associate, progress(), TODAY)
    assert ready.next_role is Role.coordinator and ready.ready
    assert [c.name for c in ready.criteria] == [
        "tenure_months", "training_completed", "complaints_resolved", "csat_responses", "average_csat", "coaching_notes"
    ]
    assert {c.name: c.actual for c in ready.criteria}["tenure_months"] == 24


@pytest.mark.parametrize(("changes", "failing"), [
    ({"hired": date(2026, 3, 2)}, ["tenure_months"]),  # 11 months and 27 days
    ({"training_completed": FRONT_LINE - {"returns"}}, ["training_completed"]),
    ({"complaints_resolved": 49}, ["complaints_resolved"]),
    ({"csat_scores": (5,) * 9}, ["csat_responses", "average_csat"]),  # too few answers to judge
    ({"csat_scores": (4,) * 9 + (3,)}, ["average_csat"]),  # 3.9
    ({"csat_scores": ()}, ["csat_responses", "average_csat"]),
    ({"coaching_notes": 1}, ["coaching_notes"]),
])
def test_each_criterion_not_met_is_named(changes, failing):
    assert unmet(Role.associate, **changes) == failing
    assert not readiness(Role.associate, progress(**changes), TODAY).ready


def test_a_call_centre_agent_steps_up_to_coordinator_like_an_associate():
    assert readiness(Role.call_centre_agent, progress(), TODAY).next_role is Role.coordinator


def test_each_step_up_asks_for_more():
    assert unmet(Role.coordinator) == [  # 24 months suffice for a store manager
        "training_completed", "complaints_resolved", "csat_responses", "average_csat", "coaching_notes"
    ]
    steps = [REQUIREMENTS[Role.coordinator], REQUIREMENTS[Role.store_manager], REQUIREMENTS[Role.regional_coordinator]]
    for lower, higher in zip(steps, steps[1:]):
        assert higher.tenure_months > lower.tenure_months and higher.training >= lower.training
        assert higher.complaints_resolved > lower.complaints_resolved and higher.average_csat > lower.average_csat
    assert REQUIREMENTS[Role.regional_coordinator].training == frozenset(TrainingKind)


@pytest.mark.parametrize("role", [Role.regional_coordinator, Role.senior_manager, Role.ops])
def test_the_top_of_the_path_and_roles_off_it_have_no_next_step(role):
    answer = readiness(role, progress(), TODAY)
    assert answer.next_role is None and answer.criteria == () and not answer.ready


@pytest.mark.parametrize(("hired", "months"), [
    (date(2026, 3, 1), 12), (date(2026, 3, 2), 11), (date(2027, 2, 28), 0), (date(2027, 6, 1), 0),
])
def test_tenure_counts_whole_months_from_the_hire_date(hired, months):
    assert tenure_months(hired, TODAY) == months


def who(role: Role, sub: str = "x-1", store: str | None = None, region: str | None = None) -> Principal:
    return Principal(sub=sub, role=role, store_id=store, region_id=region)


STAFF = ("emp-1042", "hel-kamppi", "uusimaa")


@pytest.mark.parametrize(("caller", "sees", "coaches"), [
    (who(Role.associate, "emp-1042", "hel-kamppi", "uusimaa"), True, False),  # themselves: read only
    (who(Role.associate, "emp-1043", "hel-kamppi", "uusimaa"), False, False),  # a colleague
    (who(Role.store_manager, "mgr-0007", "hel-kamppi", "uusimaa"), True, True),  # their site's manager
    (who(Role.store_manager, "mgr-0100", "hel-callcentre", "uusimaa"), False, False),  # another site's
    (who(Role.coordinator, "co-1", region="uusimaa"), True, True),
    (who(Role.regional_coordinator, "rc-uusimaa-1", region="uusimaa"), True, True),
    (who(Role.regional_coordinator, "rc-us-east-1", region="us-east"), False, False),
    (who(Role.senior_manager, "sm-0001"), True, True),
    (who(Role.ops, "ops-1"), False, False),
    (who(Role.service, "svc-notifications"), False, False),
])
def test_notes_and_records_are_for_the_person_their_managers_and_coordinators(caller, sees, coaches):
    assert sees_development(caller, *STAFF) is sees
    assert may_coach(caller, *STAFF) is coaches


def test_a_coach_does_not_write_notes_on_themselves():
    manager = who(Role.store_manager, "mgr-0007", "hel-kamppi", "uusimaa")
    assert sees_development(manager, "mgr-0007", "hel-kamppi", "uusimaa")
    assert not may_coach(manager, "mgr-0007", "hel-kamppi", "uusimaa")
