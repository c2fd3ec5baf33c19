"""The scheduling API in-process on each of its databases, SQLite and PostgreSQL (without its relay),
and on PostgreSQL with its relay publishing to the real Kafka; and the bare store on each database."""

from collections.abc import AsyncIterator

import pytest

from services.scheduling.store.migrate import upgrade_async
from services.scheduling.store.outbox import OUTBOX
from services.shared.db import make_engine
from services.shared.kafka import ensure_topics
from services.shared.topics import ALL_TOPICS
from tests.support.scheduling import Api, start_api


@pytest.fixture(params=["sqlite", "postgresql"])
async def api_per_database(request, tmp_path, new_database, platform) -> AsyncIterator[Api]:
    url = f"sqlite:///{tmp_path / 'scheduling.db'}" if request.param == "sqlite" else await new_database()
    async for running in start_api(url, platform, relay_enabled=False):
        yield running


@pytest.fixture
async def api(new_database, platform) -> AsyncIterator[Api]:
    ensure_topics(platform, ALL_TOPICS)
    async for running in start_api(await new_database(), platform):
        yield running


@pytest.fixture(params=["sqlite", "postgresql"])
async def store_sessions(request, tmp_path, new_database):
    """Sessions of a migrated, empty scheduling store on each database."""
    url = f"sqlite:///{tmp_path / 'scheduling.db'}" if request.param == "sqlite" else await new_database()
    await upgrade_async(url)
    engine = make_engine(url)
    yield OUTBOX.sessions(engine)
    await engine.dispose()
