"""The customer's satisfaction survey in Debian's Chromium, served by the web app over the real
complaints API, as the link sent on resolution opens it: no sign-in, the store named, a score and a
comment sent once; the same link again, an unknown one and the complaints service down each say what
happened, in the browser's language. Every page at phone and desktop widths, checked by axe-core."""

from collections.abc import AsyncIterator

import httpx
import pytest
from playwright.async_api import expect

from services.webapp.app import build_app
from services.webapp.settings import WebappSettings
from tests.support import complaints as complaints_support
from tests.support.browser import screenshots, serious_violations, serving

WORDS = {
    "en": {"locale": "en-GB", "title": "Your feedback", "score": "4 – satisfied", "comment": "Anything you would like",
           "send": "Send", "thanks": "Thank you!", "answered": "answered already", "unknown": "could not find this survey",
           "choose": "Choose one."},
    "fi": {"locale": "fi-FI", "title": "Palautteesi", "score": "4 – tyytyväinen", "comment": "Haluatko kertoa",
           "send": "Lähetä", "thanks": "Kiitos!", "answered": "on jo vastattu", "unknown": "Kyselyä ei löytynyt",
           "choose": "Valitse yksi."},
}


@pytest.fixture
async def survey_app(new_database, platform) -> AsyncIterator[tuple[str, complaints_support.Api]]:
    async for complaints in complaints_support.start_api(await new_database(), platform):
        app = build_app(WebappSettings(), platform, transports={"complaints": httpx.ASGITransport(app=complaints.app)})
        async with serving(app) as url:
            yield url, complaints


@pytest.mark.parametrize("lang", ["en", "fi"])
async def test_a_customer_answers_the_survey_from_the_link_once(survey_app, browser, lang):
    url, complaints = survey_app
    words = WORDS[lang]
    token = await complaints.resolve((await complaints.file()).json()["id"])
    context = await browser.new_context(base_url=url, locale=words["locale"])
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    await page.goto(f"/survey/{token}")
    await expect(page.get_by_role("heading", name=words["title"], level=1)).to_be_visible()
    await expect(page.get_by_text("hel-kamppi")).to_be_visible()  # the store, as the chain named it
    await expect(page.get_by_role("navigation")).to_have_count(0)  # nothing of the staff's app
    await look_at(page, f"survey-{lang}")

    unscored = await context.request.post(f"/survey/{token}", form={"comment": "No score given."},
                                          headers={"Accept-Language": lang})
    assert unscored.status == 422 and words["choose"] in await unscored.text()  # and nothing kept: answered below

    await page.get_by_label(words["score"]).check()
    await page.get_by_label(words["comment"]).fill("Quick and kind." if lang == "en" else "Nopeaa ja ystävällistä.")
    await page.get_by_role("button", name=words["send"]).click()
    await expect(page.get_by_role("status")).to_contain_text(words["thanks"])
    await look_at(page, f"survey-thanks-{lang}")
    assert (await complaints.client.get(f"/v1/csat/{token}")).status_code == 409

    await page.goto(f"/survey/{token}")
    await expect(page.get_by_role("status")).to_contain_text(words["answered"])
    await expect(page.get_by_role("button", name=words["send"])).to_have_count(0)
    unknown = await page.goto(f"/survey/{'x' * 43}")
    assert unknown.status == 404
    await expect(page.get_by_role("status")).to_contain_text(words["unknown"])
    assert (await page.goto("/survey/..%2Fv1%2Fcomplaints")).status == 404  # only a token reaches the API
    assert errors == []
    await context.close()


async def test_the_survey_page_says_so_while_the_complaints_service_cannot_be_reached(platform):
    app = build_app(WebappSettings(complaints_url="http://127.0.0.1:9"), platform)
    async with serving(app) as url, httpx.AsyncClient(base_url=url) as client:
        down = await client.get(f"/survey/{'y' * 43}")
    assert down.status_code == 503 and "cannot be opened right now" in down.text


async def look_at(page, name: str) -> None:
    await screenshots(page, name)
    assert await serious_violations(page) == [], name
