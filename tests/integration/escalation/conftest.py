"""The escalation service as operators run it — the worker and the boards API as their own
processes on the real broker — fed by the complaints service's real API."""

import pytest

from tests.support.complaints import start_api
from tests.support.escalation import running_boards, running_worker


@pytest.fixture(scope="module")
async def worker(platform, tmp_path_factory):
    async for running in running_worker(platform, tmp_path_factory.mktemp("escalation")):
        yield running


@pytest.fixture(scope="module")
async def api(new_database, platform, worker):
    async for running in start_api(await new_database(), platform):
        yield running


@pytest.fixture(scope="module")
async def boards(new_database, platform, worker):
    async for running in running_boards(platform, worker, await new_database()):
        yield running
