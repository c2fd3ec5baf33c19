"""Migration 0004 builds exactly the training tables of the models, and takes them down again."""

import asyncio

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from services.scheduling.store import training
from services.scheduling.store.migrate import MIGRATIONS, upgrade_async
from services.scheduling.store.models import Base
from services.shared.db import make_engine
from services.shared.migrate import alembic_config

TABLES = {model.__tablename__ for model in vars(training).values()
          if isinstance(model, type) and issubclass(model, Base) and model is not Base}


def _training_only(_object, name, kind, _reflected, _compare_to) -> bool:
    return kind != "table" or name in TABLES


async def test_migration_0004_builds_exactly_the_training_tables(new_database):
    url = await new_database()
    await upgrade_async(url)
    engine = make_engine(url)
    options = {"compare_type": True, "include_object": _training_only}
    try:
        async with engine.connect() as connection:
            differences = await connection.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync, opts=options), Base.metadata)
            )
        assert differences == [], "the training models changed without a migration"
        await asyncio.to_thread(command.downgrade, alembic_config(MIGRATIONS, url), "0003")
        async with engine.connect() as connection:
            left = await connection.run_sync(lambda sync: set(sa.inspect(sync).get_table_names()))
        assert left & TABLES == set() and "staff" in left
    finally:
        await engine.dispose()
