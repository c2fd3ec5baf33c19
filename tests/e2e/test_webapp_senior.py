"""Senior management in the staff web app, in Debian's Chromium, over the real services: returns a
region's policy rejects at three of its stores become a common problem (the escalation worker), its
regional coordinator proposes a 30-day window (the boards API), and a senior manager sees the chain's
numbers per region and per site, finds the proposal with its evidence and change, accepts it, and
finds the new version with its provenance in the policy's history once the complaints worker has
applied it; in English, and the history in Finnish. Every page at phone and desktop widths, checked
by axe-core.

On a broker of this module's own, as the policy-version tests are: the escalation worker must detect
only the burst made here, and the tick that breaches a complaint must breach no other test's."""

from collections.abc import AsyncIterator
from datetime import timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.async_api import Page, expect

from services.escalation.topics import CLOCK
from services.shared.principal import Role
from services.shared.topics import COMPLAINTS, ESCALATIONS
from services.webapp.app import build_app
from services.webapp.settings import WebappSettings
from tests.support import complaints as complaints_support
from tests.support import eventually, read_topic
from tests.support import scheduling as scheduling_support
from tests.support.browser import (
    screenshots,
    serious_violations,
    serving,
)
from tests.support.complaints import add_stores
from tests.support.escalation import tick
from tests.support.infra import own_platform

REGION, STORES = "kymenlaakso", ["kot-keskusta", "kot-karhula", "hamina-kauppatori"]
SENIOR, COORDINATOR = "sm-0001", f"rc-{REGION}-1"
OLD_WINDOW, NEW_WINDOW, BOUGHT_DAYS_AGO = 14, 30, 20
TITLE = "A 30-day return window for small appliances"
RATIONALE = "Matches the warranty desk; three stores see the same returns."


@pytest.fixture(scope="module")
def platform(infra_dir):
    with own_platform(infra_dir / "kafka-webapp-senior") as platform:
        yield platform


@pytest.fixture(scope="module")
async def database_url(new_database):
    return await new_database()


@pytest.fixture(scope="module")
async def api(database_url, platform):
    async for running in complaints_support.start_api(database_url, platform):
        yield running


@pytest.fixture(scope="module")
async def complaints_worker(database_url, platform, api):
    async for process in complaints_support.running_worker(database_url, platform):
        yield process


@pytest.fixture(scope="module")
async def scheduling(new_database, platform):
    async for running in scheduling_support.directory_with_senior(await new_database(), platform, SENIOR):
        yield running


@pytest.fixture(scope="module")
async def webapp(api, scheduling, boards) -> AsyncIterator[str]:
    app = build_app(WebappSettings(boards_url=boards.url), api.platform, transports={
        "complaints": httpx.ASGITransport(app=api.app), "scheduling": httpx.ASGITransport(app=scheduling.app),
    })
    async with serving(app) as url:
        yield url


@pytest.fixture(scope="module")
async def chain(api, platform, worker, boards, complaints_worker) -> dict:
    """The region's own 14-day policy and three rejected returns at each of its stores (a common
    problem, proposed by its coordinator); a critical, hostile complaint in uusimaa, paged and past
    its deadline, and a calm one in pirkanmaa, acknowledged in time. Returns the problem."""
    await add_stores(api, REGION, STORES)
    policy = {"return_window_days": OLD_WINDOW, "receipt_required": True, "approval_amount_minor": 20_000,
              "non_returnable_categories": ["perishables"], "allowed_tenders": ["cash", "credit", "debit"]}
    admin = api.token(Role.senior_manager, sub="sm-0009")
    assert (await api.client.put(f"/v1/regions/{REGION}/return-policy", json=policy, headers=admin)).status_code == 204
    for store in STORES:
        for _ in range(3):
            rejected = await request_return(api, store)
            assert (rejected["status"], rejected["broken_rules"]) == ("rejected", ["return_window"]), rejected

    async def detected():
        response = await boards.board(REGION)
        assert response.status_code == 200, response.text
        return next(iter(response.json()["problems"]), None)

    problem = await eventually(detected, timeout_s=120, what=f"the problem of {REGION} on its board")
    proposed = await boards.post(
        f"/regions/{REGION}/problems/{problem['problem_id']}/proposal",
        {"title": TITLE, "proposal": "Small appliances come back at day 15-20.",
         "change": {"return_window_days": NEW_WINDOW, "receipt_exempt_below_minor": 2_000}},
        boards.headers(Role.regional_coordinator, REGION, COORDINATOR),
    )
    assert proposed.status_code == 201, proposed.text

    urgent = await api.file(store="hel-kamppi", severity="critical", mood="hostile",
                            customer={"email": "urgent@example.com"})
    calm = await api.file(store="tre-koskikeskus", severity="low", mood="calm", customer={"email": "calm@example.com"})
    assert urgent.status_code == calm.status_code == 201, (urgent.text, calm.text)
    calm_id = calm.json()["id"]
    acknowledged = await api.client.post(f"/v1/complaints/{calm_id}/acknowledge",
                                         headers=api.token(Role.associate, "tre-koskikeskus", sub="emp-5001"))
    assert acknowledged.status_code == 200, acknowledged.text

    async def calm_acknowledged():
        complaints = (await boards.board("pirkanmaa", Role.senior_manager)).json()["complaints"]
        return any(c["complaint_id"] == calm_id and c["acknowledged"] for c in complaints)

    await eventually(calm_acknowledged, timeout_s=60, what="the acknowledgement on pirkanmaa's board")
    deadline = (await routed(platform, urgent.json()["id"])).acknowledge_by
    await tick(platform, deadline + timedelta(seconds=10))  # the urgent one breaches; the calm one's timer has stopped

    async def shown(region: str, numbers: tuple[int, int, int]):
        summary = (await boards.board(region, Role.senior_manager)).json()["summary"]
        return (summary["open"], summary["breached"], summary["paged"]) == numbers

    await eventually(lambda: worker.has_read(CLOCK, COMPLAINTS), timeout_s=90, what="the worker to read the tick")
    await eventually(lambda: shown("uusimaa", (1, 1, 1)), timeout_s=60, what="the breach on uusimaa's board")
    await eventually(lambda: shown("pirkanmaa", (1, 0, 0)), timeout_s=60, what="the calm complaint on pirkanmaa's board")
    return problem


