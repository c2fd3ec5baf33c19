"""What a notification says: the complaint it is about, why it reaches the person, and the link that
acknowledges it. Only ids and the escalation's reason, as on the event: the complaint's text stays in
the complaints app."""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID


class Kind(StrEnum):
    page = "page"  # an immediate call to the person on duty
    tier_raise = "tier_raise"  # the complaint was raised to the person's tier by its SLA


@dataclass(frozen=True)
class Message:
    subject: str
    body: str


SUBJECTS = {
    Kind.page: "Page: complaint at {store_id} needs you now ({reason})",
    Kind.tier_raise: "Complaint at {store_id} raised to you ({reason})",
}
WHAT_HAPPENED = {Kind.page: "was escalated to you", Kind.tier_raise: "was raised to you"}


def message(kind: Kind, *, store_id: str, complaint_id: UUID, reason: str, at: datetime, acknowledge_url: str,
            expires_at: datetime) -> Message:
    return Message(
        subject=SUBJECTS[kind].format(store_id=store_id, reason=reason),
        body=(
            f"A complaint at {store_id} {WHAT_HAPPENED[kind]} at {at.isoformat()}: {reason}.\n"
            f"Complaint: {complaint_id}\n\n"
            f"Acknowledge it (this stops its SLA timer):\n{acknowledge_url}\n\n"
            f"The link works once, until {expires_at.isoformat()}.\n"
        ),
    )
