"""Brings the boards' read model up to its newest schema (see `services.shared.migrate`)."""

from pathlib import Path

from services.shared import migrate

MIGRATIONS = Path(__file__).parent / "migrations"


def upgrade(url: str) -> None:
    migrate.upgrade(MIGRATIONS, url)


async def upgrade_async(url: str) -> None:
    await migrate.upgrade_async(MIGRATIONS, url)
