"""The staff web app in Debian's Chromium, served for real over the real complaints and scheduling
APIs: an associate signs in, files a complaint (a missing field named on the form first), finds it
among their site's open complaints, acknowledges, notes and resolves it with the technique's steps;
the same in Finnish. A call-centre agent files at a store picked from the chain's stores (typed when
the list cannot be had); a queue longer than a page shows its older complaints on request. Every page
at phone and desktop widths, checked by axe-core."""

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from playwright.async_api import expect

from services.shared.clock import utc_now
from services.shared.principal import Role
from services.webapp.app import build_app
from services.webapp.settings import WebappSettings
from tests.support import complaints as complaints_support
from tests.support import scheduling as scheduling_support
from tests.support.browser import screenshots, serious_violations, serving


async def served(new_database, platform, settings: WebappSettings, stores_listed: bool = True):
    """The app over the APIs, and the complaints API to prepare the chain with; `stores_listed` False:
    the complaints API's list of stores cannot be reached."""
    async for complaints in complaints_support.start_api(await new_database(), platform):
        async for scheduling in scheduling_support.start_api(await new_database(), platform, clock=utc_now):
            complaints_transport = httpx.ASGITransport(app=complaints.app)
            app = build_app(settings, platform, transports={
                "complaints": complaints_transport if stores_listed else NoStoreList(complaints_transport),
                "scheduling": httpx.ASGITransport(app=scheduling.app),
            })
            async with serving(app) as url:
                yield url, complaints


class NoStoreList(httpx.AsyncBaseTransport):
    """The complaints API with its list of stores out of reach."""

    def __init__(self, api: httpx.AsyncBaseTransport) -> None:
        self.api = api

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/stores":
            raise httpx.ConnectError("the store list is unreachable", request=request)
        return await self.api.handle_async_request(request)


@pytest.fixture
async def webapp(new_database, platform) -> AsyncIterator[str]:
    async for url, _ in served(new_database, platform, WebappSettings()):
        yield url


@pytest.fixture
async def short_pages(new_database, platform) -> AsyncIterator[tuple[str, complaints_support.Api]]:
    """The app listing three complaints at a time, and the complaints API."""
    async for running in served(new_database, platform, WebappSettings(page_size=3)):
        yield running


@pytest.fixture
async def no_store_list(new_database, platform) -> AsyncIterator[str]:
    async for url, _ in served(new_database, platform, WebappSettings(), stores_listed=False):
        yield url


@pytest.mark.parametrize("lang", ["en", "fi"])
async def test_an_associate_files_a_complaint_finds_it_and_works_it_to_resolution(webapp, browser, lang):
    context = await browser.new_context(base_url=webapp, locale="fi-FI" if lang == "fi" else "en-GB")
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    words = WORDS[lang]

    await page.goto("/signin")
    await look_at(page, f"signin-{lang}")
    await page.get_by_label(words["person"]).select_option("emp-1042")
    await page.get_by_role("button", name=words["sign_in"]).click()
    await expect(page.get_by_role("heading", name=words["queue"], level=1)).to_be_visible()
    await look_at(page, f"queue-{lang}")

    await page.get_by_role("link", name=words["file"]).first.click()
    await page.get_by_label(words["category"]).select_option("product_quality")
    await page.get_by_label(words["severity"]).select_option("high")
    await page.get_by_label(words["mood"]).select_option("upset")
    await page.get_by_label(words["email"]).fill("aino@example.com")
    await page.get_by_role("button", name=words["submit"]).click()  # nothing said about what happened
    description = page.get_by_label(words["description"])
    await expect(description).to_have_attribute("aria-invalid", "true")
    await expect(page.get_by_role("alert").first).to_be_visible()
    await look_at(page, f"file-errors-{lang}")
    await description.fill("The kettle leaks from the base after two days.")
    await page.get_by_role("button", name=words["submit"]).click()

    await expect(page.get_by_text("The kettle leaks from the base after two days.")).to_be_visible()
    complaint_url = page.url
    await page.get_by_role("link", name=words["nav_queue"]).click()
    await expect(page.locator(f'a[href="{complaint_url.removeprefix(webapp)}"]')).to_be_visible()

    await page.goto(complaint_url)
    await page.get_by_role("button", name=words["acknowledge"]).click()
    await expect(page.get_by_text(words["acknowledged"]).first).to_be_visible()
    await page.get_by_label(words["note"], exact=True).fill("Offered a replacement; the customer agreed.")
    await page.get_by_role("button", name=words["add_note"]).click()
    await expect(page.get_by_text("Offered a replacement; the customer agreed.")).to_be_visible()
    await look_at(page, f"complaint-{lang}")

    for step in words["steps"]:
        await page.get_by_label(step).check()
    await page.get_by_label(words["technique"]).select_option("address_concerns")
    await page.get_by_label(words["outcome"]).select_option("exchange")
    await page.get_by_label(words["summary"]).fill("Exchanged the kettle.")
    await page.get_by_role("button", name=words["resolve"]).click()
    await expect(page.get_by_text("Exchanged the kettle.")).to_be_visible()
    await expect(page.get_by_role("button", name=words["resolve"])).to_have_count(0)
    assert errors == []
    await context.close()


