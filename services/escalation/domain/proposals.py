"""A common problem from its detection to senior management's decision on a policy change: a
regional coordinator acknowledges the problem and proposes a change with its evidence; senior
management accepts or rejects the proposal. Each step is an event on the coordination topic under
an id derived from the problem, so a step taken twice publishes the same event twice, which
consumers drop."""

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, Field

from services.escalation.events import Outgoing, derived_id
from services.shared.errors import Conflict, NotFound
from services.shared.events.coordination import (
    Decision, Evidence, PolicyChange, PolicyDecided, PolicyProposed, ProblemAcknowledged,
)
from services.shared.principal import Principal
from services.shared.topics import COORDINATION


class Proposal(BaseModel):
    proposal_id: UUID
    title: str
    proposal: str
    change: PolicyChange | None = Field(None, description="The change to the region's return policy it asks for.")
    by: str
    at: datetime
    status: str = "proposed"  # proposed, accepted, rejected
    rationale: str = ""
    decided_by: str | None = None
    decided_at: datetime | None = None


class Problem(BaseModel):
    problem_id: UUID
    evidence: Evidence
    detected_at: datetime
    acknowledged_by: str | None = Field(None, description="The staff member who acknowledged it first.")
    acknowledged_at: datetime | None = None
    proposal: Proposal | None = Field(None, description="The policy change proposed for it; one a problem.")


class UnknownProblem(NotFound):
    def __init__(self, region_id: str, problem_id: UUID) -> None:
        super().__init__(f"no problem {problem_id} in region {region_id}")


class AlreadyProposed(Conflict):
    def __init__(self, problem: Problem, proposal: Proposal) -> None:
        super().__init__(f"problem {problem.problem_id} already has proposal {proposal.proposal_id}")


class NothingToDecide(Conflict):
    def __init__(self, problem: Problem) -> None:
        super().__init__(f"problem {problem.problem_id} has no policy proposal to decide")


class AlreadyDecided(Conflict):
    def __init__(self, proposal: Proposal) -> None:
        super().__init__(f"the proposal was already {proposal.status}")


def found(problem: Problem | None, region_id: str, problem_id: UUID) -> Problem:
    if problem is None:
        raise UnknownProblem(region_id, problem_id)
    return problem


def acknowledge(region_id: str, problem: Problem, principal: Principal, now: datetime) -> list[Outgoing]:
    """Acknowledging a problem acknowledged already changes nothing."""
    if problem.acknowledged_by is not None:
        return []
    return [_acknowledged(region_id, problem, principal.sub, now)]


def propose(
    region_id: str, problem: Problem, title: str, text: str, principal: Principal, now: datetime,
    change: PolicyChange | None = None,
) -> list[Outgoing]:
    """A problem gets one proposal, with the problem's evidence and the change to the region's return
    policy it asks for; proposing acknowledges the problem too."""
    if problem.proposal is not None:
        raise AlreadyProposed(problem, problem.proposal)
    by = principal.sub
    acknowledging = [] if problem.acknowledged_by is not None else [_acknowledged(region_id, problem, by, now)]
    proposed = PolicyProposed(
        region_id=region_id, problem_id=problem.problem_id, proposal_id=derived_id(problem.problem_id, "proposal"),
        title=title, proposal=text, evidence=problem.evidence, change=change, by=by, at=now,
    )
    return [*acknowledging, Outgoing(COORDINATION, proposed, derived_id(problem.problem_id, "proposed"), now)]


def decide(
    region_id: str, problem: Problem, decision: Decision, rationale: str, principal: Principal, now: datetime
) -> list[Outgoing]:
    """A proposal is decided once; the decision carries the proposal's change, which the complaints
    service makes the region's return policy when it is accepted."""
    if (proposal := problem.proposal) is None:
        raise NothingToDecide(problem)
    if proposal.status != "proposed":
        raise AlreadyDecided(proposal)
    decided = PolicyDecided(
        region_id=region_id, problem_id=problem.problem_id, proposal_id=proposal.proposal_id,
        decision=decision, rationale=rationale, change=proposal.change, proposed_by=proposal.by, by=principal.sub, at=now,
    )
    return [Outgoing(COORDINATION, decided, derived_id(proposal.proposal_id, "decided"), now)]


def _acknowledged(region_id: str, problem: Problem, by: str, now: datetime) -> Outgoing:
    event = ProblemAcknowledged(region_id=region_id, problem_id=problem.problem_id, by=by, at=now)
    return Outgoing(COORDINATION, event, derived_id(problem.problem_id, "acknowledged"), now)
