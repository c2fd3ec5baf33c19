"""The delivery store's retention (see `services.shared.retention`)."""

from datetime import timedelta

from services.notifications.settings import NotificationsSettings
from services.notifications.store.models import Delivery, IdempotencyKey, Lease, OutboxEvent
from services.shared.retention import Kept, Retention, service_retention


def make_retention(settings: NotificationsSettings) -> Retention:
    return service_retention(
        settings, IdempotencyKey, OutboxEvent, Lease,
        Kept(Delivery.created_at, timedelta(days=settings.deliveries_keep_days)),
    )
