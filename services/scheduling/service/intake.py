"""What the scheduling worker does with the events it consumes: each module that learns from the
other services' topics (the demand of each hour; training proposals, and the complaint facts that
role-play and development records read) gives its effects per event class (`effects(settings)`),
and every effect of one event runs in one transaction with the record that the event was applied,
so a replay changes nothing twice."""

from collections import defaultdict
from datetime import datetime

from sqlalchemy.ext.asyncio import async_sessionmaker

from services.scheduling.service import demand, development, proposals
from services.scheduling.settings import SchedulingSettings
from services.scheduling.store.models import ProcessedEvent
from services.shared.events.envelope import Envelope
from services.shared.intake import Effect, Effects, apply_once
from services.shared.topics import COMPLAINTS, COORDINATION, ESCALATIONS, RETURNS, Topic

TOPICS: tuple[Topic, ...] = (COMPLAINTS, RETURNS, ESCALATIONS, COORDINATION)


def effects(settings: SchedulingSettings) -> Effects:
    found: dict[type, list[Effect]] = defaultdict(list)
    for module in (demand, proposals, development):
        for event_class, effect in module.effects(settings).items():
            found[event_class].append(effect)
    return {event_class: tuple(listed) for event_class, listed in found.items()}


async def apply(sessions: async_sessionmaker, envelope: Envelope, now: datetime, effects: Effects) -> bool:
    """Applies the event once to the scheduling store: False when it was applied before (or nothing here uses it)."""
    return await apply_once(sessions, ProcessedEvent, envelope, now, effects)
