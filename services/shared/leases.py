"""Leases: which replica runs a singleton job, and until when, as a row of the service's own
`leases` table. A lease is taken with one conditional UPDATE, so two replicas can never both take
it; the service's migration inserts one row per lease name (holder and expiry empty).

Two ways to hold one: a job that runs continuously (the outbox relay) renews its lease while it
works and loses it to another replica only when it stops renewing; a job that runs now and then
(retention) claims its turn, and the expiry it writes is when the next turn is due, so the
schedule survives restarts and rolling deploys.
"""

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy import String, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from services.shared.clock import Clock

CLOCK_CHECK_S = 0.5  # the clock is injected (tests move it by hand), so it is read again rather than slept on
log = structlog.get_logger()


class LeaseColumns:
    """The columns of a service's `leases` table; its model is `class Lease(LeaseColumns, Base)`."""

    name: Mapped[str] = mapped_column(String(63), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(100))
    expires_at: Mapped[datetime | None]


async def take_lease(
    session: AsyncSession, table: type[LeaseColumns], name: str, holder: str, now: datetime, ttl: timedelta
) -> bool:
    """Takes or renews the lease for `ttl` unless another holder's is still current; returns whether it did."""
    result = await session.execute(
        update(table)
        .where(table.name == name)
        .where(or_(table.holder == holder, table.expires_at.is_(None), table.expires_at < now))
        .values(holder=holder, expires_at=now + ttl)
    )
    return result.rowcount == 1


async def give_up_lease(session: AsyncSession, table: type[LeaseColumns], name: str, holder: str) -> None:
    """Leaves the lease, if `holder` has it, to whoever asks next."""
    await session.execute(update(table).where(table.name == name, table.holder == holder).values(expires_at=None))


async def claim_turn(
    session: AsyncSession, table: type[LeaseColumns], name: str, holder: str, now: datetime, interval: timedelta
) -> tuple[bool, datetime]:
    """Claims the turn due at `now` for `holder` unless another replica has; returns whether it did,
    and when the next turn is due."""
    claimed = await session.execute(
        update(table)
        .where(table.name == name, or_(table.expires_at.is_(None), table.expires_at <= now))
        .values(holder=holder, expires_at=now + interval)
    )
    if claimed.rowcount == 1:
        return True, now + interval
    return False, (await session.execute(select(table.expires_at).where(table.name == name))).scalar_one()


@dataclass(frozen=True)
class Turns:
    """A job one replica runs now and then (the retention pass, a refresh): `run(sessions, now)` at
    every turn it claims on the lease row `lease`, one turn each `interval`."""

    lease: str
    interval: timedelta
    run: Callable[[async_sessionmaker, datetime], Awaitable[None]]


async def run_turns(sessions: async_sessionmaker, table: type[LeaseColumns], turns: Turns, clock: Clock,
                    stop: asyncio.Event) -> None:
    """Runs the job's turns that this replica claims until `stop` is set. Database trouble is logged,
    and the turn left to the next interval."""
    holder = f"{turns.lease}-{uuid.uuid4()}"
    due = clock()
    while not stop.is_set():
        now = clock()
        if now >= due:
            try:
                async with sessions() as session, session.begin():
                    claimed, due = await claim_turn(session, table, turns.lease, holder, now, turns.interval)
                if claimed:
                    await turns.run(sessions, now)
            except (SQLAlchemyError, OSError) as error:
                log.warning("turn failed; next one at the next interval", job=turns.lease, error=type(error).__name__)
                due = now + turns.interval
        try:
            await asyncio.wait_for(stop.wait(), CLOCK_CHECK_S)
        except TimeoutError:
            pass
