"""A customer's erasure request: their personal data goes, what the statistics need stays."""

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.complaints.domain.customers import customer_ref
from services.complaints.service.commands import EraseCustomer
from services.complaints.service.context import Context
from services.complaints.service.surveys import cancel_deliveries
from services.complaints.store.models import Complaint, CsatSurvey, Customer, Note, ReturnRequestRow
from services.complaints.store.stores import lock_store
from services.shared.errors import NotFound
from services.shared.events import complaints as events
from services.shared.outbox import add_events
from services.shared.topics import COMPLAINTS


async def erase_customer(session: AsyncSession, ctx: Context, command: EraseCustomer) -> tuple[str, int]:
    """Removes a customer's personal data (contact, descriptions, notes, survey comments, the store
    manager's reasons for their returns' exceptions and declines) and keeps everything the statistics
    need; a survey link not yet sent to them never is. Announces it once per store that held their
    data. Answers the customer's reference and how many complaints were theirs."""
    ref = command.customer_ref or customer_ref(ctx.ref_key, command.email, command.phone)
    customer = (await session.execute(select(Customer).where(Customer.customer_ref == ref))).scalar_one_or_none()
    if customer is None:
        raise NotFound("no customer with that contact or reference")
    complaint_rows = (
        await session.execute(select(Complaint.id, Complaint.store_id, Complaint.region_id).where(
            Complaint.customer_id == customer.id))
    ).all()
    return_rows = (
        await session.execute(select(ReturnRequestRow.id, ReturnRequestRow.store_id, ReturnRequestRow.region_id).where(
            ReturnRequestRow.customer_id == customer.id))
    ).all()
    stores = sorted({(row.store_id, row.region_id) for row in [*complaint_rows, *return_rows]})
    for store_id, _region in stores:  # in one order everywhere, so erasures cannot deadlock
        await lock_store(session, store_id)
    complaint_ids = [row.id for row in complaint_rows]
    customer.erased_at = ctx.now
    if complaint_ids:
        await session.execute(
            update(Complaint).where(Complaint.id.in_(complaint_ids)).values(
                contact_name=None, contact_email=None, contact_phone=None, description=None, resolution_summary=None,
            )
        )
        await session.execute(update(Note).where(Note.complaint_id.in_(complaint_ids)).values(text=None))
        await session.execute(update(CsatSurvey).where(CsatSurvey.complaint_id.in_(complaint_ids)).values(comment=None))
        await cancel_deliveries(session, complaint_ids)
    if return_rows:  # a store manager's reasons may tell of the customer too
        await session.execute(update(ReturnRequestRow).where(ReturnRequestRow.id.in_([row.id for row in return_rows]))
                              .values(exception_reason=None, decline_reason=None))
    for store_id, region_id in stores:
        erased = events.CustomerErased(store_id=store_id, region_id=region_id, customer_ref=ref, at=ctx.now)
        add_events(session, COMPLAINTS, [erased], ctx.now, subject=ref)
    return ref, len(complaint_ids)
