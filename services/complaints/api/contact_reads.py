"""The record of who was shown customers' contact data, for senior managers."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query

from services.complaints.api import schemas
from services.complaints.api.deps import Sessions, Settings
from services.complaints.api.views import ContactReadPage, contact_read_out
from services.complaints.domain.access import AUDITORS
from services.complaints.service.commands import ContactReadFilters
from services.complaints.service.contact_reads import list_contact_reads
from services.shared.auth import Authorize
from services.shared.events.fields import CustomerRef, StaffId
from services.shared.principal import Principal

router = APIRouter(prefix="/v1/contact-reads", tags=["customers"], responses=schemas.ERRORS)
LARGEST_ID = 2**63 - 1


@router.get(
    "", response_model=ContactReadPage, summary="Who was shown customers' contact data, newest first",
    description="Every time a complaint's contact was shown to a staff member: who, in which role, when and through "
    "which endpoint. `since` is inclusive, `until` exclusive.",
)
async def contact_reads(
    _: Annotated[Principal, Depends(Authorize(*AUDITORS))],
    sessions: Sessions,
    settings: Settings,
    complaint_id: UUID | None = None,
    staff_id: StaffId | None = None,
    customer_ref: CustomerRef | None = None,
    since: schemas.Instant | None = None,
    until: schemas.Instant | None = None,
    cursor: Annotated[int | None, Query(ge=1, le=LARGEST_ID)] = None,
    limit: Annotated[int, Query(ge=1)] = 50,
) -> ContactReadPage:
    filters = ContactReadFilters(
        complaint_id=complaint_id, staff_id=staff_id, customer_ref=customer_ref, since=since, until=until
    )
    async with sessions() as session:
        page, more = await list_contact_reads(session, filters, cursor, min(limit, settings.page_size_max))
    return ContactReadPage(items=[contact_read_out(read) for read in page], next_cursor=page[-1].id if more else None)
