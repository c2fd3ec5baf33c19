"""Brings a database up to the newest schema with Alembic."""

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str) -> None:
    command.upgrade(alembic_config(url), "head")


async def upgrade_async(url: str) -> None:
    """For callers inside an event loop: the migration runs its own loop in a worker thread."""
    await asyncio.to_thread(upgrade, url)
