"""Retention: an idempotency key is replayed to retries for `idempotency_keep_hours`, a published
outbox event kept for `outbox_keep_days`; then both are deleted. An unpublished event is never.

One replica runs each pass: it claims the `retention` lease row, whose expiry is when the next pass
is due, so the schedule survives restarts and rolling deploys. A pass deletes in batches, each in a
short transaction of its own, so a first pass over a big table never holds a long lock.
"""

import asyncio
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.complaints.settings import ComplaintsSettings
from services.complaints.store.models import IdempotencyKey, Lease, OutboxEvent
from services.shared.clock import Clock

RETENTION_LEASE = "retention"
CLOCK_CHECK_S = 0.5  # the clock is injected (tests move it by hand), so it is read again rather than slept on
log = structlog.get_logger()


@dataclass(frozen=True)
class Purged:
    idempotency_keys: int = 0
    outbox_events: int = 0

    def __add__(self, other: "Purged") -> "Purged":
        return Purged(self.idempotency_keys + other.idempotency_keys, self.outbox_events + other.outbox_events)


async def purge(session: AsyncSession, now: datetime, settings: ComplaintsSettings) -> Purged:
    """Deletes, in the caller's transaction, at most `retention_batch_size` expired rows of each table."""
    keys = (
        select(IdempotencyKey.id)
        .where(IdempotencyKey.created_at < now - timedelta(hours=settings.idempotency_keep_hours))
        .limit(settings.retention_batch_size)
    )
    events = (  # an unpublished event's published_at is NULL, which is never older than anything
        select(OutboxEvent.seq)
        .where(OutboxEvent.published_at < now - timedelta(days=settings.outbox_keep_days))
        .limit(settings.retention_batch_size)
    )
    unsynchronised = {"synchronize_session": False}
    deleted_keys = await session.execute(
        delete(IdempotencyKey).where(IdempotencyKey.id.in_(keys)), execution_options=unsynchronised
    )
    deleted_events = await session.execute(
        delete(OutboxEvent).where(OutboxEvent.seq.in_(events)), execution_options=unsynchronised
    )
    return Purged(deleted_keys.rowcount, deleted_events.rowcount)


async def purge_all(
    sessions: async_sessionmaker, now: datetime, settings: ComplaintsSettings, stop: asyncio.Event | None = None
) -> Purged:
    """Purges batch after batch, a transaction each, until nothing expired is left or `stop` is set."""
    total = Purged()
    while True:
        async with sessions() as session, session.begin():
            batch = await purge(session, now, settings)
        total += batch
        if max(batch.idempotency_keys, batch.outbox_events) < settings.retention_batch_size:
            return total
        if stop is not None and stop.is_set():
            return total


async def claim_pass(session: AsyncSession, holder: str, now: datetime, interval: timedelta) -> tuple[bool, datetime]:
    """Claims the pass due at `now` for `holder` unless another replica has; returns whether it did,
    and when the next pass is due."""
    claimed = await session.execute(
        update(Lease)
        .where(Lease.name == RETENTION_LEASE, or_(Lease.expires_at.is_(None), Lease.expires_at <= now))
        .values(holder=holder, expires_at=now + interval)
    )
    if claimed.rowcount == 1:
        return True, now + interval
    return False, (await session.execute(select(Lease.expires_at).where(Lease.name == RETENTION_LEASE))).scalar_one()


async def run_retention(
    sessions: async_sessionmaker, settings: ComplaintsSettings, clock: Clock, stop: asyncio.Event
) -> None:
    """Runs a pass whenever one is due and this replica claims it, until `stop` is set. Database
    trouble is logged, and the pass left to the next interval."""
    holder, interval = f"retention-{uuid.uuid4()}", timedelta(seconds=settings.retention_interval_s)
    due = clock()
    while not stop.is_set():
        now = clock()
        if now >= due:
            try:
                async with sessions() as session, session.begin():
                    claimed, due = await claim_pass(session, holder, now, interval)
                if claimed:
                    purged = await purge_all(sessions, now, settings, stop)
                    log.info(
                        "retention pass", idempotency_keys_deleted=purged.idempotency_keys,
                        outbox_events_deleted=purged.outbox_events,
                    )
            except (SQLAlchemyError, OSError) as error:
                log.warning("retention pass failed; next one at the next interval", error=type(error).__name__)
                due = now + interval
        try:
            await asyncio.wait_for(stop.wait(), CLOCK_CHECK_S)
        except TimeoutError:
            pass
