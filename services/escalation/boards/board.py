"""Each region's live board: its open complaints (from the worker's cases), each site's open and
breached complaints over the last day, the common problems detected in it and the policy proposals
made of them (from the coordination topic)."""

import asyncio
from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timedelta
from uuid import UUID

from pydantic import BaseModel, Field

from services.escalation.domain.cases import Case
from services.escalation.domain.proposals import Problem, Proposal
from services.shared.events.coordination import PolicyDecided, PolicyProposed, ProblemAcknowledged, ProblemDetected
from services.shared.events.envelope import Event
from services.shared.events.escalations import Assignee
from services.shared.events.fields import Tier

SEVERITY_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3}
# The dashboard's chart: one sample an hour, the last one now. Every complaint open in this window is
# still among the cases while the worker keeps a resolved case at least this long (ESCALATION_RESOLVED_KEPT_DAYS, 7).
HISTORY_HOURS = 24


class OpenComplaint(BaseModel):
    complaint_id: UUID
    store_id: str
    category: str
    severity: str
    mood: str
    channel: str
    assignee: Assignee
    reason: str
    filed_at: datetime
    age_minutes: int
    acknowledged: bool
    acknowledge_by: datetime | None
    resolve_by: datetime
    breaches: int
    breached_tiers: list[Tier]
    paged: bool


class Summary(BaseModel):
    open: int
    breached: int
    paged: int
    by_store: dict[str, int]
    by_tier: dict[str, int]
    by_category: dict[str, int]
    by_severity: dict[str, int]


class Sample(BaseModel):
    at: datetime
    open: int
    breached: int


class SiteHistory(BaseModel):
    store_id: str
    samples: list[Sample] = Field(description="Oldest first, one an hour; the last is the board's `as_of`.")


class BoardView(BaseModel):
    region_id: str
    as_of: datetime
    summary: Summary
    complaints: list[OpenComplaint]
    problems: list[Problem]
    history: list[SiteHistory] = Field(
        default_factory=list,
        description=f"Each site's open and breached complaints at each hour of the last {HISTORY_HOURS}, "
        "for the sites that had any; by site.",
    )


class Boards:
    """Kept by one consumer task; readers wait for a region's change with `changed(region)`."""

    def __init__(self) -> None:
        self.cases: dict[bytes, Case] = {}
        self._by_region: dict[str, dict[bytes, Case]] = {}
        self.problems: dict[UUID, tuple[str, Problem]] = {}  # problem id → (region, problem)
        self._changes: dict[str, asyncio.Event] = {}

    def changed(self, region_id: str) -> asyncio.Event:
        """An event set at the region's next change (take a new one after each)."""
        return self._changes.setdefault(region_id, asyncio.Event())

    def _notify(self, region_id: str) -> None:
        if (event := self._changes.pop(region_id, None)) is not None:
            event.set()

    def apply_case(self, key: bytes, value: bytes | None) -> None:
        """One record of the worker's cases changelog (None deletes: the case expired)."""
        old = self.cases.pop(key, None)
        if old is not None:
            self._by_region[old.region_id].pop(key, None)
            self._notify(old.region_id)
        if value is not None:
            self.cases[key] = case = Case.model_validate_json(value)
            self._by_region.setdefault(case.region_id, {})[key] = case
            self._notify(case.region_id)

    def apply_coordination(self, event: Event) -> None:
        """Applying an event twice changes nothing."""
        match event:
            case ProblemDetected(problem_id=problem_id, region_id=region, evidence=evidence, at=at):
                if problem_id not in self.problems:
                    self.problems[problem_id] = (region, Problem(problem_id=problem_id, evidence=evidence, detected_at=at))
            case ProblemAcknowledged(problem_id=problem_id, by=by, at=at) if problem_id in self.problems:
                region, problem = self.problems[problem_id]
                if problem.acknowledged_by is None:
                    problem.acknowledged_by, problem.acknowledged_at = by, at
            case PolicyProposed() if event.problem_id in self.problems:
                region, problem = self.problems[event.problem_id]
                if problem.proposal is None:
                    problem.proposal = Proposal(
                        proposal_id=event.proposal_id, title=event.title, proposal=event.proposal, change=event.change,
                        by=event.by, at=event.at,
                    )
            case PolicyDecided() if event.problem_id in self.problems:
                region, problem = self.problems[event.problem_id]
                proposal = problem.proposal
                if proposal is not None and proposal.proposal_id == event.proposal_id and proposal.status == "proposed":
                    proposal.status, proposal.rationale = str(event.decision), event.rationale
                    proposal.decided_by, proposal.decided_at = event.by, event.at
            case _:
                return
        self._notify(event.region_id)  # type: ignore[attr-defined]

    def problem(self, region_id: str, problem_id: UUID) -> Problem | None:
        region, problem = self.problems.get(problem_id, (None, None))
        return problem if region == region_id else None

    def view(self, region_id: str, now: datetime) -> BoardView:
        kept = self._by_region.get(region_id, {}).values()
        cases = [case for case in kept if case.open]
        complaints = sorted(
            (_open_complaint(case, now) for case in cases),
            key=lambda c: (-c.breaches, not c.paged, SEVERITY_ORDER.get(c.severity, 9), c.filed_at),
        )
        return BoardView(
            region_id=region_id,
            as_of=now,
            summary=Summary(
                open=len(cases),
                breached=sum(1 for case in cases if case.breaches),
                paged=sum(1 for case in cases if case.pages),
                by_store=dict(Counter(case.store_id for case in cases)),
                by_tier=dict(Counter(str(case.assignee.tier) for case in cases)),
                by_category=dict(Counter(str(case.category) for case in cases)),
                by_severity=dict(Counter(str(case.severity) for case in cases)),
            ),
            complaints=complaints,
            problems=sorted(
                (problem for region, problem in self.problems.values() if region == region_id),
                key=lambda p: p.detected_at, reverse=True,
            ),
            history=history(kept, now),
        )


