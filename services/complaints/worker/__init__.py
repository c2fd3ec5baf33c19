"""The complaints worker (`python -m services.complaints.worker`). In consumer group `complaints` it
consumes the escalations topic and keeps on each complaint whom it was routed or raised to, at which
tier and by when (`service.escalations`), and the coordination topic, where an accepted policy
proposal becomes a new version of its region's return policy (`service.policies`); each event is
applied once (`services.shared.intake`). The escalations topic is keyed by store and the
coordination topic by region, so one store's, or one region's, events are applied in order."""

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import async_sessionmaker

from services.complaints.service import escalations, policies
from services.complaints.settings import ComplaintsSettings
from services.complaints.store.migrate import upgrade_async
from services.complaints.store.models import ProcessedEvent
from services.shared.clock import Clock, utc_now
from services.shared.db import sessions
from services.shared.events.envelope import Envelope
from services.shared.intake import apply_once, consuming_app
from services.shared.kafka import Handler
from services.shared.settings import PlatformSettings

GROUP = "complaints"


def build_worker(settings: ComplaintsSettings, platform: PlatformSettings, clock: Clock = utc_now) -> FastAPI:
    effects = {**escalations.effects(), **policies.effects()}

    def handler_of(store_sessions: async_sessionmaker) -> Handler:
        async def handle(envelope: Envelope) -> None:
            await apply_once(store_sessions, ProcessedEvent, envelope, clock(), effects)

        return handle

    return consuming_app(
        service="complaints-worker", group=GROUP, topics=(*escalations.TOPICS, *policies.TOPICS), platform=platform,
        database_url=settings.database_url, sessions_of=sessions, handler_of=handler_of,
        migrate=(lambda: upgrade_async(settings.database_url)) if settings.migrate_on_start else None,
    )
