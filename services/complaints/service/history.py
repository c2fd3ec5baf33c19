"""A complaint's history: each event of its lifecycle and each tier move of its escalation, kept for
its timeline. Notes are in their own table."""

import uuid
from datetime import datetime

from services.complaints.store.models import HistoryEntry
from services.shared.events.envelope import Event


def entry(
    complaint_id: uuid.UUID, event: Event, at: datetime, *, by: str | None = None, tier: str | None = None,
    assignee: str | None = None, reason: str | None = None,
) -> HistoryEntry:
    return HistoryEntry(**entry_values(complaint_id, event, at, by=by, tier=tier, assignee=assignee, reason=reason))


def entry_values(
    complaint_id: uuid.UUID, event: Event, at: datetime, *, by: str | None = None, tier: str | None = None,
    assignee: str | None = None, reason: str | None = None,
) -> dict:
    """The entry's columns, for an INSERT of its own."""
    name = event.event_type.removeprefix("retail.").rsplit(".", 1)[0]  # "retail.complaint.filed.v1": complaint.filed
    return {"complaint_id": complaint_id, "event": name, "at": at, "by": by, "tier": tier, "assignee": assignee,
            "reason": reason}
