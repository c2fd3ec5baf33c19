"""Alembic environment: migrates the database named by the Alembic config's sqlalchemy.url."""

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from services.complaints.store.models import Base
from services.shared.db import make_engine


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


async def _migrate() -> None:
    engine = make_engine(context.config.get_main_option("sqlalchemy.url"))
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
    finally:
        await engine.dispose()


asyncio.run(_migrate())
