"""The engine that sends a service's recorded deliveries: each due delivery under a claim of its own,
over the person's channels in their order until one takes it, retried with backoff, given up after
the last attempt; the outcome recorded.

The guarantee. A delivery is recorded before the event (or the change) that asks for it is
acknowledged, and it is sent only by the sender that claimed it (`claimed_until`, one conditional
UPDATE committed before anything goes out). Just before a message is handed to a channel, once the
channel has agreed to take one (SMTP's MAIL and RCPT accepted), the delivery is marked `sending`
under that same claim; when the channel answers it is `sent`, or back to `pending` when it refused.
So a replayed event sends nothing, any number of senders never send one delivery twice, and a sender
killed mid-batch leaves every delivery either untouched by a channel (`pending`: sent when its claim
expires) or in flight (`sending`): a message in flight is taken as sent when its claim expires — not
sent again — and counted `in_doubt`, as is one whose channel never answered once it had the message
(`InDoubt`: a relay that timed out after the message's end). Nothing is sent twice; a message in doubt
may, in the rare case the channel had not received all of it, not arrive, which is why a page that no
one acknowledges is sent again (the notifications service's follow-ups).
"""

import asyncio
import contextlib
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

import structlog
from prometheus_client import Counter, Histogram
from sqlalchemy import String, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from services.shared.clock import Clock
from services.shared.delivery.channels import Channel, ChannelSettings, InDoubt, Message, Route, Sends
from services.shared.delivery.retry import Backoff

log = structlog.get_logger()


class DeliveryStatus(StrEnum):
    pending = "pending"  # to send, at `due_at`
    sending = "sending"  # being handed to `channel` by the sender holding the claim
    sent = "sent"  # the channel accepted it (or it was in flight when its sender died: `last_error` says so)
    undeliverable = "undeliverable"  # given up after the last attempt
    cancelled = "cancelled"  # nothing to deliver any more (the contact erased, the need gone)


IN_DOUBT = "in_doubt: handed to the channel, whose answer never came"


class DeliveryColumns:
    """What the engine keeps of a delivery; a service adds what its messages are about."""

    id: Mapped[UUID] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str | None] = mapped_column(String(20))  # the channel that took it, or was last tried
    attempts: Mapped[int]
    due_at: Mapped[datetime]
    claimed_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(200))  # kinds of failure, never their text
    created_at: Mapped[datetime] = mapped_column(index=True)
    sent_at: Mapped[datetime | None]


@dataclass(frozen=True)
class Addressed:
    """Where a delivery goes (its routes in order of preference) and what it says, worked out at each
    attempt from the current contact data, which the delivery itself never holds."""

    routes: Sequence[Route]
    message: Message
    recorded: Mapping[str, Any] = field(default_factory=dict)  # columns to set once it is sent (whom it reached)


class NotYet(Exception):
    """Nobody to deliver to yet (nobody on duty, no contact channel): a failed attempt, tried again."""


class Deferred(Exception):  # noqa: N818 - an outcome, not an error
    """Not now (the person's quiet hours): due again at `until`, without using an attempt."""

    def __init__(self, until: datetime) -> None:
        super().__init__(until.isoformat())
        self.until = until


class Cancelled(Exception):  # noqa: N818 - an outcome, not an error
    """Nothing to deliver any more: the delivery ends `cancelled` with this reason."""


class LostClaim(Exception):
    """The claim expired before the message was handed over: another sender has the delivery now."""


@dataclass(frozen=True)
class DeliveryMetrics:
    deliveries: Counter  # labels: channel, outcome
    seconds: Histogram  # labels: channel


