"""The escalation worker: routes every filed complaint and pages the on-duty manager for extreme
cases, from the store's on-duty roster. One store's complaints and roster share a partition
number, so each worker sees the rosters of the stores whose complaints it routes."""

import uuid

import faust
import structlog

from services.escalation.domain.routing import route
from services.escalation.domain.rules import RuleBook
from services.shared.events.complaints import ComplaintFiled
from services.shared.events.envelope import Envelope, InvalidEvent, decode, wrap
from services.shared.events.escalations import EscalationPaged, EscalationRouted
from services.shared.events.roster import RosterPublished
from services.shared.kafka import dead_letter
from services.shared.streams import send, source
from services.shared.topics import COMPLAINTS, ESCALATIONS, ROSTER, Topic

SOURCE = "/services/escalation"
# Decision events get ids derived from the complaint, so a replay republishes the same ids.
DECISIONS = uuid.UUID("0b9a3a55-5c8e-4a8e-9a53-0e0a4f3c7d11")
log = structlog.get_logger()


def register(app: faust.App, rules: RuleBook) -> None:
    complaints, roster_topic = source(app, COMPLAINTS), source(app, ROSTER)
    escalations = source(app, ESCALATIONS)
    dlq = {topic.name: source(app, topic.dlq) for topic in (COMPLAINTS, ROSTER)}
    rosters = app.Table("rosters", partitions=ROSTER.partitions, key_type=bytes, value_type=bytes)
    routed = app.Table("routed", partitions=COMPLAINTS.partitions, key_type=bytes, value_type=bytes)

    async def valid(event: faust.EventT, topic: Topic) -> Envelope | None:
        try:
            return decode(event.value, topic.event_classes)
        except InvalidEvent as error:
            letter = dead_letter(event.message, str(error), app.conf.id)
            log.warning("event dead-lettered", topic=topic.name, offset=event.message.offset, reason=str(error))
            await send(dlq[topic.name], topic.dlq, letter)
            return None

    @app.agent(roster_topic)
    async def keep_rosters(stream: faust.StreamT) -> None:
        async for event in stream.events():
            envelope = await valid(event, ROSTER)
            if envelope is not None:
                rosters[envelope.data.store_id.encode()] = event.value

    @app.agent(complaints)
    async def route_complaints(stream: faust.StreamT) -> None:
        async for event in stream.events():
            envelope = await valid(event, COMPLAINTS)
            if envelope is None or not isinstance(envelope.data, ComplaintFiled):
                continue
            filed: ComplaintFiled = envelope.data
            if filed.complaint_id.bytes in routed:
                continue
            roster_bytes = rosters.get(filed.store_id.encode())
            roster = decode(roster_bytes, ROSTER.event_classes).data if roster_bytes else None
            assert roster is None or isinstance(roster, RosterPublished)
            now = envelope.time
            decision = route(filed, roster, rules.for_region(filed.region_id), filed.prior_complaints_30d + 1, now)
            common = {"complaint_id": filed.complaint_id, "store_id": filed.store_id, "region_id": filed.region_id}
            outcome = wrap(
                EscalationRouted(
                    **common, assignee=decision.assignee, acknowledge_by=decision.acknowledge_by,
                    resolve_by=decision.resolve_by, reason=decision.reason, at=now,
                ),
                source=SOURCE, time=now, subject=str(filed.complaint_id),
                id=uuid.uuid5(DECISIONS, f"{filed.complaint_id}:routed"),
            )
            if decision.page is not None:
                page_id = uuid.uuid5(DECISIONS, f"{filed.complaint_id}:paged")
                page = wrap(
                    EscalationPaged(**common, page_id=page_id, recipient=decision.page, reason=decision.page_reason, at=now),
                    source=SOURCE, time=now, subject=str(filed.complaint_id), id=page_id,
                )
                await send(escalations, ESCALATIONS, page)
            await send(escalations, ESCALATIONS, outcome)
            routed[filed.complaint_id.bytes] = outcome.model_dump_json().encode()
