"""Each region's live board: its open complaints (from the worker's cases, kept in the read model of
`store`), each site's open and breached complaints over the last day, the common problems detected
in it and the policy proposals made of them (from the coordination topic, kept in memory: few)."""

import asyncio
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import NamedTuple
from uuid import UUID

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import async_sessionmaker

from services.escalation.boards.store import cases as store
from services.escalation.boards.store.models import BoardCase
from services.escalation.domain.proposals import Problem, Proposal
from services.shared.events.coordination import PolicyDecided, PolicyProposed, ProblemAcknowledged, ProblemDetected
from services.shared.events.envelope import Event
from services.shared.events.escalations import Assignee
from services.shared.events.fields import Tier

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
    complaints: list[OpenComplaint] = Field(description="The first of the open complaints in the order to work them; "
                                            "`summary.open` counts them all.")
    next: str | None = Field(None, description="Where the list goes on: ask again with `after` set to it.")
    problems: list[Problem]
    history: list[SiteHistory] = Field(
        default_factory=list,
        description=f"Each site's open and breached complaints at each hour of the last {HISTORY_HOURS}, "
        "for the sites that had any; by site.",
    )


class Times(NamedTuple):
    """When a case was filed, first breached and resolved, at its site."""

    store_id: str
    filed_at: datetime
    breached_at: datetime | None
    resolved_at: datetime | None


class Boards:
    """The cases are applied by one consumer task; readers wait for a region's change with `changed(region)`."""

    def __init__(self, sessions: async_sessionmaker) -> None:
        self.sessions = sessions
        self.problems: dict[UUID, tuple[str, Problem]] = {}  # problem id → (region, problem)
        self._changes: dict[str, asyncio.Event] = {}

    def changed(self, region_id: str) -> asyncio.Event:
        """An event set at the region's next change (take a new one after each)."""
        return self._changes.setdefault(region_id, asyncio.Event())

    def _notify(self, region_id: str) -> None:
        if (event := self._changes.pop(region_id, None)) is not None:
            event.set()

    async def apply_cases(self, changes: Sequence[store.Change], ends: dict[int, int]) -> None:
        """A batch of records of the worker's cases changelog (see `store.apply`)."""
        for region_id in await store.apply(self.sessions, changes, ends):
            self._notify(region_id)

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

    async def view(self, region_id: str, now: datetime, limit: int, after: str | None = None) -> BoardView:
        """The board with at most `limit` of its open complaints, those after the cursor `after`."""
        since = now - timedelta(hours=HISTORY_HOURS - 1)
        async with self.sessions() as session:
            if session.bind.dialect.name == "postgresql":  # one snapshot for the counts, the list and the history
                await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            counts = await store.summary_counts(session, region_id)
            listed, next_cursor = await store.listed(session, region_id, limit, after)
            steady, touched = await store.steady(session, region_id, since), await store.touched(session, region_id, since)
        return BoardView(
            region_id=region_id,
            as_of=now,
            summary=_summary(counts),
            complaints=[_open_complaint(case, now) for case in listed],
            next=next_cursor,
            problems=sorted(
                (problem for region, problem in self.problems.values() if region == region_id),
                key=lambda p: p.detected_at, reverse=True,
            ),
            history=history(touched, steady, now),
        )


def _summary(counts: Sequence) -> Summary:
    def by(field: str) -> dict[str, int]:
        counted: Counter[str] = Counter()
        for row in counts:
            counted[getattr(row, field)] += row.open
        return dict(counted)

    return Summary(
        open=sum(row.open for row in counts), breached=sum(row.breached for row in counts),
        paged=sum(row.paged for row in counts), by_store=by("store_id"), by_tier=by("tier"),
        by_category=by("category"), by_severity=by("severity"),
    )


def history(touched: Iterable[Times], steady: dict[str, tuple[int, int]], now: datetime,
            hours: int = HISTORY_HOURS) -> list[SiteHistory]:
    """Each site's open and breached complaints at `now` and at each hour before it, computed from the
    times the cases hold (filed, first breached, resolved), so a restarted boards API draws the same
    day: each of the `touched` cases, filed, breached or resolved within the day, from the sample by
    which it was filed (breached) to the one by which it was resolved; the `steady` ones, open and
    unchanged all day, (open, breached) per site at every sample. A case keeps
    only its current state: a reopened complaint counts as open from its filing, and its breaches as
    they were before it was resolved. The last sample is the board as it is: a time later than `now`
    (the worker's clock may run ahead of this one) counts as now."""
    times = [now - timedelta(hours=back) for back in range(hours - 1, -1, -1)]

    def first(happened: datetime | None) -> int:
        """The first sample by which it had happened (`hours` for never)."""
        return hours if happened is None else bisect_left(times, min(happened, now))

    steps: dict[str, list[list[int]]] = {}  # per site, what changes at each sample: [open, breached]
    for store_id, open_breached in steady.items():
        steps.setdefault(store_id, [[0, 0] for _ in range(hours + 1)])[0] = list(open_breached)
    for case in touched:
        opened, ended = first(case.filed_at), first(case.resolved_at)
        if opened >= ended:
            continue
        step = steps.setdefault(case.store_id, [[0, 0] for _ in range(hours + 1)])
        step[opened][0] += 1
        step[ended][0] -= 1
        if (breached := max(opened, first(case.breached_at))) < ended:
            step[breached][1] += 1
            step[ended][1] -= 1
    return [SiteHistory(store_id=store, samples=_samples(times, steps[store])) for store in sorted(steps)]


def _samples(times: list[datetime], steps: list[list[int]]) -> list[Sample]:
    samples, open_, breached = [], 0, 0
    for at, (opened, breaches) in zip(times, steps):
        open_, breached = open_ + opened, breached + breaches
        samples.append(Sample(at=at, open=open_, breached=breached))
    return samples


def _open_complaint(case: BoardCase, now: datetime) -> OpenComplaint:
    return OpenComplaint(
        complaint_id=case.complaint_id, store_id=case.store_id, category=case.category, severity=case.severity,
        mood=case.mood, channel=case.channel, assignee=Assignee(tier=case.tier, staff_id=case.staff_id),
        reason=case.reason, filed_at=case.filed_at, age_minutes=max(0, int((now - case.filed_at).total_seconds() // 60)),
        acknowledged=case.acknowledged_at is not None, acknowledge_by=case.acknowledge_by, resolve_by=case.resolve_by,
        breaches=case.breaches, breached_tiers=case.breached_tiers.split(",") if case.breached_tiers else [],
        paged=case.paged,
    )
