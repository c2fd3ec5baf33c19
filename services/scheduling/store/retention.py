"""The scheduling store's retention (see `services.shared.retention`)."""

from datetime import timedelta

from services.scheduling.settings import SchedulingSettings
from services.scheduling.store.demand import DemandCount
from services.scheduling.store.models import IdempotencyKey, Lease, OutboxEvent, ProcessedEvent
from services.shared.retention import Kept, Retention, service_retention


def make_retention(settings: SchedulingSettings) -> Retention:
    return service_retention(
        settings, IdempotencyKey, OutboxEvent, Lease,
        Kept(ProcessedEvent.processed_at, timedelta(days=settings.processed_events_keep_days)),
        Kept(DemandCount.week_start, timedelta(weeks=settings.demand_keep_weeks + 1)),  # a week's Monday
    )
