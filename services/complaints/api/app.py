"""The complaints service's FastAPI application and what runs beside it (migrations, the relay,
retention)."""

from fastapi import FastAPI

from services.complaints.api import admin, complaints, contact_reads, csat, returns
from services.complaints.settings import DEVELOPMENT_CUSTOMER_REF_KEY, ComplaintsSettings
from services.complaints.store.migrate import upgrade_async
from services.complaints.store.models import IdempotencyKey, Lease
from services.complaints.store.outbox import OUTBOX
from services.complaints.store.retention import make_retention
from services.shared.clock import Clock, utc_now
from services.shared.database_app import database_app
from services.shared.settings import Environment, PlatformSettings, check_production_key

VERSION = "0.2.0"


def build_app(settings: ComplaintsSettings, platform: PlatformSettings, clock: Clock = utc_now) -> FastAPI:
    if platform.env is Environment.production:
        check_production_key("COMPLAINTS_CUSTOMER_REF_KEY", settings.customer_ref_key, DEVELOPMENT_CUSTOMER_REF_KEY)
    app = database_app(
        service="complaints", settings=settings, platform=platform, clock=clock, outbox=OUTBOX,
        leases=Lease, idempotency_keys=IdempotencyKey, retention=make_retention(settings),
        upgrade=upgrade_async, routers=(complaints.router, returns.router, csat.router, admin.router, contact_reads.router),
        version=VERSION,
        description="System of record for complaints, returns and CSAT. Every change is published to Kafka "
        "at least once, under a stable event id, through a transactional outbox.",
    )
    app.state.ref_key = settings.customer_ref_key.get_secret_value().encode()
    return app

