"""The scheduling worker (`python -m services.scheduling.worker`). It consumes complaints, returns,
escalations and coordination (consumer group `scheduling`) and applies each event's effects to the
scheduling store once (see `service.intake` and `services.shared.intake`); what those effects publish
goes through the store's outbox, which the API's relay sends."""

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import async_sessionmaker

from services.scheduling.service import intake
from services.scheduling.settings import SchedulingSettings
from services.scheduling.store.migrate import upgrade_async
from services.scheduling.store.outbox import OUTBOX
from services.shared.clock import Clock, utc_now
from services.shared.events.envelope import Envelope
from services.shared.intake import consuming_app
from services.shared.kafka import Handler
from services.shared.settings import PlatformSettings

GROUP = "scheduling"


def build_worker(settings: SchedulingSettings, platform: PlatformSettings, clock: Clock = utc_now) -> FastAPI:
    effects = intake.effects(settings)

    def handler_of(sessions: async_sessionmaker) -> Handler:
        async def handle(envelope: Envelope) -> None:
            await intake.apply(sessions, envelope, clock(), effects)

        return handle

    return consuming_app(
        service="scheduling-worker", group=GROUP, topics=intake.TOPICS, platform=platform,
        database_url=settings.database_url, sessions_of=OUTBOX.sessions, handler_of=handler_of,
        migrate=(lambda: upgrade_async(settings.database_url)) if settings.migrate_on_start else None,
    )
