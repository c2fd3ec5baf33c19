"""The complaints store's retention (see `services.shared.retention`): its tables and how long
it keeps their rows, from its settings."""

from datetime import timedelta

from services.complaints.settings import ComplaintsSettings
from services.complaints.store.models import (
    ContactRead, IdempotencyKey, Lease, OutboxEvent, ProcessedEvent, SurveyDelivery,
)
from services.shared.retention import Kept, Retention, service_retention


def make_retention(settings: ComplaintsSettings) -> Retention:
    return service_retention(
        settings, IdempotencyKey, OutboxEvent, Lease,
        Kept(ContactRead.read_at, timedelta(days=settings.contact_reads_keep_days)),
        Kept(ProcessedEvent.processed_at, timedelta(days=settings.processed_events_keep_days)),
        Kept(SurveyDelivery.created_at, timedelta(days=settings.survey_deliveries_keep_days)),
    )
