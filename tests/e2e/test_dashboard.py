"""The regional coordinators' dashboard in headless Chromium, served by the boards API as its own
process and fed by the escalation worker and the complaints service's real API: the region's
complaints live, breaches as the worker's clock passes deadlines, a policy proposal made from a
detected common problem with a change to the return policy (a value the API refuses shown at its
field), one board for all of a region's coordinators and nothing of another region; a coordinator
narrows, sorts and groups a busy board and reads each site's last day from its chart, on a phone as
on a desk; a board longer than one page opens page by page, and the opened pages stay open live."""

import re
from datetime import datetime, timedelta

import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from services.escalation.topics import CLOCK
from services.shared.events.coordination import PolicyChange
from services.shared.principal import Role
from services.shared.topics import COMPLAINTS, COORDINATION, ESCALATIONS, ROSTER
from tests.support import eventually, read_all, read_topic
from tests.support.browser import screenshots, serious_violations
from tests.support.complaints import add_stores, reject_returns
from tests.support.escalation import publish_roster, running_boards, tick
from tests.support.infra import own_platform

REGION, STORES = "lappi", ["rov-keskusta", "rov-prisma", "kemi-pohjoinen"]
OTHER_REGION, OTHER_STORE = "pirkanmaa", "tre-koskikeskus"
BUSY_REGION, CITY, MALL = "kainuu", "kaj-keskusta", "kaj-prisma"
LONG_REGION, LONG_STORE = "savo", "kuo-keskusta"
LIVE_MS = 30_000  # the worker and the boards API each take a moment to pass a change on
TITLE = "Longer return window for small appliances"
PROPOSAL = "Three Lapland stores turn away the same small-appliance returns; align with the warranty desk."


@pytest.fixture(scope="module")
def platform(infra_dir):
    """A broker of this module's own: its ticks move the escalation clock past the deadlines, which on
    the session's broker would breach every open complaint of the earlier tests at once and hold the
    worker back for minutes."""
    with own_platform(infra_dir / "kafka-dashboard") as platform:
        yield platform


@pytest.fixture(scope="module")
async def lappi(api, platform, worker):
    """A region of this module's own, with an associate on duty at its first store."""
    await add_stores(api, REGION, STORES)
    await publish_roster(platform, STORES[0], REGION, [("emp-3001", "associate")])
    await eventually(lambda: worker.has_read(ROSTER), timeout_s=90, what="the worker to read the roster")


class Watched:
    """A page's dialogs and script errors, which a working dashboard never shows."""

    def __init__(self, page: Page) -> None:
        self.problems: list[str] = []
        page.on("dialog", lambda dialog: self.problems.append(f"dialog: {dialog.message}"))
        page.on("pageerror", lambda error: self.problems.append(f"error: {error}"))


async def sign_in(context: BrowserContext, boards, token: str, region: str = "") -> tuple[Page, Watched]:
    page = await context.new_page()
    watched = Watched(page)
    await page.goto(boards.url)
    await page.locator("#token").fill(token)
    await page.locator("#region").fill(region)
    await page.get_by_role("button", name="Show the board").click()
    return page, watched


async def problem_card(page: Page, worker):
    card = page.locator("#problems .problem")
    try:
        await expect(card).to_have_count(1, timeout=90_000)
    except AssertionError as error:
        errors = [line[:1000] for line in worker.logs().splitlines() if '"level": "error"' in line]
        raise AssertionError(f"{error}\nthe worker's last errors:\n" + "\n".join(errors[-3:])) from None
    return card


def row(page: Page, complaint_id: str):
    return page.locator(f'#complaints tr[data-complaint-id="{complaint_id}"]')


async def shown_ids(page: Page) -> list[str]:
    return await page.locator("#complaints tr").evaluate_all("rows => rows.map((r) => r.dataset.complaintId)")


