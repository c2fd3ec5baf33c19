"""The complaints store's retention (see `services.shared.retention`): its tables and how long
it keeps their rows, from its settings."""

from datetime import timedelta

from services.complaints.settings import ComplaintsSettings
from services.complaints.store.models import ContactRead, IdempotencyKey, Lease, OutboxEvent, ProcessedEvent
from services.shared.retention import Kept, Retention


def make_retention(settings: ComplaintsSettings) -> Retention:
    return Retention(
        (
            Kept(IdempotencyKey.created_at, timedelta(hours=settings.idempotency_keep_hours)),
            Kept(OutboxEvent.published_at, timedelta(days=settings.outbox_keep_days)),
            Kept(ContactRead.read_at, timedelta(days=settings.contact_reads_keep_days)),
            Kept(ProcessedEvent.processed_at, timedelta(days=settings.processed_events_keep_days)),
        ),
        Lease,
        batch_size=settings.retention_batch_size,
        interval=timedelta(seconds=settings.retention_interval_s),
    )
