"""The escalation worker: routes every filed complaint, pages the on-duty manager for extreme cases,
runs the SLA timers on its clock and detects common problems across a region's stores. The agents
here only read, call the handlers (services.escalation.handlers) and send what those return."""

import sys
from datetime import timedelta

import faust

from services.escalation import handlers, tables
from services.escalation.domain.rules import InvalidRules, load_rules
from services.escalation.events import SOURCE, Outgoing, Tick
from services.escalation.settings import DEFAULT_RULES, EscalationSettings
from services.escalation.topics import APP_ID, CLOCK, OBSERVATIONS, TABLES
from services.shared.clock import utc_now
from services.shared.events.envelope import KAFKA_HEADERS, encode, wrap
from services.shared.logs import configure_logging
from services.shared.settings import PlatformSettings
from services.shared.streams import Batch, Inputs, batches, source, stream_app, table
from services.shared.topics import COMPLAINTS, COORDINATION, ESCALATIONS, RETURNS, ROSTER

settings, platform = EscalationSettings(), PlatformSettings()
configure_logging(APP_ID, platform.log_level)  # before the app, which keeps the log handlers it finds
try:
    rules = load_rules(settings.rules_file or DEFAULT_RULES)
except InvalidRules as error:
    sys.exit(f"escalation: refusing to start: {error}")

app = stream_app(APP_ID, platform, settings.data_dir, consumer_group_instance_id=settings.instance_id)
inputs = Inputs(app, COMPLAINTS, ROSTER, RETURNS, CLOCK, OBSERVATIONS)
outputs = {topic.name: source(app, topic) for topic in (ESCALATIONS, COORDINATION, OBSERVATIONS, CLOCK)}
rosters, routed, cases, watches = (table(app, name, partitions, platform) for name, partitions in TABLES.items())
kept = timedelta(days=settings.resolved_kept_days)
state = tables.State(rules, tables.Rosters(rosters), routed, tables.Cases(cases, kept))


async def send(batch: Batch, outgoing: list[Outgoing]) -> None:
    for out in outgoing:
        await batch.send(outputs[out.topic.name], out.topic, out.envelope())


@app.on_partitions_revoked.connect
async def forget(_app: faust.App, revoked: set, **_: object) -> None:
    for partition in {tp.partition for tp in revoked if tp.topic == CLOCK.name}:
        state.cases.due.forget(partition)


@app.agent(inputs.channel(ROSTER))
async def keep_rosters(stream: faust.StreamT) -> None:
    async for batch in batches(stream):
        async for event, envelope in inputs.valid(batch):
            handlers.on_roster(state.rosters, envelope, event.value)


# Complaints and ticks through one agent, in order: a tick never races an acknowledgement of its case.
@app.agent(inputs.channel(COMPLAINTS, CLOCK))
async def escalate(stream: faust.StreamT) -> None:
    async for batch in batches(stream):
        # Routing marks and cases are staged: written once the events they caused are delivered.
        staged, observed = state.through(batch.stage(routed), batch.stage(cases)), []
        async for event, envelope in inputs.valid(batch):
            # Sent as each event is handled, not held to the batch's end: a batch of ticks over a backlog
            # of overdue cases raised thousands of breaches a partition, and held them all at once.
            now, later = handlers.observed_apart(handlers.escalate(staged, envelope, event.message.partition))
            await send(batch, now)
            observed += later
        await send(batch, handlers.gathered(observed))


@app.agent(inputs.channel(RETURNS))
async def observe_returns(stream: faust.StreamT) -> None:
    async for batch in batches(stream):
        outgoing = [out async for _event, envelope in inputs.valid(batch) for out in handlers.on_return(envelope)]
        await send(batch, handlers.gathered(outgoing))


@app.agent(inputs.channel(OBSERVATIONS))
async def detect(stream: faust.StreamT) -> None:
    async for batch in batches(stream):
        watching = tables.Watches(batch.stage(watches))  # written once the problems it found are delivered
        async for _event, envelope in inputs.valid(batch):
            await send(batch, handlers.on_observed(watching, envelope, rules))


if settings.tick_seconds > 0:
    @app.timer(interval=settings.tick_seconds, on_leader=True)
    async def ticker() -> None:
        now = utc_now()
        for partition in range(CLOCK.partitions):
            tick = wrap(Tick(partition=partition, now=now), source=SOURCE, time=now)
            await outputs[CLOCK.name].send(value=encode(tick), partition=partition, headers=KAFKA_HEADERS)