async def file(api, store: str, email: str, severity: str = "medium", region: str = REGION) -> str:
    """Files a complaint at one of the region's stores as its associate; returns its id."""
    response = await api.client.post("/v1/complaints", headers=api.token(Role.associate, store, region=region), json={
        "store_id": store, "customer": {"name": "Aila Niemi", "email": email}, "channel": "in_store",
        "category": "product_quality", "severity": severity, "mood": "upset", "description": "The kettle leaks.",
    })
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def routed(platform, complaint_id: str):
    def found(envelopes):
        return [e.data for e in envelopes if e.type == "retail.escalation.routed.v1" and str(e.data.complaint_id) == complaint_id]

    return found(await read_topic(platform.kafka_bootstrap_servers, ESCALATIONS, found))[0]


async def proposed(platform, problem_id: str):
    def found(envelopes):
        return [e.data for e in envelopes
                if e.type == "retail.coordination.policy_proposed.v1" and str(e.data.problem_id) == problem_id]

    return found(await read_topic(platform.kafka_bootstrap_servers, COORDINATION, found))


async def on_board(boards, complaint_id: str, region: str) -> bool:
    response = await boards.board(region, Role.senior_manager)
    assert response.status_code == 200, response.text
    return any(c["complaint_id"] == complaint_id for c in response.json()["complaints"])


async def test_coordinators_of_a_region_watch_its_board_live_and_propose_a_policy_change(
    api, platform, worker, boards, browser: Browser, lappi
):
    async with await browser.new_context() as first:
        page, watched = await sign_in(first, boards, boards.token(Role.regional_coordinator, REGION, "rc-lappi-1"))
        await expect(page.locator("#status")).to_have_text("live", timeout=LIVE_MS)
        await expect(page.locator("#who")).to_have_text("rc-lappi-1 (regional_coordinator)")
        await page.evaluate("window.sameDocument = true")  # gone if the page ever reloads

        late = await file(api, STORES[0], "late@example.com")
        await expect(row(page, late)).to_have_count(1, timeout=LIVE_MS)
        await expect(row(page, late)).not_to_contain_class("breached")
        await expect(row(page, late).locator("td").nth(1)).to_have_text(STORES[0])

        deadline = (await routed(platform, late)).acknowledge_by
        await tick(platform, deadline + timedelta(seconds=10))
        await eventually(lambda: worker.has_read(CLOCK, COMPLAINTS), timeout_s=90, what="the worker to read the tick")
        await expect(row(page, late)).to_contain_class("breached", timeout=LIVE_MS)
        await expect(row(page, late).locator(".flag.breach")).to_have_text("BREACHED ×1")
        await expect(page.locator("#breached-count")).to_have_text("1")

        for store in STORES:
            await reject_returns(api, REGION, store, 3)
        card = await problem_card(page, worker)
        for store in STORES:
            await expect(card).to_contain_text(f"{store}: 3")
        problem_id = await card.get_attribute("data-problem-id")
        await card.get_by_role("button", name="Propose policy change").press("Enter")
        await expect(card.get_by_label("Title")).to_be_focused()
        await page.keyboard.type(TITLE)
        await card.get_by_label("Proposal", exact=True).fill(PROPOSAL)
        for unchanged in ("Receipt required", "Receipt not required under (€)", "Manager approves refunds over (€)"):
            await expect(card.get_by_label(unchanged)).to_have_value("")

        # a window the API refuses: its error next to the field, and nothing proposed
        window = card.get_by_label("Return window (days)")
        await window.fill("0")
        await window.press("Enter")
        await expect(window).to_have_attribute("aria-invalid", "true")
        await expect(window).to_have_accessible_description(re.compile("greater than or equal to 1"))
        await expect(window.locator("xpath=following-sibling::p[1]")).to_have_text(re.compile("greater than or equal to 1"))
        await expect(window).to_be_focused()
        await expect(card.locator(".proposal")).to_have_count(0)
        assert not [e for e in await read_all(platform.kafka_bootstrap_servers, COORDINATION)
                    if e.type == "retail.coordination.policy_proposed.v1" and str(e.data.problem_id) == problem_id]
        await no_serious_violations(page, "dashboard-proposal-error")

        await window.fill("30")
        await card.get_by_label("Receipt not required under (€)").fill("20")
        await card.get_by_role("button", name="Send to senior management").click()
        await expect(card.locator(".proposal-status")).to_have_text("[proposed]", timeout=LIVE_MS)
        await expect(card).to_contain_text(f"Proposal: {TITLE}")
        await expect(card).to_contain_text(PROPOSAL)
        await expect(card.locator(".change li")).to_have_text(["Return window: 30 days", "Receipt not required under €20.00"])
        await expect(card.get_by_role("button", name="Propose policy change")).to_have_count(0)
        [event] = await proposed(platform, problem_id)
        assert {s.store_id for s in event.evidence.stores} == set(STORES)
        assert (event.title, event.proposal, event.by, event.evidence.policy_rule) == (TITLE, PROPOSAL, "rc-lappi-1", "return_window")
        assert event.change == PolicyChange(return_window_days=30, receipt_exempt_below_minor=2_000)
        await no_serious_violations(page, "dashboard-proposed")

        elsewhere = (await api.file(store=OTHER_STORE, customer={"email": "elsewhere@example.com"})).json()["id"]
        await eventually(lambda: on_board(boards, elsewhere, OTHER_REGION), what="the complaint on pirkanmaa's board")
        later = await file(api, STORES[1], "later@example.com")
        await expect(row(page, later)).to_have_count(1, timeout=LIVE_MS)
        await expect(row(page, elsewhere)).to_have_count(0)
        shown_stores = await page.locator("#complaints tr td:nth-child(2)").all_text_contents()
        assert set(shown_stores) == {STORES[0], STORES[1]}
        assert await page.evaluate("document.documentElement.scrollWidth <= innerWidth"), \
            "a wide table scrolls within its section, not the whole page sideways"

        async with await browser.new_context() as second:
            colleague, watched_too = await sign_in(second, boards, boards.token(Role.regional_coordinator, REGION, "rc-lappi-2"))
            await expect(colleague.locator("#status")).to_have_text("live", timeout=LIVE_MS)
            latest = await file(api, STORES[2], "latest@example.com")
            for each in (page, colleague):
                await expect(row(each, latest)).to_have_count(1, timeout=LIVE_MS)
            assert await shown_ids(colleague) == await shown_ids(page) == [late, later, latest]
            await expect(row(colleague, late)).to_contain_class("breached")
            await expect(colleague.locator("#problems .problem .proposal-status")).to_have_text("[proposed]")
            assert watched_too.problems == []

        assert await page.evaluate("window.sameDocument") is True, "the page was reloaded"
        assert watched.problems == []
        await page.screenshot(path="/tmp/dashboard.png", full_page=True)


