"""What the worker does with the events it consumes: each person (or tier on duty, or group) an
event tells of (`domain.addressing`) gets a pending delivery, once per event id and addressee — the
delivery's id is derived from both, so the one statement that adds it finds whether it was added
before. The worker commits the offset only after this, so an event is recorded before Kafka forgets it."""

import uuid
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, update
from sqlalchemy.ext.asyncio import async_sessionmaker

from services.notifications.domain.addressing import Addressee, notice
from services.notifications.domain.messages import Kind
from services.notifications.store.models import Delivery
from services.shared.db import insert_statement
from services.shared.delivery.engine import DeliveryStatus
from services.shared.events.envelope import Envelope


ASSIGNMENT_HELD = timedelta(seconds=10)
"""An assignment waits this long before it is sent: the escalation worker publishes the page of an
extreme case right after its routing, and the page, which says more, replaces the assignment to the
same person (or to its tier, whose person on duty the page names) rather than following it into
their inbox."""


def _page_replaces_assignment(complaint_id: uuid.UUID, to: Addressee):
    anyone_of_the_tier = and_(Delivery.staff_id.is_(None), Delivery.tier == to.tier)
    same_person = or_(Delivery.staff_id == to.staff_id, anyone_of_the_tier) if to.staff_id else anyone_of_the_tier
    return update(Delivery).where(
        Delivery.complaint_id == complaint_id, Delivery.kind == Kind.assignment, Delivery.status == DeliveryStatus.pending,
        Delivery.claimed_until.is_(None), same_person,
    ).values(status=DeliveryStatus.cancelled, last_error="replaced by the page about the same complaint")


def delivery_id(event_id: uuid.UUID, to: Addressee) -> uuid.UUID:
    return uuid.uuid5(event_id, to.staff_id or (f"group:{to.group}" if to.group else f"tier:{to.tier}"))


async def record(sessions: async_sessionmaker, envelope: Envelope, now: datetime) -> int:
    """Records the event's deliveries; returns how many were new (0 when it tells no one, or was recorded before)."""
    told = notice(envelope.data)
    if told is None:
        return 0
    added = 0
    due = now + ASSIGNMENT_HELD if told.kind is Kind.assignment else now
    async with sessions.begin() as session:
        for to in told.addressees:
            if told.kind is Kind.page:
                await session.execute(_page_replaces_assignment(told.complaint_id, to))
            result = await session.execute(
                insert_statement(session, Delivery).values(
                    id=delivery_id(envelope.id, to), event_id=envelope.id, kind=told.kind, step=0,
                    complaint_id=told.complaint_id, store_id=told.store_id, region_id=told.region_id, tier=to.tier,
                    group_role=to.group, staff_id=to.staff_id, about=told.about, event_at=envelope.time,
                    status=DeliveryStatus.pending, attempts=0, due_at=due, created_at=now,
                ).on_conflict_do_nothing(index_elements=["id"])
            )
            added += result.rowcount
    return added
