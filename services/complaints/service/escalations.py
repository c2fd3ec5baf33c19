"""What the complaints worker learns from the escalation service: whom each complaint was routed,
raised or (reopened) returned to, at which tier, and by when, kept on the complaint so that each person has a queue
(`GET /v1/complaints?assignee=me`). A page calls someone without moving the complaint, and a breach
is always followed by the raise that moves it, so neither changes the complaint."""

from datetime import datetime

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.complaints.service.history import entry
from services.complaints.store.models import Complaint
from services.complaints.store.stores import lock_store
from services.shared.events.envelope import Envelope
from services.shared.events.escalations import EscalationRaised, EscalationReopened, EscalationRouted
from services.shared.intake import Effects
from services.shared.topics import ESCALATIONS, Topic

TOPICS: tuple[Topic, ...] = (ESCALATIONS,)
log = structlog.get_logger()


async def on_moved(session: AsyncSession, envelope: Envelope, now: datetime) -> None:
    """The complaint goes to the escalation's assignee, unless someone assigned it by hand after the
    escalation moved it (the escalation worker follows that assignment too)."""
    moved: EscalationRouted | EscalationRaised | EscalationReopened = envelope.data  # type: ignore[assignment]
    await lock_store(session, moved.store_id)  # in the order the API locks: the store, then the complaint
    complaint = (
        await session.execute(select(Complaint).where(Complaint.id == moved.complaint_id).with_for_update())
    ).scalar_one_or_none()
    if complaint is None:  # filed in another deployment sharing the topic: not this service's to keep
        log.warning("escalation of an unknown complaint skipped", event_id=str(envelope.id))
        return
    session.add(entry(complaint.id, moved, moved.at, tier=moved.assignee.tier, assignee=moved.assignee.staff_id,
                      reason=moved.reason))
    if complaint.assigned_at is not None and moved.at < complaint.assigned_at:
        return
    complaint.assignee, complaint.assignee_role = moved.assignee.staff_id, moved.assignee.tier
    complaint.assigned_at, complaint.resolve_by = moved.at, moved.resolve_by
    complaint.acknowledge_by = None if complaint.acknowledged_at else moved.acknowledge_by
    complaint.updated_at = now


def effects() -> Effects:
    return {EscalationRouted: (on_moved,), EscalationRaised: (on_moved,), EscalationReopened: (on_moved,)}
