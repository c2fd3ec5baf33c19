"""The complaints service's FastAPI application and what runs beside it (migrations, the relay,
retention, and the sender of CSAT survey links)."""

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator

import httpx
from fastapi import FastAPI

from services.complaints.api import admin, complaints, contact_reads, csat, policies, returns
from services.complaints.service import surveys
from services.complaints.settings import DEVELOPMENT_CUSTOMER_REF_KEY, ComplaintsSettings
from services.complaints.store.migrate import upgrade_async
from services.complaints.store.models import IdempotencyKey, Lease
from services.complaints.store.outbox import OUTBOX
from services.complaints.store.retention import make_retention
from services.shared.clock import Clock, utc_now
from services.shared.database_app import database_app
from services.shared.delivery.channels import DEVELOPMENT_WEBHOOK_KEY
from services.shared.delivery.configured import build_channels
from services.shared.settings import Environment, PlatformSettings, check_production_key
from services.shared.tasks import essential

VERSION = "0.2.0"


def build_app(settings: ComplaintsSettings, platform: PlatformSettings, clock: Clock = utc_now,
              rng: random.Random | None = None) -> FastAPI:
    if platform.env is Environment.production:
        check_production_key("COMPLAINTS_CUSTOMER_REF_KEY", settings.customer_ref_key, DEVELOPMENT_CUSTOMER_REF_KEY)
        if settings.sms_gateway_url:
            check_production_key(
                "COMPLAINTS_WEBHOOK_SIGNING_KEY", settings.webhook_signing_key, DEVELOPMENT_WEBHOOK_KEY
            )
    app = database_app(
        service="complaints", settings=settings, platform=platform, clock=clock, outbox=OUTBOX,
        leases=Lease, idempotency_keys=IdempotencyKey, retention=make_retention(settings),
        upgrade=upgrade_async, routers=(
            complaints.router, returns.router, csat.router, admin.router, policies.router, contact_reads.router,
        ),
        version=VERSION,
        description="System of record for complaints, returns and CSAT. Every change is published to Kafka "
        "at least once, under a stable event id, through a transactional outbox.",
    )
    app.state.ref_key = settings.customer_ref_key.get_secret_value().encode()
    if settings.survey_delivery_enabled:
        _send_surveys_beside(app, settings, clock, rng or random.Random())
    return app


def _send_surveys_beside(app: FastAPI, settings: ComplaintsSettings, clock: Clock, rng: random.Random) -> None:
    """Runs the sender of survey links in the API process, where resolutions record them and which
    every deployment runs (the worker exists to consume the escalations topic). Every replica may run
    it: a delivery is sent only by the replica that claimed it."""
    serving, sessions = app.router.lifespan_context, app.state.sessions

    @contextlib.asynccontextmanager
    async def lifespan(running: FastAPI) -> AsyncIterator[None]:
        async with serving(running):  # migrations, the relay, retention
            sms_gateway = httpx.AsyncClient(timeout=settings.webhook_timeout_s)
            deliverer = surveys.survey_deliverer(sessions, settings, build_channels(settings, sms_gateway), clock, rng)
            stop = asyncio.Event()
            sending = essential(deliverer.run(stop), "survey sender")
            try:
                yield
            finally:
                stop.set()
                await asyncio.gather(sending, return_exceptions=True)
                await sms_gateway.aclose()

    app.router.lifespan_context = lifespan
