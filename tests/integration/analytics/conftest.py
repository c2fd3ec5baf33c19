"""The analytics worker and its reports API as their own processes on the real broker, fed by the
complaints service's real API."""

import pytest

from tests.support.analytics import Reports, chain_api, running_analytics


@pytest.fixture(scope="module")
def reports(platform):
    running = Reports(platform)
    yield running
    running.process.stop()


@pytest.fixture(scope="module")
async def api(new_database, platform):
    async for running in chain_api(await new_database(), platform):
        yield running


@pytest.fixture(scope="module")
async def analytics(platform, tmp_path_factory):
    async for running in running_analytics(platform, tmp_path_factory.mktemp("analytics")):
        yield running
