"""The regional coordinators' live board in the staff web app, in Debian's Chromium, over the real
services: a coordinator signs in with the web app's own sign-in (no token pasted: the app keeps it and
calls the boards API with it), lands on their region's board, watches a complaint filed at a store
appear, and, in Finnish, proposes a policy change from a common problem the escalation worker detected
(returns rejected at three stores); the page goes to the sign-in when the session is over. Another
region's board cannot be had through the app, an associate has no board, and the page's calls carry
the app's CSRF token. Every view at phone and desktop widths, checked by axe-core.

On a broker of this module's own, so that the board shows only what this module files."""

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from uuid import uuid4

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from services.escalation.boards.store.cases import cursor
from services.escalation.boards.store.models import BoardCase
from services.shared.events.coordination import PolicyChange
from services.shared.topics import COORDINATION
from services.webapp.app import build_app
from services.webapp.settings import WebappSettings
from tests.support import read_topic
from tests.support import scheduling as scheduling_support
from tests.support.browser import screenshots, serious_violations, serving
from tests.support.complaints import add_stores, reject_returns
from tests.support.infra import own_platform

REGION, STORES = "uusimaa", ["hel-kamppi", "esp-iso-omena", "van-myyrmanni"]
COORDINATOR, ASSOCIATE, SENIOR = "rc-uusimaa-1", "emp-1042", "sm-0001"
LIVE_MS = 30_000  # the worker and the boards API each take a moment to pass a change on
TITLE = "Pidempi palautusaika pienkoneille"
PROPOSAL = "Kolme myymälää käännyttää samat pienkoneiden palautukset."


@pytest.fixture(scope="module")
def platform(infra_dir):
    with own_platform(infra_dir / "kafka-webapp-coordinator") as platform:
        yield platform


@pytest.fixture(scope="module")
async def scheduling(new_database, platform):
    async for running in scheduling_support.directory_with_senior(await new_database(), platform, SENIOR):
        yield running


@pytest.fixture(scope="module")
async def webapp(api, scheduling, boards, worker) -> AsyncIterator[str]:
    await add_stores(api, REGION, STORES)
    app = build_app(WebappSettings(boards_url=boards.url), api.platform, transports={
        "complaints": httpx.ASGITransport(app=api.app), "scheduling": httpx.ASGITransport(app=scheduling.app),
    })
    async with serving(app) as url:
        yield url


class Watched:
    """A page's dialogs and script errors, which a working board never shows."""

    def __init__(self, page: Page) -> None:
        self.problems: list[str] = []
        page.on("dialog", lambda dialog: self.problems.append(f"dialog: {dialog.message}"))
        page.on("pageerror", lambda error: self.problems.append(f"error: {error}"))


async def sign_in(page: Page, staff_id: str) -> None:
    await page.goto("/signin")
    await page.get_by_label("Person").select_option(staff_id)
    await page.get_by_role("button", name="Sign in").click()


def row(page: Page, complaint_id: str):
    return page.locator(f'#complaints tr[data-complaint-id="{complaint_id}"]')


async def look_at(page: Page, name: str) -> None:
    await screenshots(page, name)
    for width in ({"width": 390, "height": 844}, {"width": 1280, "height": 900}):
        await page.set_viewport_size(width)
        assert await serious_violations(page) == [], (name, width)
        assert await page.evaluate("document.documentElement.scrollWidth <= innerWidth"), (name, width, "scrolls sideways")


async def proposed(platform, problem_id: str):
    def found(envelopes):
        return [e.data for e in envelopes
                if e.type == "retail.coordination.policy_proposed.v1" and str(e.data.problem_id) == problem_id]

    return found(await read_topic(platform.kafka_bootstrap_servers, COORDINATION, found))