async def test_a_coordinator_of_another_region_who_names_this_region_is_signed_out_and_shown_no_board(
    api, boards, browser: Browser, lappi
):
    async with await browser.new_context() as shared_screen:
        page, watched = await sign_in(shared_screen, boards, boards.token(Role.regional_coordinator, REGION, "rc-lappi-1"))
        complaint = await file(api, STORES[2], "shared@example.com")
        await expect(row(page, complaint)).to_have_count(1, timeout=LIVE_MS)
        await page.get_by_role("button", name="Sign out").click()
        await expect(page.locator("#signin")).to_be_visible()
        await expect(page.locator("#complaints tr")).to_have_count(0)  # nothing left for the next person

        await page.locator("#token").fill(boards.token(Role.regional_coordinator, OTHER_REGION, "rc-pirkanmaa-1"))
        await page.locator("#region").fill(REGION)
        await page.get_by_role("button", name="Show the board").click()
        await expect(page.locator("#signin-error")).to_contain_text("Not allowed", timeout=LIVE_MS)
        await expect(page.locator("#signin-error")).to_contain_text(f"may not act on region {REGION}")
        await expect(page.locator("#board")).to_be_hidden()
        await expect(page.locator("#signin")).to_be_visible()
        await expect(page.locator("#complaints tr")).to_have_count(0)
        await expect(page.locator("#problems .problem")).to_have_count(0)
        await expect(page.locator("#status")).to_have_text("offline")
        assert watched.problems == []


async def board_of(boards, region: str) -> dict:
    response = await boards.board(region, Role.senior_manager)
    assert response.status_code == 200, response.text
    return response.json()


