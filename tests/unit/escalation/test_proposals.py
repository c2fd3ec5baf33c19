"""A common problem's way to a policy decision: acknowledged, proposed once, decided once, each step
an event under an id derived from the problem, and each refusal a named error with its status."""

from datetime import UTC, datetime
from uuid import UUID

import pytest

from services.escalation.domain import proposals
from services.escalation.domain.proposals import Problem, Proposal
from services.escalation.events import derived_id
from services.shared.events.coordination import (
    Decision, Evidence, PolicyChange, PolicyDecided, PolicyProposed, ProblemAcknowledged, ProblemDetected,
)
from services.shared.principal import Principal, Role
from services.shared.topics import COORDINATION

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
REGION, PROBLEM_ID = "uusimaa", UUID("2b3c4d5e-6f70-4182-93a4-b5c6d7e8f901")
EVIDENCE = Evidence.model_validate(
    ProblemDetected.model_config["json_schema_extra"]["examples"][0]["evidence"]
)
COORDINATOR = Principal(sub="rc-0001", role=Role.regional_coordinator, region_id=REGION)
SENIOR = Principal(sub="sm-0001", role=Role.senior_manager)
LONGER_WINDOW = PolicyChange(return_window_days=30)


def problem(acknowledged: bool = False, proposal: str | None = None) -> Problem:
    """A detected problem; `proposal` is the status of a proposal made of it, if any."""
    made = None if proposal is None else Proposal(
        proposal_id=derived_id(PROBLEM_ID, "proposal"), title="t", proposal="p", change=LONGER_WINDOW, by="rc-0001",
        at=NOW, status=proposal,
    )
    return Problem(
        problem_id=PROBLEM_ID, evidence=EVIDENCE, detected_at=NOW,
        acknowledged_by="rc-0001" if acknowledged else None, acknowledged_at=NOW if acknowledged else None, proposal=made,
    )


def test_an_unknown_problem_is_not_found():
    with pytest.raises(proposals.UnknownProblem) as raised:
        proposals.found(None, REGION, PROBLEM_ID)
    assert raised.value.status_code == 404
    assert raised.value.body() == {"detail": f"no problem {PROBLEM_ID} in region {REGION}"}


def test_acknowledging_publishes_who_acknowledged_under_the_problems_id():
    (out,) = proposals.acknowledge(REGION, problem(), COORDINATOR, NOW)
    assert out.topic == COORDINATION
    assert out.event == ProblemAcknowledged(region_id=REGION, problem_id=PROBLEM_ID, by="rc-0001", at=NOW)
    assert out.id == derived_id(PROBLEM_ID, "acknowledged")


def test_acknowledging_an_acknowledged_problem_changes_nothing():
    assert proposals.acknowledge(REGION, problem(acknowledged=True), COORDINATOR, NOW) == []


def test_proposing_acknowledges_the_problem_and_carries_its_evidence():
    acknowledged, proposed = proposals.propose(
        REGION, problem(), "Longer returns", "Allow 30 days.", COORDINATOR, NOW, LONGER_WINDOW
    )
    assert isinstance(acknowledged.event, ProblemAcknowledged)
    assert isinstance(proposed.event, PolicyProposed)
    assert proposed.event.proposal_id == derived_id(PROBLEM_ID, "proposal")
    assert (proposed.event.title, proposed.event.proposal, proposed.event.evidence, proposed.event.change) == (
        "Longer returns", "Allow 30 days.", EVIDENCE, LONGER_WINDOW,
    )
    assert proposed.id == derived_id(PROBLEM_ID, "proposed")


def test_proposing_for_an_acknowledged_problem_only_proposes():
    outgoing = proposals.propose(REGION, problem(acknowledged=True), "t", "p", COORDINATOR, NOW)
    assert [type(out.event) for out in outgoing] == [PolicyProposed]


def test_a_problem_gets_one_proposal():
    with pytest.raises(proposals.AlreadyProposed) as raised:
        proposals.propose(REGION, problem(proposal="proposed"), "t", "p", COORDINATOR, NOW)
    assert raised.value.status_code == 409
    assert str(raised.value) == f"problem {PROBLEM_ID} already has proposal {derived_id(PROBLEM_ID, 'proposal')}"


def test_a_proposal_without_a_change_is_advice():
    _, proposed = proposals.propose(REGION, problem(), "t", "p", COORDINATOR, NOW)
    assert proposed.event.change is None


def test_deciding_publishes_the_decision_with_the_proposals_change_under_the_proposals_id():
    (out,) = proposals.decide(REGION, problem(proposal="proposed"), Decision.accepted, "Yes.", SENIOR, NOW)
    proposal_id = derived_id(PROBLEM_ID, "proposal")
    assert out.event == PolicyDecided(
        region_id=REGION, problem_id=PROBLEM_ID, proposal_id=proposal_id, decision=Decision.accepted,
        rationale="Yes.", change=LONGER_WINDOW, proposed_by="rc-0001", by="sm-0001", at=NOW,
    )
    assert out.id == derived_id(proposal_id, "decided")


@pytest.mark.parametrize(
    ("status", "error", "message"),
    [
        (None, proposals.NothingToDecide, f"problem {PROBLEM_ID} has no policy proposal to decide"),
        ("accepted", proposals.AlreadyDecided, "the proposal was already accepted"),
        ("rejected", proposals.AlreadyDecided, "the proposal was already rejected"),
    ],
)
def test_only_a_proposal_not_yet_decided_is_decided(status, error, message):
    with pytest.raises(error) as raised:
        proposals.decide(REGION, problem(proposal=status), Decision.rejected, "", SENIOR, NOW)
    assert (raised.value.status_code, str(raised.value)) == (409, message)