async def test_a_regional_coordinator_signs_in_to_the_web_app_and_works_on_the_live_board_in_finnish(
    api, platform, worker, webapp, browser: Browser
):
    context = await browser.new_context(base_url=webapp, locale="en-GB")
    page = await context.new_page()
    watched = Watched(page)

    await sign_in(page, COORDINATOR)
    await expect(page).to_have_url(f"{webapp}/board")
    await expect(page.get_by_role("heading", name=f"Regional board — {REGION}", level=1)).to_be_visible()
    await expect(page.locator("#status")).to_have_text("live", timeout=LIVE_MS)
    await expect(page.locator("#who")).to_have_text(f"{COORDINATOR} · regional coordinator")
    await expect(page.get_by_role("navigation").get_by_role("link")).to_have_text(["Board", "Queue", "File a complaint", "My notifications"])
    await expect(page.get_by_role("link", name="Board")).to_have_attribute("aria-current", "page")
    await expect(page.locator("#signin")).to_be_hidden()
    await page.evaluate("window.sameDocument = true")  # gone if the page ever reloads

    filed = await api.file(store=STORES[1], customer={"email": "live@example.com"})
    assert filed.status_code == 201, filed.text
    complaint = filed.json()["id"]
    await expect(row(page, complaint)).to_have_count(1, timeout=LIVE_MS)
    await expect(row(page, complaint).locator("td").nth(1)).to_have_text(STORES[1])
    assert await page.evaluate("window.sameDocument") is True, "the complaint came live, without a reload"
    await look_at(page, "webapp-board-en")

    await page.get_by_role("link", name="Suomi").click()  # the same board, in Finnish
    await expect(page).to_have_url(f"{webapp}/board")
    await expect(page.locator("html")).to_have_attribute("lang", "fi")
    await expect(page.get_by_role("heading", name=f"Alueen tilannetaulu — {REGION}", level=1)).to_be_visible()
    await expect(page.locator("#status")).to_have_text("ajan tasalla", timeout=LIVE_MS)
    await expect(page.get_by_role("columnheader", name="Ratkaise viimeistään")).to_be_visible()
    await expect(row(page, complaint).locator("td").nth(2)).to_have_text("Tuotteen laatu")
    await expect(page.locator("#shown")).to_contain_text("Näytetään 1/1")

    for store in STORES:
        await reject_returns(api, REGION, store, 3)
    card = page.locator("#problems .problem")
    await expect(card).to_have_count(1, timeout=90_000)
    await expect(card).to_contain_text("Palautuksia hylätty säännön ”palautusaika” perusteella")
    for store in STORES:
        await expect(card).to_contain_text(f"{store}: 3")
    problem_id = await card.get_attribute("data-problem-id")
    await card.get_by_role("button", name="Ehdota muutosta").click()
    await expect(card.get_by_label("Otsikko")).to_be_focused()
    await page.keyboard.type(TITLE)
    await card.get_by_label("Ehdotus", exact=True).fill(PROPOSAL)
    window = card.get_by_label("Palautusaika (päivää)")
    await window.fill("kuukausi")
    await card.get_by_role("button", name="Lähetä ylimmälle johdolle").click()
    await expect(window).to_have_accessible_description("Anna kokonainen määrä päiviä, tai jätä tyhjäksi, niin palautusaika "
                                                        "pysyy ennallaan.")
    await look_at(page, "webapp-board-fi-proposal")

    await window.fill("30")
    await card.get_by_label("Kuittia ei vaadita alle (€)").fill("19,90")
    await card.get_by_role("button", name="Lähetä ylimmälle johdolle").click()
    await expect(card.locator(".proposal-status")).to_have_text("[ehdotettu]", timeout=LIVE_MS)
    await expect(card).to_contain_text(f"Ehdotus: {TITLE}")
    await expect(card.locator(".change li")).to_have_text(["Palautusaika: 30 päivää",
                                                           re.compile(r"Kuittia ei vaadita alle 19,90\s€")])
    [event] = await proposed(platform, problem_id)
    assert (event.title, event.proposal, event.by) == (TITLE, PROPOSAL, COORDINATOR)
    assert event.change == PolicyChange(return_window_days=30, receipt_exempt_below_minor=1_990)
    await look_at(page, "webapp-board-fi-proposed")

    assert not re.search(r"eyJ[\w-]+\.eyJ", await page.content()), "a token in the page"
    assert await page.evaluate("sessionStorage.length") == 0

    # The session is over (here: the cookies gone) when the board's stream next connects: to the sign-in.
    await context.clear_cookies()
    await page.evaluate("stream.abort()")
    await expect(page).to_have_url(f"{webapp}/signin", timeout=LIVE_MS)

    await sign_in(page, COORDINATOR)  # and signing out of the board is the web app's sign-out
    await expect(page.locator("#status")).to_have_text("live", timeout=LIVE_MS)
    await page.get_by_role("button", name="Sign out").click()
    await expect(page).to_have_url(f"{webapp}/signin")
    await page.goto("/board")
    await expect(page).to_have_url(f"{webapp}/signin")
    assert watched.problems == []
    await context.close()