async def no_serious_violations(page: Page, name: str) -> None:
    await screenshots(page, name)
    for width in ({"width": 390, "height": 844}, {"width": 1280, "height": 900}):
        await page.set_viewport_size(width)
        assert await serious_violations(page) == [], (name, width)
        assert await page.evaluate("document.documentElement.scrollWidth <= innerWidth"), (name, width, "scrolls sideways")


async def test_a_coordinator_narrows_sorts_and_groups_a_busy_board_and_reads_each_sites_day_from_its_chart(
    api, platform, worker, boards, browser: Browser
):
    await add_stores(api, BUSY_REGION, [CITY, MALL])
    breached = {CITY: [await file(api, CITY, "a@example.com", region=BUSY_REGION),
                       await file(api, CITY, "b@example.com", "high", region=BUSY_REGION)],
                MALL: [await file(api, MALL, "c@example.com", region=BUSY_REGION)]}
    deadlines = [(await routed(platform, each)).acknowledge_by for ids in breached.values() for each in ids]
    await tick(platform, max(deadlines) + timedelta(seconds=10))
    await eventually(lambda: worker.has_read(CLOCK, COMPLAINTS), timeout_s=90, what="the worker to read the tick")
    calm = await file(api, CITY, "d@example.com", "low", region=BUSY_REGION)
    paged = await file(api, MALL, "e@example.com", "critical", region=BUSY_REGION)

    async with await browser.new_context() as context:
        page, watched = await sign_in(context, boards, boards.token(Role.regional_coordinator, BUSY_REGION, "rc-kainuu-1"))
        await expect(page.locator("#complaints tr")).to_have_count(5, timeout=LIVE_MS)
        await expect(page.locator("#breached-count")).to_have_text("3", timeout=LIVE_MS)

        # one site, breached only, the second by keyboard
        await page.get_by_label("Site", exact=True).select_option(CITY)
        await page.get_by_label("Breached only").focus()
        await page.keyboard.press("Space")
        await expect(page.locator("#complaints tr")).to_have_count(2)
        assert set(await shown_ids(page)) == set(breached[CITY])
        await expect(page.locator("#shown")).to_contain_text("Showing 2 of 5")
        await no_serious_violations(page, "dashboard-filtered")

        # the board moves on under the filters, which stay as the coordinator set them
        newest = await file(api, CITY, "f@example.com", region=BUSY_REGION)
        await expect(page.locator("#open-count")).to_have_text("6", timeout=LIVE_MS)
        await expect(page.locator("#shown")).to_contain_text("Showing 2 of 6")
        assert set(await shown_ids(page)) == set(breached[CITY])
        await expect(page.get_by_label("Site", exact=True)).to_have_value(CITY)
        await expect(page.get_by_label("Breached only")).to_be_checked()

        # the site's last day, read from the chart's table of numbers
        chart = page.locator("#chart figure")
        await expect(chart).to_have_count(1)
        await expect(chart).to_have_attribute("data-store-id", CITY)
        await expect(chart.locator("figcaption")).to_contain_text("now 4 open, 2 breached")
        await expect(chart.locator("svg")).to_have_attribute("aria-label", re.compile("now 4 open, 2 breached"))
        await chart.get_by_text("Hour by hour").click()
        numbers = chart.get_by_role("table")
        await expect(numbers.locator("tbody tr")).to_have_count(24)
        now = numbers.locator("tbody tr").last
        await expect(now.locator("th")).to_have_text("now")
        await expect(now.locator("td")).to_have_text(["4", "2"])
        assert await numbers.locator("tbody tr").first.locator("td").all_text_contents() == ["0", "0"]

        await page.get_by_label("Breached only").uncheck()
        await expect(page.locator("#complaints tr")).to_have_count(4)
        assert set(await shown_ids(page)) == {*breached[CITY], calm, newest}
        await page.get_by_label("Paged only").check()
        await page.get_by_label("Site", exact=True).select_option("")
        assert await shown_ids(page) == [paged]
        await page.get_by_role("button", name="Show all").click()
        await expect(page.locator("#complaints tr")).to_have_count(6)
        await expect(page.locator("#chart figure")).to_have_count(2)
        await expect(page.locator(f'#chart figure[data-store-id="{MALL}"] figcaption')).to_contain_text("now 2 open, 1 breached")
        await expect(page.locator(f'#chart figure[data-store-id="{CITY}"] details')).to_have_attribute("open", "")

        # sorted by deadline: the resolve-by column, by keyboard, ascending then descending
        on_board = (await board_of(boards, BUSY_REGION))["complaints"]  # ties keep the board's order either way
        by_deadline = sorted(on_board, key=lambda c: datetime.fromisoformat(c["resolve_by"]))
        latest_first = sorted(on_board, key=lambda c: datetime.fromisoformat(c["resolve_by"]), reverse=True)
        header = page.get_by_role("columnheader", name="Resolve by")
        await header.get_by_role("button").focus()
        await page.keyboard.press("Enter")
        await expect(header).to_have_attribute("aria-sort", "ascending")
        assert await shown_ids(page) == [c["complaint_id"] for c in by_deadline]
        await header.get_by_role("button").click()
        await expect(header).to_have_attribute("aria-sort", "descending")
        assert await shown_ids(page) == [c["complaint_id"] for c in latest_first]

        # grouped by site, each group in the chosen order, its header with its counts
        await page.get_by_label("Group by site").check()
        await expect(page.locator("#complaints tr.group")).to_have_text([
            f"{CITY} · 4 complaints · 2 breached", f"{MALL} · 2 complaints · 1 breached",
        ])
        grouped = await page.locator("#complaints tr").evaluate_all(
            "rows => rows.map((r) => r.dataset.site ? 'site:' + r.dataset.site : r.dataset.complaintId)")
        assert grouped == [f"site:{CITY}", *[c["complaint_id"] for c in latest_first if c["store_id"] == CITY],
                           f"site:{MALL}", *[c["complaint_id"] for c in latest_first if c["store_id"] == MALL]]
        await no_serious_violations(page, "dashboard-grouped")

        # a third press gives the board's own order back
        await header.get_by_role("button").click()
        await expect(header).not_to_have_attribute("aria-sort", re.compile("."))
        assert watched.problems == []


