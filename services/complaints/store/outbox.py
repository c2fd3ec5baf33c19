"""The complaints service's outbox (see `services.shared.outbox`): its table and the source its
events are published under."""

from services.complaints.store.models import OutboxEvent
from services.shared.outbox import Outbox

OUTBOX = Outbox(OutboxEvent, source="/services/complaints")

