"""Brings a service's database up to the newest schema with Alembic, one replica at a time.

A service keeps its own migrations directory; its `env.py` is one call to `run_migrations` with
the service's metadata and a lock key of its own.
"""

import asyncio
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, text
from sqlalchemy.engine import Connection

from services.shared.db import make_engine


def alembic_config(migrations: Path, url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(migrations: Path, url: str) -> None:
    command.upgrade(alembic_config(migrations, url), "head")


async def upgrade_async(migrations: Path, url: str) -> None:
    """For callers inside an event loop: the migration runs its own loop in a worker thread."""
    await asyncio.to_thread(upgrade, migrations, url)


def run_migrations(metadata: MetaData, lock_key: int) -> None:
    """The body of a migrations directory's env.py: migrates the database named by the Alembic
    config's sqlalchemy.url, under the advisory lock `lock_key` on PostgreSQL."""

    def run(connection: Connection) -> None:
        context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":
                # Replicas that start together migrate one after the other; the later ones find the schema
                # already current (the version is read after the lock, in the same transaction).
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key})
            context.run_migrations()

    async def migrate() -> None:
        engine = make_engine(context.config.get_main_option("sqlalchemy.url"))
        try:
            async with engine.connect() as connection:
                await connection.run_sync(run)
        finally:
            await engine.dispose()

    asyncio.run(migrate())
