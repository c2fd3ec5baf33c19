"""The escalation worker: routes every filed complaint, pages the on-duty manager for extreme cases,
runs the SLA timers on its clock and detects common problems across a region's stores.

One store's complaints, roster and clock ticks share a partition number, so the worker that owns a
partition holds the rosters and cases (the SLA timers) of its stores. Complaints and ticks go
through one agent, so a tick never races an acknowledgement of the same case. Every event this
worker publishes has an id derived from what caused it, so a replay after a crash republishes the
same ids and consumers drop the copies."""

import uuid
from datetime import UTC, datetime

import faust
import structlog

from services.escalation.domain.cases import Case
from services.escalation.domain.problems import Watch, observe
from services.escalation.domain.routing import route
from services.escalation.domain.rules import RuleBook
from services.escalation.domain.sla import check
from services.escalation.topics import CHANGELOGS, CLOCK, OBSERVATIONS, TABLES, Observed, Tick
from services.shared.events import complaints as c
from services.shared.events.coordination import ProblemDetected
from services.shared.events.envelope import Envelope, Event, decode, encode, wrap
from services.shared.events.escalations import EscalationBreached, EscalationPaged, EscalationRaised, EscalationRouted
from services.shared.events.returns import ReturnRejected
from services.shared.events.roster import RosterPublished
from services.shared.streams import Batch, Inputs, batches, source
from services.shared.topics import COMPLAINTS, COORDINATION, ESCALATIONS, RETURNS, ROSTER, Topic

SOURCE = "/services/escalation"
DERIVED = uuid.UUID("0b9a3a55-5c8e-4a8e-9a53-0e0a4f3c7d11")
CASES_CHANGELOG = CHANGELOGS["cases"].name  # the boards API reads the cases from it
log = structlog.get_logger()


def derived_id(*parts: object) -> uuid.UUID:
    return uuid.uuid5(DERIVED, ":".join(str(part) for part in parts))


