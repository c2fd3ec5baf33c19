"""The complaints API in-process (its real app, lifespan and relay) on real PostgreSQL and Kafka,
with a demo chain: two regions, three stores; and the same API without its relay on each of the
store's databases, SQLite and PostgreSQL."""

from collections.abc import AsyncIterator

import pytest

from services.shared.kafka import ensure_topics
from services.shared.topics import ALL_TOPICS
from tests.support.complaints import Api, start_api


@pytest.fixture(scope="module")
async def api(new_database, platform) -> AsyncIterator[Api]:
    ensure_topics(platform, ALL_TOPICS)
    async for running in start_api(await new_database(), platform):
        yield running


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
async def api_per_database(request, tmp_path_factory, new_database, platform) -> AsyncIterator[Api]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('complaints') / 'complaints.db'}"
    else:
        url = await new_database()
    async for running in start_api(url, platform, relay_enabled=False):
        yield running
