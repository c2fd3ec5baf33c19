"""Whom an event tells, and of what: the person an escalation names (or its tier on duty), senior
management of a proposal, the region's regional coordinators of a decision, the site's manager of a
training proposal, the people of a training session; nobody of anything else."""

from datetime import UTC, datetime
from uuid import UUID

import pytest

from services.notifications.domain.addressing import Addressee, Notice, notice
from services.notifications.domain.messages import Kind
from services.shared.events import coordination, escalations, scheduling
from services.shared.events.coordination import PolicyDecided, PolicyProposed, ProblemAcknowledged, ProblemDetected
from services.shared.events.escalations import EscalationBreached, EscalationPaged, EscalationRaised, EscalationRouted
from services.shared.events.fields import Tier
from services.shared.events.scheduling import (
    CoachingNoteRecorded,
    ShiftCancelled,
    ShiftScheduled,
    TrainingCancelled,
    TrainingCause,
    TrainingCompleted,
    TrainingKind,
    TrainingProposed,
    TrainingScheduled,
)
from services.shared.principal import Role

COMPLAINT = UUID("0c6f8e1e-6a0b-4b43-9d0e-2f1f4f6f1a01")
PROPOSAL = UUID("8f9e0d1c-2b3a-4c5d-8e6f-7a8b9c0d1e2f")
SESSION = UUID("5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d")


def example(event_class, **changes):
    """The event of its schema's example, with what the test is about changed."""
    return event_class.model_validate({**event_class.model_json_schema()["examples"][0], **changes})


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# ---- escalations: the person named, or whoever of the tier is on duty -----------------------


def test_a_page_calls_the_person_it_names():
    assert notice(example(EscalationPaged)) == Notice(
        kind=Kind.page, store_id="hel-kamppi", region_id="uusimaa", complaint_id=COMPLAINT,
        about="severity critical", at=at("2026-11-23T09:15:01"),
        addressees=(Addressee(staff_id="mgr-0007", tier=Tier.store_manager),),
    )


def test_a_page_that_names_nobody_calls_whoever_of_its_tier_is_on_duty():
    paged = example(EscalationPaged, recipient={"tier": "regional_coordinator", "staff_id": None},
                    reason="severity critical; no store manager on duty")
    told = notice(paged)
    assert told.addressees == (Addressee(tier=Tier.regional_coordinator),)
    assert told.about == "severity critical; no store manager on duty"


def test_a_tier_raise_tells_the_new_assignee_or_the_tier_on_duty():
    raised = notice(example(EscalationRaised))
    assert raised.kind == Kind.tier_raise
    assert raised.addressees == (Addressee(tier=Tier.coordinator),)
    assert raised.about == "acknowledge deadline passed at tier associate"
    assert raised.at == at("2026-11-23T09:30:00") and raised.complaint_id == COMPLAINT

    named = notice(example(EscalationRaised, assignee={"tier": "coordinator", "staff_id": "coord-0003"}))
    assert named.addressees == (Addressee(staff_id="coord-0003", tier=Tier.coordinator),)


def test_a_routed_complaint_is_an_assignment_to_its_assignee():
    assert notice(example(EscalationRouted)) == Notice(
        kind=Kind.assignment, store_id="hel-kamppi", region_id="uusimaa", complaint_id=COMPLAINT,
        about="mood angry: store manager", at=at("2026-11-23T09:15:01"),
        addressees=(Addressee(staff_id="mgr-0007", tier=Tier.store_manager),),
    )


def test_a_breach_tells_nobody_since_the_raise_that_follows_it_does():
    assert notice(example(EscalationBreached)) is None


def test_a_reason_of_the_longest_an_event_carries_is_told_whole():
    told = notice(example(EscalationPaged, reason="r" * 500))
    assert told.about == "r" * 500


# ---- coordination: proposals up to senior management, decisions back to the region ----------


def test_a_policy_proposal_goes_to_senior_management_by_its_title_alone():
    proposed = example(PolicyProposed)
    assert notice(proposed) == Notice(
        kind=Kind.policy_proposed, store_id=None, region_id="uusimaa", complaint_id=None,
        about="Extend the return window for small appliances to 30 days", at=at("2026-11-23T08:30:00"),
        addressees=(Addressee(group=Role.senior_manager),),
    )


