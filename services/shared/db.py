"""The database engine every service with a store uses: SQLite for a first run, PostgreSQL for real."""

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import DateTime, TypeDecorator, event, text
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg", "postgres": "postgresql+asyncpg"}
SQLITE_BUSY_TIMEOUT_MS = 30_000  # SQLAlchemy's pool_timeout, 30 s


def async_url(url: str) -> str:
    """Accepts plain `postgresql://` and `sqlite:///` URLs and names the async driver for them."""
    parsed = make_url(url)
    driver = _ASYNC_DRIVERS.get(parsed.drivername, parsed.drivername)
    return parsed.set(drivername=driver).render_as_string(hide_password=False)


def make_engine(url: str) -> AsyncEngine:
    url = async_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_async_engine(url, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url)

    @event.listens_for(engine.sync_engine, "connect")
    def _pragmas(connection, _record):  # noqa: ANN001 - DBAPI types
        connection.isolation_level = None  # let the "begin" hook below open transactions
        cursor = connection.cursor()
        # SQLite has one writer at a time: a transaction waits its turn behind the others, as long
        # as a request would wait for a pooled connection, rather than fail ("database is locked").
        # First, since switching to WAL itself may wait for another connection.
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        # WAL lets readers work beside the writer; synchronous=FULL keeps the last commits
        # (the outbox among them) through a power loss, which NORMAL would not.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin_immediate(connection):  # noqa: ANN001
        # Take the write lock when the transaction starts: a deferred transaction that read
        # before another committed could not write afterwards (SQLITE_BUSY_SNAPSHOT).
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def insert_statement(session: AsyncSession, model: type):
    """An INSERT that can say what to do on a conflict (PostgreSQL and SQLite both can)."""
    return (postgresql_insert if session.bind.dialect.name == "postgresql" else sqlite_insert)(model)


def sessions(engine: AsyncEngine) -> async_sessionmaker:
    return async_sessionmaker(engine, expire_on_commit=False)


class UtcDateTime(TypeDecorator):
    """Timestamps stored in UTC and read back timezone-aware, also from SQLite (which drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass a timezone-aware one")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None or value.tzinfo is not None:
            return value
        return value.replace(tzinfo=UTC)


async def database_ready(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
