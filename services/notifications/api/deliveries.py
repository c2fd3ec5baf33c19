"""What was delivered about a complaint, for the people who answer for it: who was told, of what, over
which channel, when, and whether it was acknowledged — a page's timeline, follow-ups included. Ids and
states only, never an address. Front-line staff see what reached them; managers and coordinators what
reached anyone in their store or region."""

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends
from pydantic import BaseModel
from sqlalchemy import select

from services.notifications.store.models import Delivery
from services.shared.auth import Authorize
from services.shared.database_app import Sessions
from services.shared.events.fields import StaffId
from services.shared.principal import Principal, Role

router = APIRouter(prefix="/v1/deliveries", tags=["deliveries"])
OWN_ONLY = frozenset({Role.associate, Role.call_centre_agent})
READERS = (*OWN_ONLY, Role.coordinator, Role.store_manager, Role.regional_coordinator, Role.senior_manager, Role.ops)
Reader = Annotated[Principal, Depends(Authorize(*READERS))]


class DeliveryOut(BaseModel):
    id: UUID
    kind: str
    step: int
    tier: str | None
    staff_id: StaffId | None
    channel: str | None
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    acknowledged_at: datetime | None


@router.get("", response_model=list[DeliveryOut], summary="The deliveries about a complaint, oldest first")
async def about_complaint(complaint_id: UUID, who: Reader, sessions: Sessions) -> list[DeliveryOut]:
    query = select(Delivery).where(Delivery.complaint_id == complaint_id).order_by(Delivery.created_at, Delivery.step)
    if who.role in OWN_ONLY:
        query = query.where(Delivery.staff_id == who.sub)
    async with sessions() as session:
        found = (await session.scalars(query)).all()
    if found:
        who.require_scope(found[0].region_id, found[0].store_id)
    return [DeliveryOut.model_validate(delivery, from_attributes=True) for delivery in found]