async def test_the_board_is_the_regions_own_for_its_coordinators_and_senior_managers_and_its_calls_are_the_pages(
    webapp, boards
):
    async with (httpx.AsyncClient(base_url=webapp) as associate, httpx.AsyncClient(base_url=webapp) as coordinator,
                httpx.AsyncClient(base_url=webapp) as senior, httpx.AsyncClient(base_url=webapp) as nobody):
        assert (await associate.post("/signin", data={"staff_id": ASSOCIATE})).status_code == 303
        assert (await associate.get("/board")).status_code == 403
        assert (await associate.get(f"/board/api/regions/{REGION}/board/stream")).status_code == 403

        assert (await coordinator.post("/signin", data={"staff_id": COORDINATOR})).status_code == 303
        assert (await coordinator.get("/")).headers["location"] == "/board"
        page = await coordinator.get("/board?region=pirkanmaa")  # their own region, whatever they ask for
        assert page.status_code == 200 and f'"region": "{REGION}"' in page.text
        assert "script-src 'sha256-" in page.headers["content-security-policy"]
        assert "connect-src 'self'" in page.headers["content-security-policy"]
        assert (await coordinator.get("/board/api/regions/pirkanmaa/board/stream")).status_code == 403
        async with coordinator.stream("GET", f"/board/api/regions/{REGION}/board/stream") as stream:
            assert stream.status_code == 200 and stream.headers["content-type"].startswith("text/event-stream")
            assert (await anext(stream.aiter_lines())) == "event: board"

        csrf = re.search(r'"csrf": "([^"]+)"', page.text).group(1)
        acknowledge = f"/board/api/regions/{REGION}/problems/00000000-0000-4000-8000-000000000000/acknowledge"
        assert (await coordinator.post(acknowledge, json={})).status_code == 403  # not the page's own call
        assert (await coordinator.post(acknowledge, json={}, headers={"X-CSRF": csrf})).status_code == 404  # no such problem
        oversized = await coordinator.post(acknowledge, content=b"{" + b" " * 70_000 + b"}",
                                           headers={"X-CSRF": csrf, "Content-Type": "application/json"})
        assert oversized.status_code == 413, oversized.text  # the app's bound on every body: not passed on
        assert (await coordinator.post(acknowledge.replace(REGION, "pirkanmaa"), json={},
                                       headers={"X-CSRF": csrf})).status_code == 403

        assert (await nobody.get(f"/board/api/regions/{REGION}/board/stream")).status_code == 401

        # the board's further pages, as the page asks for them: the boards API's own answer, the person's region only
        after = cursor(BoardCase(breaches=0, paged=False, severity_rank=0, filed_at=datetime(2000, 1, 1, tzinfo=UTC),
                                 complaint_id=uuid4()))  # before every open complaint of lower severity than critical
        path = f"/board/api/regions/{REGION}/board"
        relayed = await coordinator.get(path, params={"after": after})
        async with httpx.AsyncClient(base_url=boards.url) as direct:
            straight = await direct.get(f"/regions/{REGION}/board", params={"after": after},
                                        headers=boards.headers(region=REGION))
        assert relayed.status_code == 200 and straight.status_code == 200, (relayed.text, straight.text)
        listed = [c["complaint_id"] for c in relayed.json()["complaints"]]
        assert listed and listed == [c["complaint_id"] for c in straight.json()["complaints"]]
        assert (await coordinator.get(path, params={"after": "not-a-cursor"})).status_code == 422
        assert (await coordinator.get(path, params={"after": "x" * 1001})).status_code == 422  # bounded before it goes on
        assert (await coordinator.get(path.replace(REGION, "pirkanmaa"), params={"after": after})).status_code == 403
        assert (await associate.get(path, params={"after": after})).status_code == 403
        assert (await nobody.get(path, params={"after": after})).status_code == 401

        assert (await senior.post("/signin", data={"staff_id": SENIOR})).status_code == 303
        assert (await senior.get("/board")).headers["location"] == "/chain"
        elsewhere = await senior.get("/board?region=pirkanmaa")
        assert elsewhere.status_code == 200 and '"region": "pirkanmaa"' in elsewhere.text
        async with senior.stream("GET", "/board/api/regions/pirkanmaa/board/stream") as stream:
            assert stream.status_code == 200