@dataclass
class Deliverer:
    sessions: async_sessionmaker
    table: type  # a model with `DeliveryColumns`
    channels: Mapping[Channel, Sends]
    settings: ChannelSettings
    clock: Clock
    rng: random.Random
    address: Callable[[Any, datetime], Awaitable[Addressed]]
    metrics: DeliveryMetrics
    given_up: Callable[[AsyncSession, Any, str, datetime], None] = lambda session, delivery, error, now: None
    started: Callable[[Any], datetime] = lambda delivery: delivery.created_at  # what latency is measured from
    ended: Mapping[str, Any] = field(default_factory=dict)  # columns set as a delivery ends: what must not outlive it

    @property
    def backoff(self) -> Backoff:
        s = self.settings
        return Backoff(timedelta(seconds=s.retry_base_s), timedelta(seconds=s.retry_cap_s), s.max_attempts)

    async def run(self, stop: asyncio.Event, also: Callable[[], Awaitable[None]] | None = None) -> None:
        """Delivers until `stop` is set, doing `also` each round. Store trouble is logged and the round
        tried again at the next poll; a delivery it interrupted is tried again when its claim expires."""
        while not stop.is_set():
            try:
                await self.deliver_due()
                if also is not None:
                    await also()
            except (SQLAlchemyError, OSError) as error:
                log.warning("sending round failed; trying again", error=type(error).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.settings.send_poll_ms / 1000)

    async def deliver_due(self) -> None:
        """One round: settles what dead senders left in flight, then claims up to a batch of due
        deliveries and delivers them side by side."""
        now = self.clock()
        await self._settle_in_flight(now)
        t = self.table
        async with self.sessions() as session:
            due = (await session.scalars(
                select(t.id).where(t.status == DeliveryStatus.pending, t.due_at <= now, self._unclaimed(now))
                .order_by(t.due_at).limit(self.settings.send_batch_size)
            )).all()
        # Every delivery of the round finishes (records its outcome) before one's failure is raised.
        outcomes = await asyncio.gather(*(self.deliver(delivery_id) for delivery_id in due), return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome

    async def deliver(self, delivery_id: UUID) -> None:
        t, now = self.table, self.clock()
        claim = now + timedelta(seconds=self.settings.claim_s)
        async with self.sessions.begin() as session:
            claimed = await session.execute(
                update(t).where(t.id == delivery_id, t.status == DeliveryStatus.pending, self._unclaimed(now))
                .values(claimed_until=claim, attempts=t.attempts + 1)
            )
            if claimed.rowcount != 1:
                return  # another sender has it
            delivery = await session.get(t, delivery_id, populate_existing=True)
        try:
            addressed = await self.address(delivery, now)
        except Deferred as deferred:
            await self._settle(delivery, claim, due_at=deferred.until, attempts=t.attempts - 1)
            return
        except Cancelled as why:
            await self._settle(delivery, claim, status=DeliveryStatus.cancelled, last_error=str(why)[:200], **self.ended)
            log.info("delivery cancelled", delivery_id=str(delivery.id), reason=str(why))
            return
        except Exception as error:  # noqa: BLE001 - nobody to reach, or a lookup failing in any way: this attempt failed
            await self._failed(delivery, claim, type(error).__name__)
            return
        errors, tried = [], []
        for route in (route for route in addressed.routes if route.channel in self.channels):  # SMS needs a gateway
            sender = self.channels[route.channel]
            try:
                handing_over = self._handing_over(delivery.id, route, claim, addressed.recorded)
                await sender.send(delivery.id, route.address, addressed.message, now, handing_over)
            except LostClaim:
                return
            except InDoubt as why:
                settled = await self._settle(delivery, claim, status=DeliveryStatus.sent, sent_at=self.clock(),
                                             channel=route.channel, last_error=IN_DOUBT, **self.ended)
                if settled:
                    self._in_doubt(delivery.id, route.channel, str(why))
                return
            except Exception as error:  # noqa: BLE001 - a channel failing in any way fails this route, never the sender
                errors.append(f"{route.channel}: {type(error).__name__}")
                tried.append(route.channel)
                await self._settle(delivery, claim, keep_claim=True, status=DeliveryStatus.pending, channel=route.channel)
                self.metrics.deliveries.labels(route.channel, "failed_over").inc()
                continue
            await self._settle(delivery, claim, status=DeliveryStatus.sent, sent_at=self.clock(), channel=route.channel,
                               last_error=None, **addressed.recorded, **self.ended)
            self.metrics.deliveries.labels(route.channel, "sent").inc()
            self.metrics.seconds.labels(route.channel).observe(max(0.0, (self.clock() - self.started(delivery)).total_seconds()))
            log.info("delivered", delivery_id=str(delivery.id), channel=route.channel, attempts=delivery.attempts)
            return
        await self._failed(delivery, claim, "; ".join(errors) or "NoContactChannel", tried[-1] if tried else None)

    def _handing_over(self, delivery_id: UUID, route: Route, claim: datetime,
                      recorded: Mapping[str, Any]) -> Callable[[], Awaitable[None]]:
        async def mark() -> None:
            t = self.table
            async with self.sessions.begin() as session:
                marked = await session.execute(
                    update(t).where(t.id == delivery_id, t.claimed_until == claim)
                    .values(status=DeliveryStatus.sending, channel=route.channel, **recorded)
                )
            if marked.rowcount != 1:
                raise LostClaim()

        return mark

    async def _failed(self, delivery: Any, claim: datetime, error: str, channel: Channel | None = None) -> None:
        """Records a failed attempt (`channel`: the last one tried, if any): due again after the backoff,
        or given up after the last attempt."""
        now = self.clock()
        given_up = self.backoff.gives_up(delivery.attempts)
        if given_up:
            values = {"status": DeliveryStatus.undeliverable, **self.ended}
        else:
            values = {"status": DeliveryStatus.pending, "due_at": now + self.backoff.delay(delivery.attempts, self.rng)}
        async with self.sessions.begin() as session:
            if not await self._settle(delivery, claim, session=session, last_error=error[:200], **values):
                return
            if given_up:
                self.given_up(session, delivery, error, now)
        outcome = "undeliverable" if given_up else "retried"
        self.metrics.deliveries.labels(channel or delivery.channel or "none", outcome).inc()
        log.warning("not delivered", delivery_id=str(delivery.id), attempts=delivery.attempts, error=error, outcome=outcome)

    async def _settle(self, delivery: Any, claim: datetime, *, session: AsyncSession | None = None, keep_claim: bool = False,
                      **values: Any) -> bool:
        """Records an outcome of the attempt made under `claim`, and ends the claim (unless `keep_claim`);
        False, recording nothing, when the delivery is no longer under that claim (another sender took it
        after the claim expired, or the service ended it, as an erasure does)."""
        t = self.table
        statement = update(t).where(t.id == delivery.id, t.claimed_until == claim).values(
            **values, **({} if keep_claim else {"claimed_until": None}))
        if session is not None:
            return (await session.execute(statement)).rowcount == 1
        async with self.sessions.begin() as own:
            return (await own.execute(statement)).rowcount == 1

    async def _settle_in_flight(self, now: datetime) -> None:
        """Deliveries whose sender died while handing them over are taken as sent (see the module)."""
        t = self.table
        async with self.sessions() as session:
            stranded = (await session.execute(
                select(t.id, t.channel).where(t.status == DeliveryStatus.sending, t.claimed_until < now)
            )).all()
        for delivery_id, channel in stranded:
            async with self.sessions.begin() as session:
                settled = await session.execute(
                    update(t).where(t.id == delivery_id, t.status == DeliveryStatus.sending, t.claimed_until < now)
                    .values(status=DeliveryStatus.sent, sent_at=now, claimed_until=None, last_error=IN_DOUBT, **self.ended)
                )
            if settled.rowcount == 1:
                self._in_doubt(delivery_id, channel, "its sender stopped")

    def _in_doubt(self, delivery_id: UUID, channel: str, why: str) -> None:
        self.metrics.deliveries.labels(channel, "in_doubt").inc()
        log.warning("delivery in doubt taken as sent", delivery_id=str(delivery_id), channel=channel, why=why)

    def _unclaimed(self, now: datetime):
        t = self.table
        return or_(t.claimed_until.is_(None), t.claimed_until < now)
