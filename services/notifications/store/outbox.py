"""The notifications service's outbox (see `services.shared.outbox`): dead letters of undeliverable pages."""

from services.notifications.store.models import OutboxEvent
from services.shared.outbox import Outbox

OUTBOX = Outbox(OutboxEvent, source="/services/notifications")