def register(app: faust.App, rules: RuleBook, tick_seconds: float) -> None:
    inputs = Inputs(app, COMPLAINTS, ROSTER, RETURNS, CLOCK, OBSERVATIONS)
    outputs = {topic.name: source(app, topic) for topic in (ESCALATIONS, COORDINATION, OBSERVATIONS, CLOCK)}
    rosters, routed, cases, watches = (
        app.Table(table, partitions=partitions, key_type=bytes, value_type=bytes) for table, partitions in TABLES.items()
    )

    async def publish(batch: Batch, topic: Topic, event: Event, now: datetime, *id_parts: object) -> None:
        subject = str(getattr(event, "complaint_id", "")) or None
        envelope = wrap(event, source=SOURCE, time=now, subject=subject, id=derived_id(*id_parts))
        await batch.send(outputs[topic.name], topic, envelope)

    def roster_of(store_id: str) -> RosterPublished | None:
        raw = rosters.get(store_id.encode())
        return decode(raw, ROSTER.event_classes).data if raw else None  # type: ignore[return-value]

    def case_of(complaint_id: uuid.UUID) -> Case | None:
        raw = cases.get(complaint_id.bytes)
        return Case.model_validate_json(raw) if raw else None

    # When each case next needs the clock, per partition: built from the table at the partition's
    # first tick and forgotten when the partition is revoked, so a tick reads only the cases due.
    due: dict[int, dict[bytes, datetime]] = {}

    def keep(case: Case) -> None:
        key = case.complaint_id.bytes
        cases[key] = case.model_dump_json().encode()
        if case.partition in due:
            due[case.partition][key] = case.next_due

    def drop(case: Case) -> None:
        key = case.complaint_id.bytes
        del cases[key]
        due.get(case.partition, {}).pop(key, None)

    @app.on_partitions_revoked.connect
    async def forget(_app: faust.App, revoked: set, **_: object) -> None:
        for tp in revoked:
            if tp.topic == CLOCK.name:
                due.pop(tp.partition, None)

    async def file(batch: Batch, filed: c.ComplaintFiled, envelope: Envelope, partition: int) -> None:
        if filed.complaint_id.bytes in routed:
            return
        now = envelope.time
        decision = route(filed, roster_of(filed.store_id), rules.for_region(filed.region_id), filed.prior_complaints_30d + 1, now)
        common = {"complaint_id": filed.complaint_id, "store_id": filed.store_id, "region_id": filed.region_id}
        if decision.page is not None:
            page_id = derived_id(filed.complaint_id, "paged")
            paged = EscalationPaged(**common, page_id=page_id, recipient=decision.page, reason=decision.page_reason, at=now)
            await publish(batch, ESCALATIONS, paged, now, filed.complaint_id, "paged")
        routing = EscalationRouted(
            **common, assignee=decision.assignee, acknowledge_by=decision.acknowledge_by,
            resolve_by=decision.resolve_by, reason=decision.reason, at=now,
        )
        await publish(batch, ESCALATIONS, routing, now, filed.complaint_id, "routed")
        observed = Observed(
            region_id=filed.region_id, store_id=filed.store_id, category=filed.category,
            sample_id=filed.complaint_id, at=filed.filed_at,
        )
        await publish(batch, OBSERVATIONS, observed, now, envelope.id, "observed")
        keep(Case.opened(filed, decision, partition, now))
        routed[filed.complaint_id.bytes] = b"1"

    async def tick(batch: Batch, now: datetime, partition: int) -> None:
        if partition not in due:
            found = (Case.model_validate_json(raw) for raw in list(cases.values()))
            due[partition] = {case.complaint_id.bytes: case.next_due for case in found if case.partition == partition}
        for key in [key for key, when in due[partition].items() if when <= now]:
            case = Case.model_validate_json(cases[key])
            if case.expired(now):
                drop(case)
                continue
            breach = check(case.timer, rules.for_region(case.region_id), roster_of(case.store_id), now)
            if breach is None:
                continue
            n = len(case.breaches) + 1
            common = {"complaint_id": case.complaint_id, "store_id": case.store_id, "region_id": case.region_id}
            breached = EscalationBreached(**common, tier=breach.from_tier, deadline_kind=breach.kind, deadline=breach.deadline, at=now)
            raised = EscalationRaised(
                **common, from_tier=breach.from_tier, assignee=breach.timer.assignee, reason=breach.reason,
                acknowledge_by=breach.timer.acknowledge_by, resolve_by=breach.timer.resolve_by, at=now,
            )
            await publish(batch, ESCALATIONS, breached, now, case.complaint_id, "breached", n)
            await publish(batch, ESCALATIONS, raised, now, case.complaint_id, "raised", n)
            keep(case.breached(breach, now))

    def follow(event: c.ComplaintEvent) -> None:
        """A complaint's own lifecycle: acknowledgement and resolution stop its timers, reopening restarts them."""
        case = case_of(event.complaint_id)
        if case is None:
            return
        match event:
            case c.ComplaintAcknowledged(at=at):
                keep(case.acknowledged(at))
            case c.ComplaintResolved(at=at):
                keep(case.resolved(at))
            case c.ComplaintReopened(at=at):
                keep(case.reopened(rules.for_region(case.region_id), at))
            # A closed complaint is resolved already; its case stays until it expires, for a reopening.

    @app.agent(inputs.channel(ROSTER))
    async def keep_rosters(stream: faust.StreamT) -> None:
        async for batch in batches(stream):
            for event in batch:
                if (envelope := await inputs.decode(batch, event)) is not None:
                    rosters[envelope.data.store_id.encode()] = event.value

    @app.agent(inputs.channel(COMPLAINTS, CLOCK))
    async def escalate(stream: faust.StreamT) -> None:
        async for batch in batches(stream):
            for event in batch:
                match await inputs.decode(batch, event):
                    case Envelope(data=c.ComplaintFiled() as filed) as envelope:
                        await file(batch, filed, envelope, event.message.partition)
                    case Envelope(data=Tick(now=now)):
                        await tick(batch, now, event.message.partition)
                    case Envelope(data=c.ComplaintEvent() as lifecycle):
                        follow(lifecycle)

    @app.agent(inputs.channel(RETURNS))
    async def observe_returns(stream: faust.StreamT) -> None:
        async for batch in batches(stream):
            for event in batch:
                envelope = await inputs.decode(batch, event)
                if envelope is None or not isinstance(envelope.data, ReturnRejected):
                    continue
                rejected: ReturnRejected = envelope.data
                for rule in rejected.rules:
                    observed = Observed(
                        region_id=rejected.region_id, store_id=rejected.store_id,
                        category=c.Category.return_refund_exchange, policy_rule=rule, sample_id=rejected.return_id,
                        at=rejected.at,
                    )
                    await publish(batch, OBSERVATIONS, observed, envelope.time, envelope.id, rule)

    @app.agent(inputs.channel(OBSERVATIONS))
    async def detect(stream: faust.StreamT) -> None:
        async for batch in batches(stream):
            # Each region's watches are read once and written once a batch: a burst costs one write.
            changed: dict[bytes, tuple[Watch, faust.EventT]] = {}
            for event in batch:
                if (envelope := await inputs.decode(batch, event)) is None:
                    continue
                seen: Observed = envelope.data  # type: ignore[assignment]
                key = seen.signature.encode()
                watch = changed[key][0] if key in changed else Watch.model_validate_json(watches.get(key, b"{}"))
                watch, evidence = observe(watch, str(envelope.id), seen, rules.for_region(seen.region_id).problems)
                changed[key] = watch, event
                if evidence is not None:
                    problem_id = derived_id(seen.signature, envelope.id)
                    detected = ProblemDetected(region_id=seen.region_id, problem_id=problem_id, evidence=evidence, at=seen.at)
                    log.info("common problem detected", region_id=seen.region_id, signature=seen.signature)
                    await publish(batch, COORDINATION, detected, envelope.time, problem_id, "detected")
            for key, (watch, event) in changed.items():
                batch.make_current(event)  # the partition the key's events come from
                watches[key] = watch.model_dump_json().encode()

    if tick_seconds > 0:
        @app.timer(interval=tick_seconds, on_leader=True)
        async def ticker() -> None:
            now = datetime.now(UTC)
            for partition in range(CLOCK.partitions):
                tick_event = wrap(Tick(partition=partition, now=now), source=SOURCE, time=now)
                await outputs[CLOCK.name].send(value=encode(tick_event), partition=partition)