@pytest.fixture(scope="module")
async def paged_boards(new_database, platform, worker):
    """A boards API that lists two complaints at a time."""
    async for running in running_boards(platform, worker, await new_database(), boards_list_limit="2"):
        yield running


async def test_a_board_longer_than_a_page_opens_page_by_page_and_the_opened_pages_stay_open_live(
    api, platform, worker, paged_boards, browser: Browser
):
    await add_stores(api, LONG_REGION, [LONG_STORE])
    filed = [await file(api, LONG_STORE, f"{n}@example.com", region=LONG_REGION) for n in range(5)]  # the board's order
    async with await browser.new_context() as context:
        page, watched = await sign_in(context, paged_boards, paged_boards.token(Role.regional_coordinator, LONG_REGION))
        await expect(page.locator("#open-count")).to_have_text("5", timeout=LIVE_MS)
        more = page.get_by_role("button", name=re.compile("^Show the next"))
        await expect(page.locator("#complaints tr")).to_have_count(2)
        await expect(page.locator("#shown")).to_contain_text("Showing 2 of 5")
        await expect(more).to_have_text("Show the next 2")

        await more.focus()
        await page.keyboard.press("Enter")
        await expect(page.locator("#complaints tr")).to_have_count(4)
        assert await shown_ids(page) == filed[:4]
        await expect(more).to_have_text("Show the next 1")
        await expect(more).to_be_focused()  # the keyboard goes on from where it was
        await no_serious_violations(page, "dashboard-paged")
        await more.click()
        await expect(page.locator("#complaints tr")).to_have_count(5)
        assert await shown_ids(page) == filed
        await expect(more).to_be_hidden()

        # a complaint more critical than all of them comes first; the pages opened stay open around it
        urgent = await file(api, LONG_STORE, "urgent@example.com", "critical", region=LONG_REGION)
        await expect(page.locator("#open-count")).to_have_text("6", timeout=LIVE_MS)
        await expect(page.locator("#complaints tr")).to_have_count(6)
        assert await shown_ids(page) == [urgent, *filed]
        await expect(page.locator("#shown")).to_contain_text("Showing 6 of 6")
        await expect(more).to_be_hidden()
        assert watched.problems == []
