"""The sender: delivers the pending deliveries that are due, each under a claim of its own, and
records the outcome.

The guarantee. A delivery is recorded (`service.intake`) before its event's offset is committed, and
it is sent only by the sender that claimed it: the claim (`claimed_until`, one conditional UPDATE)
is committed before the SMTP transaction starts, and `sent` is committed as soon as the relay has
accepted the message. So a replayed event sends nothing, a worker killed mid-batch leaves every
delivery it had finished `sent`, and any number of workers never send one delivery at the same time.
The one window left is between the relay accepting a message and `sent` being committed: a worker
that dies there (or loses its database then) has the delivery sent again once its claim expires —
at least once rather than at most once, because a lost page is worse than a repeated one — and the
repeat carries the same Message-ID.
"""

import asyncio
import contextlib
import hashlib
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

import httpx
import orjson
import structlog
from sqlalchemy import or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import async_sessionmaker

from services.notifications import metrics
from services.notifications.domain import links
from services.notifications.domain.messages import Kind, message
from services.notifications.domain.retry import Backoff
from services.notifications.service.directory import Directory, NoRecipient
from services.notifications.service.email import FAILURES, Mailer
from services.notifications.settings import NotificationsSettings
from services.notifications.store.models import Delivery, Status
from services.shared.clock import Clock
from services.shared.events.deadletter import DeadLetter
from services.shared.events.fields import Tier
from services.shared.outbox import add_events
from services.shared.topics import ESCALATIONS

CONSUMER = "notifications"
log = structlog.get_logger()


@dataclass
class Sender:
    sessions: async_sessionmaker
    directory: Directory
    mailer: Mailer
    settings: NotificationsSettings
    clock: Clock
    rng: random.Random

    @property
    def backoff(self) -> Backoff:
        s = self.settings
        return Backoff(timedelta(seconds=s.retry_base_s), timedelta(seconds=s.retry_cap_s), s.max_attempts)

    async def run(self, stop: asyncio.Event) -> None:
        """Delivers until `stop` is set. Store trouble is logged and the round tried again at the next
        poll; a delivery it interrupted after its claim is tried again when the claim expires."""
        while not stop.is_set():
            try:
                await self.deliver_due()
            except (SQLAlchemyError, OSError) as error:
                log.warning("sending round failed; trying again", error=type(error).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.settings.send_poll_ms / 1000)

    async def deliver_due(self) -> None:
        """One round: claims up to a batch of due deliveries and delivers them side by side."""
        now = self.clock()
        async with self.sessions() as session:
            due = (await session.scalars(
                select(Delivery.id).where(Delivery.status == Status.pending, Delivery.due_at <= now, _unclaimed(now))
                .order_by(Delivery.due_at).limit(self.settings.send_batch_size)
            )).all()
        # Every delivery of the round finishes (records its outcome) before one's failure is raised.
        outcomes = await asyncio.gather(*(self.deliver(delivery_id) for delivery_id in due), return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome

    async def deliver(self, delivery_id: UUID) -> None:
        now = self.clock()
        claimed_until = now + timedelta(seconds=self.settings.claim_s)
        async with self.sessions.begin() as session:
            claimed = await session.execute(
                update(Delivery)
                .where(Delivery.id == delivery_id, Delivery.status == Status.pending, _unclaimed(now))
                .values(claimed_until=claimed_until, attempts=Delivery.attempts + 1)
            )
            if claimed.rowcount != 1:
                return  # another sender has it
            delivery = await session.get(Delivery, delivery_id, populate_existing=True)
        try:
            recipient = await self.directory.recipient(delivery.staff_id, Tier(delivery.tier), delivery.store_id,
                                                       delivery.region_id)
            expires_at = now + timedelta(minutes=self.settings.link_ttl_minutes)
            token = links.sign(delivery.id, expires_at, self.settings.link_signing_key.get_secret_value().encode())
            said = message(
                Kind(delivery.kind), store_id=delivery.store_id, complaint_id=delivery.complaint_id, reason=delivery.reason,
                at=delivery.event_at, acknowledge_url=f"{self.settings.public_url}/v1/acknowledgements/{token}",
                expires_at=expires_at,
            )
            await self.mailer.send(delivery.id, recipient.email, said, now)
        except (NoRecipient, httpx.HTTPError, *FAILURES) as error:
            await self._failed(delivery, type(error).__name__)
            return
        async with self.sessions.begin() as session:
            await session.execute(
                update(Delivery).where(Delivery.id == delivery.id).values(
                    status=Status.sent, sent_at=self.clock(), claimed_until=None, staff_id=recipient.staff_id,
                    recipient_role=recipient.role, last_error=None,
                )
            )
        metrics.DELIVERIES.labels(delivery.channel, "sent").inc()
        metrics.DELIVERY_SECONDS.labels(delivery.channel).observe(max(0.0, (self.clock() - delivery.event_at).total_seconds()))
        log.info("delivered", kind=delivery.kind, delivery_id=str(delivery.id), attempts=delivery.attempts)

    async def _failed(self, delivery: Delivery, error: str) -> None:
        now = self.clock()
        given_up = self.backoff.gives_up(delivery.attempts)
        async with self.sessions.begin() as session:
            if given_up:
                values = {"status": Status.undeliverable}
                add_events(session, ESCALATIONS.dlq, [_dead_letter(delivery, error, now)], now, subject=str(delivery.event_id))
            else:
                values = {"due_at": now + self.backoff.delay(delivery.attempts, self.rng)}
            await session.execute(
                update(Delivery).where(Delivery.id == delivery.id).values(claimed_until=None, last_error=error, **values)
            )
        outcome = "undeliverable" if given_up else "retried"
        metrics.DELIVERIES.labels(delivery.channel, outcome).inc()
        log.warning("not delivered", kind=delivery.kind, delivery_id=str(delivery.id),
                    attempts=delivery.attempts, error=error, outcome=outcome)


def _unclaimed(now: datetime):
    return or_(Delivery.claimed_until.is_(None), Delivery.claimed_until < now)


def _dead_letter(delivery: Delivery, error: str, now: datetime) -> DeadLetter:
    """The undeliverable notification's dead letter: why, and its ids (no contact channel). The consumed
    record's partition and offset are not kept once the delivery is recorded: the letter gives 0 for
    both and identifies the event by its id in the value."""
    value = orjson.dumps({
        "event_id": str(delivery.event_id), "kind": delivery.kind, "complaint_id": str(delivery.complaint_id),
        "store_id": delivery.store_id, "region_id": delivery.region_id, "tier": delivery.tier,
        "staff_id": delivery.staff_id, "channel": delivery.channel,
    })
    return DeadLetter(
        topic=ESCALATIONS.name, partition=0, offset=0, key=delivery.store_id, value=value.decode(), value_size=len(value),
        value_sha256=hashlib.sha256(value).hexdigest(), reason=f"undeliverable after {delivery.attempts} attempts: {error}",
        consumer=CONSUMER, at=now,
    )
