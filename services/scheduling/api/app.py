"""The scheduling service's FastAPI application and what runs beside it (migrations, the relay,
retention)."""

from datetime import datetime, timedelta

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import async_sessionmaker

from services.scheduling.api import development, directory, drafts, proposals, shifts, training
from services.scheduling.service.shifts import refresh_rosters
from services.scheduling.settings import SchedulingSettings
from services.scheduling.store.migrate import upgrade_async
from services.scheduling.store.models import IdempotencyKey, Lease
from services.scheduling.store.outbox import OUTBOX
from services.scheduling.store.retention import make_retention
from services.shared.clock import Clock, utc_now
from services.shared.database_app import database_app
from services.shared.leases import Turns
from services.shared.settings import PlatformSettings

VERSION = "0.1.0"


def roster_refresh(settings: SchedulingSettings) -> Turns:
    async def run(sessions: async_sessionmaker, now: datetime) -> None:
        await refresh_rosters(sessions, now, settings.roster_max_shifts)

    return Turns("roster-refresh", timedelta(minutes=settings.roster_refresh_minutes), run)


def build_app(settings: SchedulingSettings, platform: PlatformSettings, clock: Clock = utc_now) -> FastAPI:
    return database_app(
        service="scheduling", settings=settings, platform=platform, clock=clock, outbox=OUTBOX,
        leases=Lease, idempotency_keys=IdempotencyKey, retention=make_retention(settings), jobs=(roster_refresh(settings),),
        upgrade=upgrade_async, version=VERSION,
        routers=(directory.router, shifts.router, drafts.router, training.router, proposals.router, development.router),
        description="Sites, the staff directory, shifts and the on-duty roster. Publishing a week and every later "
        "change publish each site's roster (compacted `roster` topic) through a transactional outbox.",
    )
