"""The escalation worker's behaviour, one plain function per kind of input. Each takes the state it
needs (services.escalation.tables) and the input, keeps what changed, and returns the events to
publish, each under the id derived from its cause, so that a replay publishes the same ids;
`streams.py` decodes, calls them and sends what they return."""

from datetime import datetime
from uuid import UUID

import structlog

from services.escalation.domain.cases import Case
from services.escalation.domain.problems import observe
from services.escalation.domain.routing import route
from services.escalation.domain.rules import RuleBook
from services.escalation.domain.sla import check
from services.escalation.events import Observation, Observations, Observed, Outgoing, Tick, derived_id
from services.escalation.tables import Rosters, State, Watches
from services.escalation.topics import OBSERVATIONS
from services.shared.events import complaints as c
from services.shared.events.coordination import ProblemDetected
from services.shared.events.envelope import Envelope
from services.shared.events.escalations import (
    Assignee, EscalationBreached, EscalationPaged, EscalationRaised, EscalationReopened, EscalationRouted,
)
from services.shared.events.fields import MAX_ITEMS
from services.shared.events.returns import ReturnRejected
from services.shared.topics import COORDINATION, ESCALATIONS

log = structlog.get_logger()


def on_roster(rosters: Rosters, envelope: Envelope, record: bytes) -> None:
    rosters.keep(envelope.data, record)  # type: ignore[arg-type]


def escalate(state: State, envelope: Envelope, partition: int) -> list[Outgoing]:
    """A complaint's event or a tick of the clock, from one partition. Both come this one way, in
    order, so a tick never races an acknowledgement of the same case."""
    match envelope.data:
        case c.ComplaintFiled():
            return on_filed(state, envelope, partition)
        case Tick() as tick:
            return on_tick(state, tick, partition)
        case c.ComplaintEvent() as event:
            return on_lifecycle(state, envelope, event)
    return []


def on_filed(state: State, envelope: Envelope, partition: int) -> list[Outgoing]:
    """Routes a complaint once, pages someone at once if its rules say so, opens its case and passes
    it on to the common-problem detector."""
    filed: c.ComplaintFiled = envelope.data  # type: ignore[assignment]
    complaint_id, now = filed.complaint_id, envelope.time
    # Its case says it was routed; once the case is forgotten, its routing mark does (see on_tick).
    if (case := state.cases.get(complaint_id)) is not None or complaint_id.bytes in state.routed:
        # A replay after a crash. The local store is written before its changelog, so what the worker
        # kept may never have reached the changelog (and a worker on a new disk would not have it):
        # keep it again. Nothing is published again; that happened before the case was kept.
        if case is not None:
            state.cases.keep(case)
        else:
            state.routed[complaint_id.bytes] = b"1"
        return []
    rules = state.rules.for_region(filed.region_id)
    decision = route(filed, state.rosters.of(filed.store_id), rules, filed.prior_complaints_30d + 1, now)
    common = {"complaint_id": complaint_id, "store_id": filed.store_id, "region_id": filed.region_id}
    outgoing = []
    if decision.page is not None:
        page_id = derived_id(complaint_id, "paged")
        paged = EscalationPaged(**common, page_id=page_id, recipient=decision.page, reason=decision.page_reason, at=now)
        outgoing.append(Outgoing(ESCALATIONS, paged, page_id, now))
    routing = EscalationRouted(
        **common, assignee=decision.assignee, acknowledge_by=decision.acknowledge_by,
        resolve_by=decision.resolve_by, reason=decision.reason, at=now,
    )
    observed = Observed(
        region_id=filed.region_id, store_id=filed.store_id, category=filed.category,
        sample_id=complaint_id, at=filed.filed_at,
    )
    outgoing += [
        Outgoing(ESCALATIONS, routing, derived_id(complaint_id, "routed"), now),
        Outgoing(OBSERVATIONS, observed, derived_id(envelope.id, "observed"), now),
    ]
    state.cases.keep(Case.opened(filed, decision, partition, now))
    return outgoing


def on_tick(state: State, tick: Tick, partition: int) -> list[Outgoing]:
    """Moves every case of the partition whose deadline has passed one tier up, and forgets the
    cases resolved longer ago than they are kept. The n-th breach of a case has ids of its own."""
    now, outgoing = tick.now, []
    for case in state.cases.due_at(partition, now):
        if case.expired(now, state.cases.kept):
            state.cases.drop(case)
            state.routed[case.complaint_id.bytes] = b"1"  # its filing, replayed from now on, is not routed again
            continue
        breach = check(case.timer, state.rules.for_region(case.region_id), state.rosters.of(case.store_id), now)
        if breach is None:
            continue
        n = len(case.breaches) + 1
        common = {"complaint_id": case.complaint_id, "store_id": case.store_id, "region_id": case.region_id}
        breached = EscalationBreached(
            **common, tier=breach.from_tier, deadline_kind=breach.kind, deadline=breach.deadline, at=now,
        )
        raised = EscalationRaised(
            **common, from_tier=breach.from_tier, assignee=breach.timer.assignee, reason=breach.reason,
            acknowledge_by=breach.timer.acknowledge_by, resolve_by=breach.timer.resolve_by, at=now,
        )
        outgoing += [
            Outgoing(ESCALATIONS, breached, derived_id(case.complaint_id, "breached", n), now),
            Outgoing(ESCALATIONS, raised, derived_id(case.complaint_id, "raised", n), now),
        ]
        state.cases.keep(case.breached(breach, now))
    return outgoing


