"""What the worker does with the escalations it consumes: a page, or a raise to a higher tier, becomes
a pending delivery to the person it names (or, naming nobody, to whoever is on duty), once per event
id, in the one statement that finds whether the event was seen before. The worker commits the offset
only after this, so an event is recorded before Kafka forgets it."""

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import async_sessionmaker

from services.notifications.domain.messages import Kind
from services.notifications.store.models import Delivery, Status
from services.shared.db import insert_statement
from services.shared.events.envelope import Envelope
from services.shared.events.escalations import Assignee, EscalationPaged, EscalationRaised

EMAIL = "email"


def _addressed(event: object) -> tuple[Kind, Assignee] | None:
    if isinstance(event, EscalationPaged):
        return Kind.page, event.recipient
    if isinstance(event, EscalationRaised):
        return Kind.tier_raise, event.assignee
    return None


async def record(sessions: async_sessionmaker, envelope: Envelope, now: datetime) -> bool:
    """Records the event's delivery; False when the event notifies nobody or was recorded before."""
    addressed = _addressed(envelope.data)
    if addressed is None:
        return False
    kind, to = addressed
    event = envelope.data
    async with sessions.begin() as session:
        added = await session.execute(
            insert_statement(session, Delivery)
            .values(
                id=uuid.uuid4(), event_id=envelope.id, kind=kind, channel=EMAIL, complaint_id=event.complaint_id,
                store_id=event.store_id, region_id=event.region_id, tier=to.tier, staff_id=to.staff_id, reason=event.reason,
                event_at=event.at, status=Status.pending, attempts=0, due_at=now, created_at=now,
            )
            .on_conflict_do_nothing(index_elements=["event_id"])
        )
    return added.rowcount == 1
