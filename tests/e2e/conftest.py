"""The services as operators run them, for the end-to-end tests: the escalation worker and its
boards API, the analytics worker, fed by the complaints service's real API; and a mail server."""

import pytest
from playwright.async_api import async_playwright

from tests.support.analytics import running_analytics
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS
from tests.support.complaints import start_api
from tests.support.escalation import running_boards, running_worker
from tests.support.notifications import Mailbox


@pytest.fixture(scope="module")
async def worker(platform, tmp_path_factory):
    async for running in running_worker(platform, tmp_path_factory.mktemp("escalation")):
        yield running


@pytest.fixture(scope="module")
async def boards(new_database, platform, worker):
    async for running in running_boards(platform, worker, await new_database()):
        yield running


@pytest.fixture(scope="module")
async def api(new_database, platform):
    async for running in start_api(await new_database(), platform):
        yield running


@pytest.fixture(scope="module")
async def analytics(platform, tmp_path_factory):
    async for running in running_analytics(platform, tmp_path_factory.mktemp("analytics")):
        yield running


@pytest.fixture(scope="module")
def mailbox():
    """A real SMTP server keeping every message, for a module's tests."""
    running = Mailbox()
    running.start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
async def browser():
    """Debian's Chromium under Playwright, for a module's browser tests."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        await browser.close()