def on_lifecycle(state: State, envelope: Envelope, event: c.ComplaintEvent) -> list[Outgoing]:
    """A complaint's own lifecycle: acknowledgement and resolution stop its timers, reopening
    restarts them at its tier (and says so, with the new deadlines), and an assignment by hand moves
    it to that person and tier."""
    case = state.cases.get(event.complaint_id)
    if case is None:
        return []
    match event:
        case c.ComplaintAcknowledged(at=at):
            state.cases.keep(case.acknowledged(at))
        case c.ComplaintAssigned(assignee=staff_id, assignee_role=tier, at=at):
            state.cases.keep(case.assigned(Assignee(tier=tier, staff_id=staff_id), at))
        case c.ComplaintResolved(at=at):
            state.cases.keep(case.resolved(at))
        case c.ComplaintReopened(at=at):
            case = case.reopened(state.rules.for_region(case.region_id), at)
            state.cases.keep(case)
            reopened = EscalationReopened(
                complaint_id=case.complaint_id, store_id=case.store_id, region_id=case.region_id, assignee=case.assignee,
                acknowledge_by=case.acknowledge_by, resolve_by=case.resolve_by,
                reason=f"reopened: the {case.assignee.tier} tier's deadlines from now", at=at,
            )
            return [Outgoing(ESCALATIONS, reopened, derived_id(envelope.id, "reopened"), envelope.time)]
        # A closed complaint is resolved already; its case stays until it expires, for a reopening.
    return []


def on_return(envelope: Envelope) -> list[Outgoing]:
    """Each policy rule that rejected a return, observed for the common-problem detector; the other
    return events do not concern the worker."""
    if not isinstance(rejected := envelope.data, ReturnRejected):
        return []
    return [
        Outgoing(
            OBSERVATIONS,
            Observed(
                region_id=rejected.region_id, store_id=rejected.store_id, category=c.Category.return_refund_exchange,
                policy_rule=rule, sample_id=rejected.return_id, at=rejected.at,
            ),
            derived_id(envelope.id, rule),
            envelope.time,
        )
        for rule in rejected.rules
    ]


def observed_apart(outgoing: list[Outgoing]) -> tuple[list[Outgoing], list[Outgoing]]:
    """The events to publish now, and the observations to publish `gathered` once the batch is handled."""
    observed = [out for out in outgoing if isinstance(out.event, Observed)]
    return [out for out in outgoing if not isinstance(out.event, Observed)], observed


def gathered(outgoing: list[Outgoing]) -> list[Outgoing]:
    """The events to publish with each region's observations gathered into as few records as they fit
    in, each observation under its own id; the other events as they were, in order."""
    by_region: dict[str, list[Outgoing]] = {}
    published = []
    for out in outgoing:
        if isinstance(out.event, Observed):
            by_region.setdefault(out.event.region_id, []).append(out)
        else:
            published.append(out)
    for region_id, observed in by_region.items():
        for start in range(0, len(observed), MAX_ITEMS):
            chunk = observed[start:start + MAX_ITEMS]
            gathered = Observations(region_id=region_id, observations=[
                Observation(id=out.id, observed=out.event) for out in chunk  # type: ignore[arg-type]
            ])
            published.append(Outgoing(OBSERVATIONS, gathered, derived_id(*(out.id for out in chunk)), chunk[-1].time))
    return published


def on_observed(watches: Watches, envelope: Envelope, rules: RuleBook) -> list[Outgoing]:
    """Counts observations into their region's watches; a common problem starting with one is published."""
    data = envelope.data
    # One by one, as the worker published them before it gathered them.
    seen = [(each.id, each.observed) for each in data.observations] if isinstance(data, Observations) else [(envelope.id, data)]
    outgoing = []
    for seen_id, observed in seen:
        outgoing += _observe(watches, seen_id, observed, envelope.time, rules)
    return outgoing


def _observe(watches: Watches, seen_id: UUID, seen: Observed, time: datetime, rules: RuleBook) -> list[Outgoing]:
    key = seen.signature.encode()
    watch, evidence = observe(watches.get(key), str(seen_id), seen, rules.for_region(seen.region_id).problems)
    watches.put(key, watch)
    if evidence is None:
        return []
    problem_id = derived_id(seen.signature, seen_id)
    detected = ProblemDetected(region_id=seen.region_id, problem_id=problem_id, evidence=evidence, at=seen.at)
    log.info("common problem detected", region_id=seen.region_id, signature=seen.signature)
    return [Outgoing(COORDINATION, detected, derived_id(problem_id, "detected"), time)]
