"""The delivery store's retention (see `services.shared.retention`)."""

from datetime import timedelta

from services.notifications.settings import NotificationsSettings
from services.notifications.store.models import Delivery, IdempotencyKey, Lease, OutboxEvent
from services.shared.retention import Kept, Retention


def make_retention(settings: NotificationsSettings) -> Retention:
    return Retention(
        (
            Kept(IdempotencyKey.created_at, timedelta(hours=settings.idempotency_keep_hours)),
            Kept(OutboxEvent.published_at, timedelta(days=settings.outbox_keep_days)),
            Kept(Delivery.created_at, timedelta(days=settings.deliveries_keep_days)),
        ),
        Lease,
        batch_size=settings.retention_batch_size,
        interval=timedelta(seconds=settings.retention_interval_s),
    )
