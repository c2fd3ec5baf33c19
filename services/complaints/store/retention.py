"""The complaints store's retention (see `services.shared.retention`): its tables and how long
it keeps their rows, from its settings."""

from datetime import timedelta

from services.complaints.settings import ComplaintsSettings
from services.complaints.store.models import IdempotencyKey, Lease, OutboxEvent
from services.shared.retention import Retention


def make_retention(settings: ComplaintsSettings) -> Retention:
    return Retention(
        IdempotencyKey, OutboxEvent, Lease,
        idempotency_keep=timedelta(hours=settings.idempotency_keep_hours),
        outbox_keep=timedelta(days=settings.outbox_keep_days),
        batch_size=settings.retention_batch_size,
        interval=timedelta(seconds=settings.retention_interval_s),
    )