async def test_a_senior_manager_reads_the_chain_accepts_a_proposal_and_finds_the_new_policy_version(
    webapp, browser, chain, api
):
    context = await browser.new_context(base_url=webapp, locale="en-GB")
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    await page.goto("/signin")
    await page.get_by_label("Person").select_option(SENIOR)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="The chain", level=1)).to_be_visible()
    assert await numbers(page, "uusimaa") == ["1", "1", "1", "0", "0"]
    assert await numbers(page, "pirkanmaa") == ["1", "0", "0", "0", "0"]
    assert await numbers(page, REGION) == ["0", "0", "0", "1", "1"]
    assert await page.locator("tfoot td").all_text_contents() == ["2", "1", "1", "1", "1"]
    await look_at(page, "senior-chain-en")

    await page.get_by_role("link", name="uusimaa", exact=True).click()
    await expect(page.get_by_role("heading", name="Sites of uusimaa")).to_be_visible()
    await expect(page.get_by_role("link", name="The live board of uusimaa")).to_have_attribute("href", "/board?region=uusimaa")
    assert await numbers(page, "hel-kamppi", "#sites") == ["1", "1", "1"]
    assert await numbers(page, "esp-iso-omena", "#sites") == ["0", "0", "0"]
    await look_at(page, "senior-chain-sites-en")

    await page.get_by_role("link", name="Proposals", exact=True).click()
    card = page.locator(f"#p-{chain['problem_id']}")
    await expect(card.get_by_role("heading", name=TITLE)).to_be_visible()
    await expect(card).to_contain_text(f"Region {REGION}")
    await expect(card).to_contain_text(f"Proposed by {COORDINATOR}")
    await expect(card).to_contain_text("Returns rejected by")
    await expect(card).to_contain_text("the return window")
    for store in STORES:
        assert await numbers(card, store) == ["3", "0.0"]
    await expect(card.locator("dl.change")).to_contain_text(f"Return window{NEW_WINDOW} days")
    await expect(card.locator("dl.change")).to_contain_text("Receipt exemptionNo receipt needed under 20.00 EUR")
    await page.get_by_role("link", name="region", exact=True).click()
    await expect(page).to_have_url(f"{webapp}/proposals?sort=region")
    await look_at(page, "senior-proposals-en")

    await card.get_by_label("Rationale").fill(RATIONALE)
    await card.get_by_role("button", name="Accept").click()
    await expect(page.get_by_role("status").filter(has_text="You accepted")).to_contain_text(TITLE)
    await expect(card).to_contain_text(f"Accepted by {SENIOR}")
    await expect(card).to_contain_text(RATIONALE)
    await expect(card.get_by_role("button", name="Accept")).to_have_count(0)
    await look_at(page, "senior-proposals-decided-en")
    csrf = await page.locator("input[name=csrf]").first.get_attribute("value")
    again = await context.request.post(f"/proposals/{REGION}/{chain['problem_id']}/decision", max_redirects=0,
                                       form={"csrf": csrf, "decision": "rejected", "rationale": "Changed my mind."})
    assert again.status == 409 and "This proposal has been decided already." in await again.text()  # decided once

    await card.get_by_role("link", name=f"The return policy history of {REGION}").click()
    await expect(page.get_by_role("heading", name=f"Region {REGION}", level=2)).to_be_visible()

    async def applied():
        await page.reload()
        return await page.get_by_role("heading", name="Version 2").count() == 1

    await eventually(applied, timeout_s=60, what="the complaints worker to make the accepted change version 2")
    await expect(page.get_by_role("status")).to_have_text("Version 2 is in force.")
    newest, oldest = page.locator("ol.versions > li").nth(0), page.locator("ol.versions > li").nth(1)
    await expect(newest).to_contain_text(f"Return window{NEW_WINDOW} days")
    await expect(newest).to_contain_text(f"Proposed by{COORDINATOR}")
    await expect(newest).to_contain_text(f"Accepted by{SENIOR}")
    await expect(newest).to_contain_text(RATIONALE)
    await expect(newest.locator("section").first).to_contain_text("Receipt exemptionNo receipt needed under 20.00 EUR")
    await expect(oldest).to_contain_text(f"Return window{OLD_WINDOW} days")
    await expect(oldest).to_contain_text("Receipt exemptionnone: every return needs a receipt")
    await expect(oldest).to_contain_text("Set by sm-0009.")
    await look_at(page, "senior-policy-en")

    # The loop closed: a return the old 14-day window turned away is accepted under version 2, which it records.
    accepted = await request_return(api, STORES[0])
    assert accepted["status"] == "approved", accepted
    assert accepted["policy_version"] == {"scope": "region", "scope_id": REGION, "version": 2}, accepted

    history = page.url
    await page.get_by_role("link", name="Suomi").click()  # back on the same page, in Finnish
    await expect(page.get_by_role("heading", name="Palautusehtojen historia", level=1)).to_be_visible()
    assert page.url == history
    await expect(page.get_by_role("status")).to_have_text("Versio 2 on voimassa.")
    await expect(page.locator("ol.versions > li").first).to_contain_text(f"Hyväksyjä{SENIOR}")
    await expect(page.locator("ol.versions > li").first).to_contain_text("KuittivapausKuittia ei vaadita alle 20,00 EUR")
    await look_at(page, "senior-policy-fi")
    await page.get_by_role("link", name="Ketju").click()
    await expect(page.get_by_role("heading", name="Ketju", level=1)).to_be_visible()
    await look_at(page, "senior-chain-fi")
    assert errors == []
    await context.close()


