"""Follow-ups of pages nobody acknowledged: when a sent page's `follow_up_at` comes, the complaints
service (the system of record) is asked whether anyone acknowledged the complaint — from a link or in
the app; if not, the next step (`domain.recipients.next_step`) is recorded as a new delivery, once:
its id is derived from the page's, so senders doing this side by side add it once."""

import uuid
from dataclasses import dataclass
from datetime import datetime

import httpx
import structlog
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import async_sessionmaker

from services.notifications import metrics
from services.notifications.domain.recipients import next_step
from services.notifications.service.directory import service_headers
from services.notifications.service.sender import copied
from services.notifications.store.models import Delivery
from services.shared.clock import Clock
from services.shared.db import insert_statement
from services.shared.delivery.engine import DeliveryStatus
from services.shared.events.fields import Tier
from services.shared.settings import PlatformSettings

BATCH = 50
log = structlog.get_logger()


@dataclass
class FollowUps:
    sessions: async_sessionmaker
    complaints: httpx.AsyncClient
    platform: PlatformSettings
    clock: Clock

    async def run_due(self) -> None:
        now = self.clock()
        async with self.sessions() as session:
            due = (await session.scalars(
                select(Delivery).where(Delivery.follow_up_at <= now).order_by(Delivery.follow_up_at).limit(BATCH)
            )).all()
        for page in due:
            try:
                acknowledged = await self._acknowledged(page.complaint_id)
            except httpx.HTTPError as error:  # asked again next round
                log.warning("could not ask whether a page was acknowledged", error=type(error).__name__)
                return
            await self._follow_up(page, now, acknowledged)

    async def _follow_up(self, page: Delivery, now: datetime, acknowledged: bool) -> None:
        step = None if acknowledged else next_step(page.step, Tier(page.tier))
        async with self.sessions.begin() as session:
            taken = await session.execute(
                update(Delivery).where(Delivery.id == page.id, Delivery.follow_up_at == page.follow_up_at)
                .values(follow_up_at=None)
            )
            if taken.rowcount != 1 or step is None:
                return
            number, tier, same_person = step
            await session.execute(
                insert_statement(session, Delivery).values(
                    **{**copied(page), "step": number, "tier": tier}, id=uuid.uuid5(page.id, "follow-up"),
                    staff_id=page.staff_id if same_person else None, follows=page.id, status=DeliveryStatus.pending,
                    attempts=0, due_at=now, created_at=now,
                ).on_conflict_do_nothing(index_elements=["id"])
            )
        metrics.FOLLOW_UPS.labels("sent_again" if same_person else "next_tier").inc()
        log.info("page not acknowledged; followed up", delivery_id=str(page.id), step=number, tier=tier)

    async def _acknowledged(self, complaint_id: uuid.UUID) -> bool:
        response = await self.complaints.get(f"/v1/complaints/{complaint_id}", headers=service_headers(self.platform))
        if response.status_code == 404:
            return True  # nothing left to acknowledge
        response.raise_for_status()
        return response.json()["status"] != "open"
