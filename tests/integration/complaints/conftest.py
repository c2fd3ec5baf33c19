"""The complaints API in-process (its real app, lifespan and relay) on real PostgreSQL and Kafka,
with a demo chain: two regions, three stores."""

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
