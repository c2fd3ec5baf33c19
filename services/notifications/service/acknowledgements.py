"""Acknowledging a page (or a tier raise) from its message: the signed link names the delivery; the complaints API is
asked to acknowledge the complaint as the person the page reached (with a short-lived token minted
for them, since they come with no sign-in of their own); the link is then spent.

A link is spent only once the complaints service has answered, so a failure on the way leaves it
usable. Two opens at once both reach the complaints API with the same Idempotency-Key, which makes
the second a replay of the first; only one of them spends the link, the other is told it was used."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import httpx
from sqlalchemy import update
from sqlalchemy.ext.asyncio import async_sessionmaker

from services.notifications import metrics
from services.notifications.domain import links
from services.notifications.service.directory import SERVICE_ID
from services.notifications.store.models import Delivery
from services.shared.auth import mint_token
from services.shared.clock import utc_now
from services.shared.delivery.engine import DeliveryStatus
from services.shared.principal import REGION_ROLES, STORE_ROLES, Role
from services.shared.settings import PlatformSettings

TOKEN_TTL = timedelta(minutes=1)


class Outcome(StrEnum):
    acknowledged = "acknowledged"
    already_acknowledged = "already_acknowledged"  # someone acknowledged the complaint in the app first


class UnknownLink(links.LinkRefused):
    status = 404

    def __init__(self) -> None:
        super().__init__("this acknowledge link belongs to nothing we delivered")


class UsedLink(links.LinkRefused):
    status = 409

    def __init__(self, at: datetime) -> None:
        super().__init__(f"this acknowledge link was already used, at {at.isoformat()}; it works once")


class ComplaintsRefused(links.LinkRefused):
    status = 502

    def __init__(self, why: str) -> None:
        super().__init__(f"the complaints service did not take the acknowledgement ({why}); try the link again in a "
                         "moment or acknowledge in the complaints app")


@dataclass
class Acknowledgements:
    sessions: async_sessionmaker
    complaints: httpx.AsyncClient
    platform: PlatformSettings
    link_key: bytes

    async def check(self, token: str, now: datetime) -> Delivery:
        """The delivery an unspent, valid link acknowledges; raises a `LinkRefused` otherwise."""
        async with self.sessions() as session:
            delivery = await session.get(Delivery, links.verify(token, self.link_key, now))
        # A link exists once its message was handed over: it may be opened before `sent` is recorded.
        if delivery is None or delivery.status not in (DeliveryStatus.sending, DeliveryStatus.sent):
            raise UnknownLink()
        if delivery.acknowledged_at is not None:
            raise UsedLink(delivery.acknowledged_at)
        return delivery

    async def acknowledge(self, token: str, now: datetime) -> Outcome:
        try:
            delivery = await self.check(token, now)
            outcome = await self._acknowledge_complaint(delivery)
            async with self.sessions.begin() as session:
                spent = await session.execute(
                    update(Delivery).where(Delivery.id == delivery.id, Delivery.acknowledged_at.is_(None))
                    .values(acknowledged_at=now)
                )
            if spent.rowcount != 1:
                raise UsedLink(now)
        except links.LinkRefused:
            metrics.ACKNOWLEDGEMENTS.labels("refused").inc()
            raise
        metrics.ACKNOWLEDGEMENTS.labels(outcome).inc()
        metrics.ACKNOWLEDGE_SECONDS.observe(max(0.0, (now - delivery.event_at).total_seconds()))
        return outcome

    async def _acknowledge_complaint(self, delivery: Delivery) -> Outcome:
        role = Role(delivery.recipient_role)
        scope = {"store_id": delivery.store_id} if role in STORE_ROLES else {}
        if role in STORE_ROLES | REGION_ROLES:
            scope["region_id"] = delivery.region_id
        # On the wall clock, which the complaints API checks tokens against (see `directory.service_headers`).
        token = mint_token(self.platform, sub=delivery.staff_id, role=role, now=utc_now(), ttl=TOKEN_TTL,
                           actor=SERVICE_ID, **scope)
        try:
            response = await self.complaints.post(
                f"/v1/complaints/{delivery.complaint_id}/acknowledge",
                headers={"Authorization": f"Bearer {token}", "Idempotency-Key": f"acknowledge-{delivery.id}"},
            )
        except httpx.HTTPError as error:
            raise ComplaintsRefused(type(error).__name__) from None
        if response.status_code == 200:
            return Outcome.acknowledged
        if response.status_code == 409:
            return Outcome.already_acknowledged
        raise ComplaintsRefused(f"HTTP {response.status_code}")

