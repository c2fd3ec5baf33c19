"""Alembic environment: migrates the database named by the Alembic config's sqlalchemy.url."""

import asyncio

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection

from services.complaints.store.models import Base
from services.shared.db import make_engine


MIGRATION_LOCK = 0x7265_7461_696C  # a constant of our own for pg_advisory_xact_lock ("retail")


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Replicas that start together migrate one after the other; the later ones find the schema
            # already current (the version is read after the lock, in the same transaction).
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        context.run_migrations()


async def _migrate() -> None:
    engine = make_engine(context.config.get_main_option("sqlalchemy.url"))
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
    finally:
        await engine.dispose()


asyncio.run(_migrate())
