"""Need-to-know contact data: a complaint's contact goes only to whom `domain.access` says needs it,
and each time it does, the read is recorded in the caller's transaction, so no contact leaves the
service without its record. The record stays in this database: never on Kafka, never in logs."""

from collections.abc import Iterable
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.complaints.domain.access import needs_contact
from services.complaints.service.commands import Contact, ContactReadFilters
from services.complaints.service.context import Context
from services.complaints.store.models import Complaint, ContactRead, Customer


def disclose(session: AsyncSession, ctx: Context, complaints: Iterable[Complaint], endpoint: str) -> dict[UUID, Contact]:
    """The contact of each of `complaints` the caller needs to know, each recorded as read by them
    through `endpoint` ("GET /v1/complaints/{complaint_id}")."""
    shown = {}
    for complaint in complaints:
        contact = Contact(name=complaint.contact_name, email=complaint.contact_email, phone=complaint.contact_phone)
        if contact == Contact():  # erased: nothing to read
            continue
        # Its assignee is whom it was last routed, raised or assigned to (see service.escalations).
        if needs_contact(ctx.who, store_id=complaint.store_id, assigned_to=complaint.assignee):
            shown[complaint.id] = contact
            session.add(ContactRead(
                complaint_id=complaint.id, staff_id=ctx.who.sub, role=ctx.who.role, endpoint=endpoint, read_at=ctx.now,
            ))
    return shown


async def list_contact_reads(
    session: AsyncSession, filters: ContactReadFilters, after: int | None, limit: int
) -> tuple[list[ContactRead], bool]:
    """Newest first, after the previous page's last read; and whether more follow."""
    query = select(ContactRead)
    if filters.complaint_id is not None:
        query = query.where(ContactRead.complaint_id == filters.complaint_id)
    if filters.staff_id is not None:
        query = query.where(ContactRead.staff_id == filters.staff_id)
    if filters.customer_ref is not None:
        theirs = select(Complaint.id).join(Customer).where(Customer.customer_ref == filters.customer_ref)
        query = query.where(ContactRead.complaint_id.in_(theirs))
    if filters.since is not None:
        query = query.where(ContactRead.read_at >= filters.since)
    if filters.until is not None:
        query = query.where(ContactRead.read_at < filters.until)
    if after is not None:
        query = query.where(ContactRead.id < after)
    rows = list((await session.execute(query.order_by(ContactRead.id.desc()).limit(limit + 1))).scalars())
    return rows[:limit], len(rows) > limit
