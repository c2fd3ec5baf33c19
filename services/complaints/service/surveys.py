"""Sending the CSAT survey link to the customer, by the complaints service itself: it alone holds the
customer's contact, which never goes on Kafka nor into the delivery's record.

The resolution records a `SurveyDelivery` in its own transaction (so a resolved complaint's survey is
never lost), and the shared delivery engine (`services.shared.delivery.engine`) sends it from the API
process: at each attempt the contact is read from the complaint, e-mail first and SMS as the failover.

The survey's token is stored only hashed (`CsatSurvey`), so the link cannot be made again from what
the store keeps for good. The delivery therefore keeps the token itself while it may still be sent,
and no longer: the engine clears it in the update that ends the delivery (sent, cancelled, given up),
and an erasure cancels the customer's deliveries not yet sent and clears their tokens in the
erasure's own transaction. A delivery whose survey was answered (the staff member handed the token
over in person) or has expired is cancelled, not sent."""

import random
import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.complaints.domain.surveys import survey_ended, survey_link, survey_message, survey_routes
from services.complaints.metrics import SURVEY_DELIVERY
from services.complaints.service.csat import token_hash
from services.complaints.settings import ComplaintsSettings
from services.complaints.store.models import Complaint, CsatSurvey, Store, SurveyDelivery
from services.shared.clock import Clock
from services.shared.delivery.channels import Channel, Sends
from services.shared.delivery.engine import Addressed, Cancelled, Deliverer, DeliveryStatus

ERASED = "the customer's contact was erased"


def record_delivery(session: AsyncSession, complaint: Complaint, token: str, now: datetime) -> None:
    """In the resolution's transaction: the survey link goes to the customer, if they left a contact."""
    if not (complaint.contact_email or complaint.contact_phone):
        return
    session.add(SurveyDelivery(
        id=uuid.uuid4(), complaint_id=complaint.id, survey_token=token, status=DeliveryStatus.pending, attempts=0,
        due_at=now, created_at=now,
    ))


async def cancel_deliveries(session: AsyncSession, complaint_ids: Iterable[uuid.UUID]) -> None:
    """In the erasure's transaction: what is still to send is never sent, and no token stays. A sender
    that had claimed one loses its claim (`claimed_until` cleared), so it hands nothing (more) over: the
    engine hands a message to a channel only under its claim. A message already being handed over
    (`sending`) may still arrive, its address read before the erasure; if that channel refuses it, the
    failover channel is not tried. Should a sender's late outcome set such a delivery back to pending,
    its next attempt finds no token and cancels it."""
    ids = list(complaint_ids)
    unsent = (DeliveryStatus.pending, DeliveryStatus.sending)
    await session.execute(
        update(SurveyDelivery).where(SurveyDelivery.complaint_id.in_(ids), SurveyDelivery.status.in_(unsent))
        .values(status=DeliveryStatus.cancelled, claimed_until=None, last_error=ERASED)
    )
    await session.execute(
        update(SurveyDelivery).where(SurveyDelivery.complaint_id.in_(ids), SurveyDelivery.survey_token.is_not(None))
        .values(survey_token=None)
    )


def survey_deliverer(sessions: async_sessionmaker, settings: ComplaintsSettings, channels: Mapping[Channel, Sends],
                     clock: Clock, rng: random.Random) -> Deliverer:
    async def address(delivery: SurveyDelivery, now: datetime) -> Addressed:
        if delivery.survey_token is None:
            raise Cancelled("no survey token")
        async with sessions() as session:
            complaint = await session.get(Complaint, delivery.complaint_id)
            store = await session.get(Store, complaint.store_id)
            survey = await session.get(CsatSurvey, token_hash(delivery.survey_token))
        if survey is None:
            raise Cancelled("no such survey")
        if why := survey_ended(survey.answered_at, survey.expires_at, now):
            raise Cancelled(why)
        routes = survey_routes(complaint.contact_email, complaint.contact_phone)
        if not routes:
            raise Cancelled(ERASED)
        answer_by = survey.expires_at.astimezone(ZoneInfo(store.timezone)).date()
        link = survey_link(settings.survey_url, delivery.survey_token)
        return Addressed(routes=routes, message=survey_message(link, store.name, answer_by))

    return Deliverer(sessions=sessions, table=SurveyDelivery, channels=channels, settings=settings, clock=clock,
                     rng=rng, address=address, metrics=SURVEY_DELIVERY, ended={"survey_token": None})
