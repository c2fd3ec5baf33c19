"""The notifications service: its HTTP API (acknowledge links, health, metrics) and, beside it in the
same process, the consumer that records what people are to be told and the sender that delivers it."""

import asyncio
import contextlib
import random
import time
from collections.abc import AsyncIterator

import httpx
from fastapi import FastAPI

from services.notifications.api import acknowledgements, deliveries, preferences
from services.notifications.service import intake
from services.notifications.service.acknowledgements import Acknowledgements
from services.notifications.service.directory import Directory
from services.notifications.service.follow_ups import FollowUps
from services.notifications.service.sender import CONSUMER, TOPICS, make_deliverer, measure_overdue
from services.notifications.settings import DEVELOPMENT_LINK_KEY, NotificationsSettings
from services.notifications.store.migrate import upgrade_async
from services.notifications.store.models import IdempotencyKey, Lease
from services.notifications.store.outbox import OUTBOX
from services.notifications.store.retention import make_retention
from services.shared.clock import Clock, utc_now
from services.shared.database_app import database_app
from services.shared.events.envelope import Envelope
from services.shared.kafka import consume, make_producer, stop_producer
from services.shared.delivery.channels import DEVELOPMENT_WEBHOOK_KEY
from services.shared.delivery.configured import build_channels
from services.shared.settings import Environment, PlatformSettings, check_production_key
from services.shared.tasks import essential

VERSION = "0.1.0"
OVERDUE_MEASURED_EVERY_S = 10.0


def build_app(
    settings: NotificationsSettings, platform: PlatformSettings, clock: Clock = utc_now, *,
    scheduling: httpx.AsyncBaseTransport | None = None, complaints: httpx.AsyncBaseTransport | None = None,
    rng: random.Random | None = None,
) -> FastAPI:
    """The service; `scheduling` and `complaints` replace the network to those APIs (tests run them in-process)."""
    if platform.env is Environment.production:
        check_production_key("NOTIFICATIONS_LINK_SIGNING_KEY", settings.link_signing_key, DEVELOPMENT_LINK_KEY)
        check_production_key("NOTIFICATIONS_WEBHOOK_SIGNING_KEY", settings.webhook_signing_key, DEVELOPMENT_WEBHOOK_KEY)
    app = database_app(
        service="notifications", settings=settings, platform=platform, clock=clock, outbox=OUTBOX, leases=Lease,
        idempotency_keys=IdempotencyKey, retention=make_retention(settings), upgrade=upgrade_async,
        routers=(acknowledgements.router, deliveries.router, preferences.router), version=VERSION,
        description="Delivers pages, escalations, proposals, decisions and training notices to the person on duty by "
        "e-mail, webhook or SMS, follows up pages nobody acknowledged, and takes acknowledgements from the message's "
        "signed, single-use link to the complaints service.",
    )
    sessions = app.state.sessions
    scheduling_api = httpx.AsyncClient(base_url=settings.scheduling_url, transport=scheduling, timeout=settings.http_timeout_s)
    complaints_api = httpx.AsyncClient(base_url=settings.complaints_url, transport=complaints, timeout=settings.http_timeout_s)
    link_key = settings.link_signing_key.get_secret_value().encode()
    app.state.acknowledgements = Acknowledgements(sessions, complaints_api, platform, link_key)
    channels_api = httpx.AsyncClient(timeout=settings.webhook_timeout_s)
    deliverer = make_deliverer(sessions, Directory(scheduling_api, platform, clock), build_channels(settings, channels_api),
                               settings, clock, rng or random.Random())
    follow_ups = FollowUps(sessions, complaints_api, platform, clock)

    measured = [float("-inf")]  # when the overdue gauge was last set (monotonic seconds)

    async def also_each_round() -> None:
        await follow_ups.run_due()
        # A count over the pending deliveries: every few seconds is enough for a scrape, not every poll.
        if time.monotonic() - measured[0] >= OVERDUE_MEASURED_EVERY_S:
            await measure_overdue(sessions, clock())
            measured[0] = time.monotonic()

    serving = app.router.lifespan_context

    async def record(envelope: Envelope) -> None:
        await intake.record(sessions, envelope, clock())

    @contextlib.asynccontextmanager
    async def lifespan(running: FastAPI) -> AsyncIterator[None]:
        async with serving(running):  # migrations, the relay, retention
            stop = asyncio.Event()
            producer = make_producer(platform, f"{CONSUMER}-consumer")  # for the dead letters of malformed events
            await producer.start()
            consuming = essential(consume(TOPICS, record, group_id=CONSUMER, settings=platform, producer=producer, stop=stop),
                                  "consumer")
            sending = essential(deliverer.run(stop, also_each_round), "sender")
            try:
                yield
            finally:
                stop.set()
                await asyncio.gather(consuming, sending, return_exceptions=True)
                await stop_producer(producer)
                await scheduling_api.aclose()
                await complaints_api.aclose()
                await channels_api.aclose()

    app.router.lifespan_context = lifespan
    return app
