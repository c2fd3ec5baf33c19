"""Retention: an idempotency key is replayed to retries for the service's keep time, a published
outbox event kept for its own; then both are deleted. An unpublished event never is.

One replica runs each pass: it claims the `retention` lease row, whose expiry is when the next pass
is due, so the schedule survives restarts and rolling deploys. A pass deletes in batches, each in a
short transaction of its own, so a first pass over a big table never holds a long lock.
"""

import asyncio
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy import delete, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.shared.clock import Clock
from services.shared.idempotency import IdempotencyKeyColumns
from services.shared.leases import LeaseColumns, claim_turn
from services.shared.outbox import OutboxColumns

RETENTION_LEASE = "retention"
CLOCK_CHECK_S = 0.5  # the clock is injected (tests move it by hand), so it is read again rather than slept on
log = structlog.get_logger()


@dataclass(frozen=True)
class Retention:
    """A service's tables, how long it keeps their rows, and how it deletes the rest."""

    idempotency_keys: type[IdempotencyKeyColumns]
    outbox: type[OutboxColumns]
    leases: type[LeaseColumns]
    idempotency_keep: timedelta
    outbox_keep: timedelta
    batch_size: int
    interval: timedelta
    lease: str = RETENTION_LEASE


@dataclass(frozen=True)
class Purged:
    idempotency_keys: int = 0
    outbox_events: int = 0

    def __add__(self, other: "Purged") -> "Purged":
        return Purged(self.idempotency_keys + other.idempotency_keys, self.outbox_events + other.outbox_events)


async def purge(session: AsyncSession, now: datetime, retention: Retention) -> Purged:
    """Deletes, in the caller's transaction, at most `batch_size` expired rows of each table."""
    keys_table, outbox_table = retention.idempotency_keys, retention.outbox
    keys = (
        select(keys_table.id)
        .where(keys_table.created_at < now - retention.idempotency_keep)
        .limit(retention.batch_size)
    )
    events = (  # an unpublished event's published_at is NULL, which is never older than anything
        select(outbox_table.seq)
        .where(outbox_table.published_at < now - retention.outbox_keep)
        .limit(retention.batch_size)
    )
    unsynchronised = {"synchronize_session": False}
    deleted_keys = await session.execute(
        delete(keys_table).where(keys_table.id.in_(keys)), execution_options=unsynchronised
    )
    deleted_events = await session.execute(
        delete(outbox_table).where(outbox_table.seq.in_(events)), execution_options=unsynchronised
    )
    return Purged(deleted_keys.rowcount, deleted_events.rowcount)


async def purge_all(
    sessions: async_sessionmaker, now: datetime, retention: Retention, stop: asyncio.Event | None = None
) -> Purged:
    """Purges batch after batch, a transaction each, until nothing expired is left or `stop` is set."""
    total = Purged()
    while True:
        async with sessions() as session, session.begin():
            batch = await purge(session, now, retention)
        total += batch
        if max(batch.idempotency_keys, batch.outbox_events) < retention.batch_size:
            return total
        if stop is not None and stop.is_set():
            return total


async def run_retention(sessions: async_sessionmaker, retention: Retention, clock: Clock, stop: asyncio.Event) -> None:
    """Runs a pass whenever one is due and this replica claims it, until `stop` is set. Database
    trouble is logged, and the pass left to the next interval."""
    holder = f"retention-{uuid.uuid4()}"
    due = clock()
    while not stop.is_set():
        now = clock()
        if now >= due:
            try:
                async with sessions() as session, session.begin():
                    claimed, due = await claim_turn(
                        session, retention.leases, retention.lease, holder, now, retention.interval
                    )
                if claimed:
                    purged = await purge_all(sessions, now, retention, stop)
                    log.info(
                        "retention pass", idempotency_keys_deleted=purged.idempotency_keys,
                        outbox_events_deleted=purged.outbox_events,
                    )
            except (SQLAlchemyError, OSError) as error:
                log.warning("retention pass failed; next one at the next interval", error=type(error).__name__)
                due = now + retention.interval
        try:
            await asyncio.wait_for(stop.wait(), CLOCK_CHECK_S)
        except TimeoutError:
            pass
