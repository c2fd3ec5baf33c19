"""What was delivered about a complaint, for the people who answer for it: who was told, of what, over
which channel, when, and whether it was acknowledged — a page's timeline, follow-ups included. Ids and
states only, never an address. Front-line staff see what reached them; managers and coordinators what
reached anyone in their store or region. With `recipient=me`, what was addressed to the caller
themselves, newest first: their inbox of pages and notices."""

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy import select

from services.notifications.store.models import Delivery
from services.shared.auth import Authorize
from services.shared.database_app import Sessions
from services.shared.errors import InvalidField
from services.shared.events.fields import StaffId
from services.shared.principal import Principal, Role

router = APIRouter(prefix="/v1/deliveries", tags=["deliveries"])
OWN_ONLY = frozenset({Role.associate, Role.call_centre_agent})
READERS = (*OWN_ONLY, Role.coordinator, Role.store_manager, Role.regional_coordinator, Role.senior_manager, Role.ops)
Reader = Annotated[Principal, Depends(Authorize(*READERS))]
PAGE_MAX = 200


class DeliveryOut(BaseModel):
    id: UUID
    kind: str
    complaint_id: UUID | None = None
    store_id: str | None = None
    about: str = Field("", description="What it told, in the event's non-personal words (an escalation's reason, a "
                       "training's kind and time).")
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


@router.get(
    "", response_model=list[DeliveryOut],
    summary="The deliveries about complaints, oldest first; or, with recipient=me, those addressed to you, newest first",
)
async def deliveries(
    who: Reader, sessions: Sessions,
    complaint_id: Annotated[list[UUID] | None, Query(
        max_length=PAGE_MAX, description="One complaint's id, or several (the parameter repeated) for a board.",
    )] = None,
    recipient: Annotated[Literal["me"] | None, Query(description='"me": what was addressed to you, newest first.')] = None,
    limit: Annotated[int, Query(ge=1, le=PAGE_MAX, description="At most this many (with recipient=me).")] = 50,
) -> list[DeliveryOut]:
    if recipient == "me":
        return await _to_caller(who, sessions, complaint_id, limit)
    if not complaint_id:
        raise InvalidField("complaint_id", "give complaint_id, or recipient=me", location="query")
    return await _about_complaints(who, sessions, complaint_id)


async def _about_complaints(who: Principal, sessions, complaint_ids: list[UUID]) -> list[DeliveryOut]:
    query = select(Delivery).where(Delivery.complaint_id.in_(complaint_ids)).order_by(
        Delivery.created_at, Delivery.step, Delivery.id
    )
    if who.role in OWN_ONLY:
        query = query.where(Delivery.staff_id == who.sub)
    async with sessions() as session:
        found = (await session.scalars(query)).all()
    for store in {(delivery.region_id, delivery.store_id) for delivery in found}:
        who.require_scope(*store)
    return [DeliveryOut.model_validate(delivery, from_attributes=True) for delivery in found]


async def _to_caller(who: Principal, sessions, complaint_ids: list[UUID] | None, limit: int) -> list[DeliveryOut]:
    """Addressed to the caller by name (a tier's or a group's delivery is theirs once it found them), so in
    their scope whatever it is about."""
    query = select(Delivery).where(Delivery.staff_id == who.sub)
    if complaint_ids:
        query = query.where(Delivery.complaint_id.in_(complaint_ids))
    query = query.order_by(Delivery.created_at.desc(), Delivery.step.desc(), Delivery.id).limit(limit)
    async with sessions() as session:
        found = (await session.scalars(query)).all()
    return [DeliveryOut.model_validate(delivery, from_attributes=True) for delivery in found]