@pytest.mark.parametrize("decision", ["accepted", "rejected"])
def test_a_policy_decision_goes_to_the_regions_regional_coordinators_without_its_rationale(decision):
    decided = example(PolicyDecided, decision=decision)
    assert notice(decided) == Notice(
        kind=Kind.policy_decided, store_id=None, region_id="uusimaa", complaint_id=None,
        about=f"proposal {PROPOSAL} {decision}", at=at("2026-11-25T12:00:00"),
        addressees=(Addressee(group=Role.regional_coordinator),),
    )


@pytest.mark.parametrize("event_class", [ProblemDetected, ProblemAcknowledged])
def test_problems_tell_nobody(event_class):
    assert notice(example(event_class)) is None


# ---- scheduling: training proposals to the manager, sessions to their people -----------------


def test_a_training_proposal_goes_to_the_store_manager_on_duty_naming_no_staff():
    told = notice(example(TrainingProposed))
    assert told == Notice(
        kind=Kind.training_proposed, store_id="hel-kamppi", region_id="uusimaa", complaint_id=None,
        about="register training for billing and register complaints above the site's usual rate "
        "(hel-kamppi/2026-11-23)",
        at=at("2026-11-23T18:00:00"), addressees=(Addressee(tier=Tier.store_manager),),
    )
    assert "emp-" not in told.about


@pytest.mark.parametrize("kind", list(TrainingKind))
@pytest.mark.parametrize("cause", list(TrainingCause))
def test_every_training_kind_and_cause_reads_as_words(kind, cause):
    about = notice(example(TrainingProposed, kind=kind, cause=cause, cause_ref="x" * 200)).about
    assert "_" not in about.replace("x" * 200, "") and len(about) <= 500


def test_a_scheduled_training_tells_its_trainer_then_each_trainee_when_it_starts():
    assert notice(example(TrainingScheduled)) == Notice(
        kind=Kind.training_scheduled, store_id="hel-kamppi", region_id="uusimaa", complaint_id=None,
        about="returns training on 2026-11-26 07:00 UTC", at=at("2026-11-26T07:00:00"),
        addressees=(Addressee(staff_id="mgr-0007"), Addressee(staff_id="emp-1042"), Addressee(staff_id="emp-1043")),
    )


def test_a_person_listed_twice_on_a_session_is_told_once():
    twice = example(TrainingScheduled, trainer="emp-1042", trainees=["emp-1043", "emp-1042", "emp-1043"])
    assert notice(twice).addressees == (Addressee(staff_id="emp-1042"), Addressee(staff_id="emp-1043"))


def test_a_cancelled_training_tells_each_trainee():
    cancelled = example(TrainingCancelled, trainees=["emp-1042", "emp-1043"])
    assert notice(cancelled) == Notice(
        kind=Kind.training_cancelled, store_id="hel-kamppi", region_id="uusimaa", complaint_id=None,
        about=f"returns training, session {SESSION}", at=at("2026-11-25T12:00:00"),
        addressees=(Addressee(staff_id="emp-1042"), Addressee(staff_id="emp-1043")),
    )


def test_a_cancelled_training_without_trainees_tells_nobody():
    assert notice(example(TrainingCancelled, trainees=[])) is None


@pytest.mark.parametrize("event_class", [ShiftScheduled, ShiftCancelled, TrainingCompleted, CoachingNoteRecorded])
def test_shifts_completions_and_coaching_notes_tell_nobody(event_class):
    assert notice(example(event_class)) is None


def test_every_event_of_the_three_topics_has_an_answer_and_anything_else_tells_nobody():
    for event_class in (*escalations.EVENTS, *coordination.EVENTS, *scheduling.EVENTS):
        told = notice(example(event_class))
        assert told is None or told.addressees
    assert notice(object()) is None
    assert notice({"store_id": "hel-kamppi"}) is None


# ---- addressees ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"staff_id": "sm-0001", "group": Role.senior_manager},
        {"tier": Tier.store_manager, "group": Role.regional_coordinator},
        {"group": Role.store_manager},
        {"group": Role.associate},
    ],
)
def test_an_addressee_is_one_person_one_tier_on_duty_or_one_known_group(fields):
    with pytest.raises(ValueError):
        Addressee(**fields)
