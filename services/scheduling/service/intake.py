"""What the scheduling worker does with the events it consumes: each module that learns from the
other services' topics (the demand of each hour; training proposals, and the complaint facts that
role-play and development records read) gives its effects per event class (`effects(settings)`),
and every effect of one event runs in one transaction with the record that the event was applied,
so a replay changes nothing twice."""

from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.scheduling.service import demand, development, proposals
from services.scheduling.settings import SchedulingSettings
from services.scheduling.store.models import ProcessedEvent
from services.shared.db import insert_statement
from services.shared.events.envelope import Envelope, Event
from services.shared.topics import COMPLAINTS, COORDINATION, ESCALATIONS, RETURNS, Topic

Effect = Callable[[AsyncSession, Envelope, datetime], Awaitable[None]]
"""Changes the scheduling store for one event (session, envelope, now); raises InvalidEvent for an
event it cannot apply, which then goes to the topic's DLQ."""

TOPICS: tuple[Topic, ...] = (COMPLAINTS, RETURNS, ESCALATIONS, COORDINATION)


def effects(settings: SchedulingSettings) -> Mapping[type[Event], tuple[Effect, ...]]:
    found: dict[type[Event], list[Effect]] = defaultdict(list)
    for module in (demand, proposals, development):
        for event_class, effect in module.effects(settings).items():
            found[event_class].append(effect)
    return {event_class: tuple(listed) for event_class, listed in found.items()}


async def apply(sessions: async_sessionmaker, envelope: Envelope, now: datetime,
                effects: Mapping[type[Event], tuple[Effect, ...]]) -> bool:
    """Applies the event once: False when it was applied before (or nothing here uses it)."""
    wanted = effects.get(type(envelope.data), ())
    if not wanted:
        return False
    async with sessions.begin() as session:
        first = await session.execute(
            insert_statement(session, ProcessedEvent)
            .values(event_id=envelope.id, type=envelope.type, processed_at=now)
            .on_conflict_do_nothing(index_elements=["event_id"])
        )
        if first.rowcount == 0:
            return False
        for effect in wanted:
            await effect(session, envelope, now)
    return True
