"""The scheduling store's retention (see `services.shared.retention`)."""

from datetime import timedelta

from services.scheduling.settings import SchedulingSettings
from services.scheduling.store.demand import DemandCount
from services.scheduling.store.models import IdempotencyKey, Lease, OutboxEvent, ProcessedEvent
from services.shared.retention import Kept, Retention


def make_retention(settings: SchedulingSettings) -> Retention:
    return Retention(
        (
            Kept(IdempotencyKey.created_at, timedelta(hours=settings.idempotency_keep_hours)),
            Kept(OutboxEvent.published_at, timedelta(days=settings.outbox_keep_days)),
            Kept(ProcessedEvent.processed_at, timedelta(days=settings.processed_events_keep_days)),
            Kept(DemandCount.week_start, timedelta(weeks=settings.demand_keep_weeks + 1)),  # a week's Monday
        ),
        Lease,
        batch_size=settings.retention_batch_size,
        interval=timedelta(seconds=settings.retention_interval_s),
    )
