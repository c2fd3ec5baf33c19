"""The scheduling service's outbox (see `services.shared.outbox`): its table, the source its events
are published under, and its relay."""

from datetime import timedelta

from sqlalchemy.ext.asyncio import async_sessionmaker

from services.scheduling.settings import SchedulingSettings
from services.scheduling.store.models import Lease, OutboxEvent
from services.shared.clock import Clock
from services.shared.outbox import Outbox, Relay
from services.shared.settings import PlatformSettings

OUTBOX = Outbox(OutboxEvent, source="/services/scheduling")


def make_relay(
    sessions: async_sessionmaker, platform: PlatformSettings, clock: Clock, settings: SchedulingSettings
) -> Relay:
    return Relay(
        sessions, OutboxEvent, Lease, platform, clock, client_id="scheduling-outbox",
        poll_s=settings.relay_poll_ms / 1000, batch_size=settings.relay_batch_size,
        lease_ttl=timedelta(seconds=settings.relay_lease_s),
    )