def history(cases: Iterable[Case], now: datetime, hours: int = HISTORY_HOURS) -> list[SiteHistory]:
    """Each site's open and breached complaints at `now` and at each hour before it, computed from the
    times the cases hold (filed, breached, resolved), so a restarted boards API, which reads the cases
    again, draws the same day. A case keeps only its current state: a reopened complaint counts as open
    from its filing, and its breaches as they were before it was resolved. The last sample is the board
    as it is: a time later than `now` (the worker's clock may run ahead of this one) counts as now."""
    times = [now - timedelta(hours=back) for back in range(hours - 1, -1, -1)]
    start = times[0]
    counts: dict[str, list[list[int]]] = {}
    for case in cases:
        if case.resolved_at is not None and case.resolved_at <= start:
            continue
        breached_at = min((mark.at for mark in case.breaches), default=None)
        for i, at in enumerate(times):
            if not _by(case.filed_at, at, now) or (case.resolved_at is not None and _by(case.resolved_at, at, now)):
                continue
            count = counts.setdefault(case.store_id, [[0, 0] for _ in times])[i]
            count[0] += 1
            count[1] += breached_at is not None and _by(breached_at, at, now)
    return [
        SiteHistory(store_id=store, samples=[Sample(at=at, open=o, breached=b) for at, (o, b) in zip(times, counts[store])])
        for store in sorted(counts)
    ]


def _by(happened: datetime, at: datetime, now: datetime) -> bool:
    """Whether what happened at `happened` had happened at `at`."""
    return min(happened, now) <= at


def _open_complaint(case: Case, now: datetime) -> OpenComplaint:
    return OpenComplaint(
        complaint_id=case.complaint_id, store_id=case.store_id, category=case.category, severity=case.severity,
        mood=case.mood, channel=case.channel, assignee=case.assignee, reason=case.reason, filed_at=case.filed_at,
        age_minutes=max(0, int((now - case.filed_at).total_seconds() // 60)),
        acknowledged=case.acknowledged_at is not None, acknowledge_by=case.acknowledge_by, resolve_by=case.resolve_by,
        breaches=len(case.breaches), breached_tiers=[mark.tier for mark in case.breaches], paged=bool(case.pages),
    )
