"""Retention: each of a service's tables keeps a row for its own time after the row's timestamp
(an idempotency key's creation, an outbox event's publication, a contact read); then it is deleted.
A row whose timestamp is NULL, such as an unpublished outbox event, never is.

One replica runs each pass: it claims the `retention` lease row, whose expiry is when the next pass
is due, so the schedule survives restarts and rolling deploys. A pass deletes in batches, each in a
short transaction of its own, so a first pass over a big table never holds a long lock.
"""

import asyncio
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy import Date, delete, inspect, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import InstrumentedAttribute

from services.shared.idempotency import IdempotencyKeyColumns
from services.shared.leases import LeaseColumns, Turns
from services.shared.outbox import OutboxColumns
from services.shared.settings import DatabaseServiceSettings

RETENTION_LEASE = "retention"
log = structlog.get_logger()


@dataclass(frozen=True)
class Kept:
    """The rows of one table are kept for `keep` after `since` (a timestamp, or a date: kept for
    `keep` after that day began)."""

    since: InstrumentedAttribute
    keep: timedelta

    @property
    def table(self) -> type:
        return self.since.class_


@dataclass(frozen=True)
class Retention:
    """A service's tables, how long it keeps their rows, and how it deletes the rest."""

    kept: tuple[Kept, ...]
    leases: type[LeaseColumns]
    batch_size: int
    interval: timedelta
    lease: str = RETENTION_LEASE


def service_retention(settings: DatabaseServiceSettings, idempotency_keys: type[IdempotencyKeyColumns],
                      outbox: type[OutboxColumns], leases: type[LeaseColumns], *own: Kept) -> Retention:
    """The retention of a service with a database, from its settings: the stored answers to
    Idempotency-Keys and the published outbox events that every such service keeps, and its `own` tables."""
    return Retention(
        (
            Kept(idempotency_keys.created_at, timedelta(hours=settings.idempotency_keep_hours)),
            Kept(outbox.published_at, timedelta(days=settings.outbox_keep_days)),
            *own,
        ),
        leases,
        batch_size=settings.retention_batch_size,
        interval=timedelta(seconds=settings.retention_interval_s),
    )


Purged = Counter[str]  # rows deleted, by table name


async def purge(session: AsyncSession, now: datetime, retention: Retention) -> Purged:
    """Deletes, in the caller's transaction, at most `batch_size` expired rows of each table."""
    purged = Purged()
    for kept in retention.kept:
        key = tuple_(*inspect(kept.table).primary_key)
        cutoff = now - kept.keep
        expired = select(*key.clauses).where(kept.since < (cutoff.date() if isinstance(kept.since.type, Date) else cutoff))
        deleted = await session.execute(
            delete(kept.table).where(key.in_(expired.limit(retention.batch_size))),
            execution_options={"synchronize_session": False},
        )
        purged[kept.table.__tablename__] = deleted.rowcount
    return purged


async def purge_all(
    sessions: async_sessionmaker, now: datetime, retention: Retention, stop: asyncio.Event | None = None
) -> Purged:
    """Purges batch after batch, a transaction each, until nothing expired is left or `stop` is set."""
    total = Purged()
    while True:
        async with sessions() as session, session.begin():
            batch = await purge(session, now, retention)
        total.update(batch)
        if max(batch.values(), default=0) < retention.batch_size:
            return total
        if stop is not None and stop.is_set():
            return total


def retention_turns(retention: Retention, stop: asyncio.Event) -> Turns:
    """The retention passes as turns of the `retention` lease (see `services.shared.leases.run_turns`)."""
    async def run(sessions: async_sessionmaker, now: datetime) -> None:
        purged = await purge_all(sessions, now, retention, stop)
        log.info("retention pass", **{f"{table}_deleted": count for table, count in purged.items()})

    return Turns(retention.lease, retention.interval, run)