async def test_a_form_without_its_csrf_token_and_a_forged_session_are_refused(webapp):
    async with httpx.AsyncClient(base_url=webapp) as client:
        people = await client.get("/signin")
        assert people.status_code == 200 and "emp-1042" in people.text
        assert "Content-Security-Policy" in people.headers and "script-src" not in people.headers["Content-Security-Policy"]
        signed_in = await client.post("/signin", data={"staff_id": "emp-1042"})
        assert signed_in.status_code == 303
        cookie = signed_in.cookies["retail_session"]
        assert "HttpOnly" in signed_in.headers["set-cookie"] and "samesite=lax" in signed_in.headers["set-cookie"].lower()
        no_csrf = await client.post("/complaints", data={"category": "other"}, cookies={"retail_session": cookie})
        assert no_csrf.status_code == 403
        forged = cookie[:-4] + ("AAAA" if not cookie.endswith("AAAA") else "BBBB")
        away = await client.get("/queue", cookies={"retail_session": forged})
        assert away.status_code == 303 and away.headers["location"] == "/signin"


async def test_a_call_centre_agent_files_at_a_store_picked_from_the_chains_stores(short_pages, browser):
    url, complaints = short_pages
    admin = complaints.token(Role.service, sub="svc-setup")
    for store, region, name in (("tre-koskikeskus", "pirkanmaa", "Koskikeskus"), ("hel-kamppi", "uusimaa", "Kamppi"),
                                ("esp-iso-omena", "uusimaa", "Iso Omena")):
        answer = await complaints.client.put(f"/v1/stores/{store}", json={"region_id": region, "name": name}, headers=admin)
        assert answer.status_code == 204, answer.text
    context = await browser.new_context(base_url=url, locale="en-GB")
    page = await context.new_page()
    await sign_in(page, "cc-2001")

    await page.goto("/complaints/new")
    store = page.get_by_label("Store")
    assert await store.locator("optgroup").evaluate_all("groups => groups.map(g => g.label)") == [
        "Region pirkanmaa", "Region uusimaa"]
    assert await store.locator("option").all_inner_texts() == ["Choose…", "Koskikeskus", "Iso Omena", "Kamppi"]
    await store.select_option(label="Iso Omena")
    await page.get_by_label("Category").select_option("service")
    await page.get_by_label("Severity").select_option("medium")
    await page.get_by_label("Mood").select_option("calm")
    await page.get_by_label("Phone").fill("+358 40 123 4567")
    await look_at(page, "file-store-picker")
    await page.get_by_label("What happened").fill("Nobody answered at the service point.")
    await page.get_by_role("button", name="File the complaint").click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("esp-iso-omena")
    await context.close()

    async with httpx.AsyncClient(base_url=url) as client:  # a store the list did not offer: named on the form
        assert (await client.post("/signin", data={"staff_id": "cc-2001"})).status_code == 303
        csrf = re.search(r'name="csrf" value="([^"]+)"', (await client.get("/complaints/new")).text)[1]
        refused = await client.post("/complaints", data={
            "csrf": csrf, "store_id": "nowhere", "phone": "+358 40 123 4567", "channel": "call_centre", "category": "service",
            "severity": "low", "mood": "calm", "description": "A store that does not exist."})
        assert refused.status_code == 422, refused.text
        assert 'id="store_id-error"' in refused.text and "<optgroup" in refused.text


