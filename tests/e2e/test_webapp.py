"""The staff web app in Debian's Chromium, served for real over the real complaints and scheduling
APIs: an associate signs in, files a complaint (a missing field named on the form first), finds it
among their site's open complaints, acknowledges, notes and resolves it with the technique's steps;
the same in Finnish. Every page at phone and desktop widths, checked by axe-core."""

from collections.abc import AsyncIterator

import httpx
import pytest
from playwright.async_api import expect

from services.shared.clock import utc_now
from services.webapp.app import build_app
from services.webapp.settings import WebappSettings
from tests.support import complaints as complaints_support
from tests.support import scheduling as scheduling_support
from tests.support.browser import screenshots, serious_violations, serving


@pytest.fixture
async def webapp(new_database, platform) -> AsyncIterator[str]:
    async for complaints in complaints_support.start_api(await new_database(), platform):
        async for scheduling in scheduling_support.start_api(await new_database(), platform, clock=utc_now):
            app = build_app(WebappSettings(), platform, transports={
                "complaints": httpx.ASGITransport(app=complaints.app), "scheduling": httpx.ASGITransport(app=scheduling.app),
            })
            async with serving(app) as url:
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