async def test_the_pages_are_for_senior_managers_and_a_decision_needs_a_reason(webapp, chain):
    async with httpx.AsyncClient(base_url=webapp) as associate, httpx.AsyncClient(base_url=webapp) as senior:
        assert (await associate.post("/signin", data={"staff_id": "emp-1042"})).status_code == 303
        for path in ("/chain", "/proposals", "/policy"):
            assert (await associate.get(path)).status_code == 403, path
        assert (await senior.post("/signin", data={"staff_id": SENIOR})).headers["location"] == "/"
        assert (await senior.get("/")).headers["location"] == "/chain"
        decision = f"/proposals/{REGION}/{chain['problem_id']}/decision"
        forged = await senior.post(decision, data={"decision": "rejected", "rationale": "No."})
        assert forged.status_code == 403
        csrf = (await senior.get("/proposals")).text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        unexplained = await senior.post(decision, data={"csrf": csrf, "decision": "rejected", "rationale": " "})
        assert unexplained.status_code == 422 and "Fill this in." in unexplained.text  # the coordinators would not know why
        assert (await senior.get("/policy?scope=region:atlantis")).status_code == 404


async def numbers(where, row_heading: str, within: str = "") -> list[str]:
    """The cells of the table row headed `row_heading`."""
    page = where if isinstance(where, Page) else where.page
    heading = page.locator("th").get_by_text(row_heading, exact=True)
    return await where.locator(f"{within} tr".strip()).filter(has=heading).locator("td").all_text_contents()


async def request_return(api, store: str) -> dict:
    today = api.app.state.clock().astimezone(ZoneInfo("Europe/Helsinki")).date()  # the stores' time zone
    response = await api.client.post(
        "/v1/returns", headers=api.token(Role.associate, store, region=REGION),
        json={"store_id": store, "kind": "refund", "tender": "cash", "amount": {"minor_units": 2590, "currency": "EUR"},
              "product_category": "small-appliances", "purchased_on": (today - timedelta(days=BOUGHT_DAYS_AGO)).isoformat(),
              "receipt_number": "R-1"},
    )
    assert response.status_code == 201, response.text
    return response.json()


async def routed(platform, complaint_id: str):
    def found(envelopes):
        return [e.data for e in envelopes if e.type == "retail.escalation.routed.v1" and str(e.data.complaint_id) == complaint_id]

    return found(await read_topic(platform.kafka_bootstrap_servers, ESCALATIONS, found))[0]


async def look_at(page: Page, name: str) -> None:
    await screenshots(page, name)
    assert await serious_violations(page) == [], name