async def test_without_the_store_list_the_agent_types_the_store(no_store_list):
    async with httpx.AsyncClient(base_url=no_store_list) as client:
        assert (await client.post("/signin", data={"staff_id": "cc-2001"})).status_code == 303
        form = await client.get("/complaints/new")
        assert form.status_code == 200
        assert '<input id="store_id" name="store_id"' in form.text and "<select id=\"store_id\"" not in form.text
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)[1]
        filed = await client.post("/complaints", data={
            "csrf": csrf, "store_id": "tre-koskikeskus", "phone": "+358 40 123 4567", "channel": "call_centre",
            "category": "service", "severity": "low", "mood": "calm", "description": "Typed the store's id."})
        assert filed.status_code == 303
        assert "tre-koskikeskus" in (await client.get(filed.headers["location"])).text


async def test_a_queue_longer_than_a_page_shows_its_older_complaints_on_request(short_pages, browser):
    url, complaints = short_pages
    filed = []
    for n in range(5):
        answer = await complaints.file(description=f"Complaint number {n}.")
        assert answer.status_code == 201, answer.text
        filed.append(answer.json()["id"])
    newest, oldest = filed[:1:-1], filed[1::-1]
    context = await browser.new_context(base_url=url, locale="en-GB")
    page = await context.new_page()
    await sign_in(page, "emp-1042")
    site = page.get_by_role("region", name="Open at hel-kamppi")

    for shown in newest:
        await expect(site.locator(f'a[href="/complaints/{shown}"]')).to_be_visible()
    await expect(site.locator('a[href^="/complaints/"]')).to_have_count(3)
    await expect(site.get_by_text("3 shown, newest first")).to_be_visible()
    await look_at(page, "queue-first-page")
    await site.get_by_role("link", name="Older complaints").click()

    for shown in oldest:
        await expect(site.locator(f'a[href="/complaints/{shown}"]')).to_be_visible()
    await expect(site.locator('a[href^="/complaints/"]')).to_have_count(2)
    await expect(site.get_by_text("2 older ones shown")).to_be_visible()
    await expect(site.get_by_role("link", name="Older complaints")).to_have_count(0)
    await look_at(page, "queue-older-page")
    await site.get_by_role("link", name="Back to the newest").click()
    await expect(site.locator('a[href^="/complaints/"]')).to_have_count(3)

    for cursor in ("not a cursor", "x" * 500, "AAAA"):  # malformed, too long, and well-formed but no page's
        answer = await page.goto(f"/queue?site_after={cursor}")
        assert answer.status == 400, cursor
        await expect(page.get_by_role("heading", name="That page of the list was not found")).to_be_visible()
    await look_at(page, "queue-bad-cursor")
    await context.close()


async def sign_in(page, staff_id: str) -> None:
    await page.goto("/signin")
    await page.get_by_label("Person").select_option(staff_id)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="Complaints", level=1)).to_be_visible()


async def look_at(page, name: str) -> None:
    await screenshots(page, name)
    assert await serious_violations(page) == [], name


WORDS = {
    "en": {"nav_queue": "Queue",
           "person": "Person", "sign_in": "Sign in", "queue": "Complaints", "file": "File a complaint", "category": "Category",
           "severity": "Severity", "mood": "Mood", "email": "E-mail", "submit": "File the complaint",
           "description": "What happened", "acknowledge": "Acknowledge", "acknowledged": "Acknowledged", "note": "Note",
           "add_note": "Add the note", "technique": "What resolved it", "outcome": "Outcome",
           "summary": "Summary of the resolution", "resolve": "Resolve",
           "steps": ["Defused the situation", "Isolated the core problem", "Addressed the customer's concerns"]},
    "fi": {"nav_queue": "Jono",
           "person": "Henkilö", "sign_in": "Kirjaudu", "queue": "Valitukset", "file": "Kirjaa valitus", "category": "Aihe",
           "severity": "Vakavuus", "mood": "Mieliala", "email": "Sähköposti", "submit": "Kirjaa valitus",
           "description": "Mitä tapahtui", "acknowledge": "Kuittaa", "acknowledged": "Kuitattu", "note": "Muistiinpano",
           "add_note": "Lisää muistiinpano", "technique": "Mikä ratkaisi", "outcome": "Lopputulos",
           "summary": "Ratkaisun yhteenveto", "resolve": "Ratkaise",
           "steps": ["Rauhoitin tilanteen", "Selvitin ydinongelman", "Vastasin asiakkaan huoliin"]},
}
