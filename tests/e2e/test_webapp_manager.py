"""The store manager's pages in Debian's Chromium, served for real over the real complaints, scheduling
and notifications APIs: a manager signs in to their site's board (the complaint past its deadline
first, then the one they were paged about), finds a return over the approval amount in their inbox,
is told what a decline lacks, declines it with a reason and sees it gone; reads the page that reached
them, and confirms the training proposed for their site beside the week's shifts. In English and in
Finnish, every page at phone and desktop widths, checked by axe-core."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from uuid import uuid4
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.async_api import expect

from services.complaints.service.escalations import on_moved
from services.scheduling.service.proposals import on_problem
from services.shared.events.coordination import ProblemDetected
from services.shared.events.envelope import wrap
from services.shared.events.escalations import Assignee, EscalationRouted
from services.shared.principal import Role
from services.shared.topics import ESCALATIONS
from services.webapp.app import build_app
from services.webapp.settings import WebappSettings
from tests.support.browser import screenshots, serious_violations, serving
from tests.support.builders import example
from tests.support.notifications import MANAGER, Chain, paged, start_chain
from tests.support.scheduling import produce

STORE = "hel-kamppi"


@dataclass
class Site:
    url: str
    late: str  # a complaint past its acknowledge deadline
    paged: str  # a complaint its manager was paged about
    calm: str  # a complaint with time left
    pending: dict  # a return waiting for the manager's approval
    shift_day: date  # emp-1042's shift: tomorrow, within the store's hours whatever the time of the test


@pytest.fixture
async def site(new_database, platform) -> AsyncIterator[Site]:
    async for chain in start_chain(new_database, platform):
        seeded = await _seed(chain, platform)
        app = build_app(WebappSettings(), platform, transports={
            "complaints": httpx.ASGITransport(app=chain.complaints.app),
            "scheduling": httpx.ASGITransport(app=chain.scheduling.app),
            "notifications": httpx.ASGITransport(app=chain.notifications.app),
        })
        async with serving(app) as url:
            yield Site(url, *seeded)


@pytest.mark.parametrize("lang", ["en", "fi"])
async def test_a_store_manager_sees_the_board_and_declines_a_pending_return(site: Site, browser, lang):
    context = await browser.new_context(base_url=site.url, locale="fi-FI" if lang == "fi" else "en-GB")
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    words = WORDS[lang]

    await page.goto("/signin")
    await page.get_by_label(words["person"]).select_option("mgr-0007")
    await page.get_by_role("button", name=words["sign_in"]).click()
    await expect(page.get_by_role("heading", name=words["board"], level=1)).to_be_visible()
    cards = page.locator(".board > li")
    await expect(cards).to_have_count(3)
    assert [await card.get_by_role("link").get_attribute("href") for card in await cards.all()] == [
        f"/complaints/{site.late}", f"/complaints/{site.paged}", f"/complaints/{site.calm}"]
    await expect(cards.nth(0).get_by_text(words["breached"], exact=True)).to_be_visible()
    await expect(cards.nth(0).get_by_text("mgr-0007")).to_be_visible()
    await expect(cards.nth(1).get_by_text(words["paged"], exact=True)).to_be_visible()
    await expect(cards.nth(2).get_by_text(words["breached"], exact=True)).to_have_count(0)
    await look_at(page, f"manager-board-{lang}")

    await page.get_by_role("link", name=words["nav_returns"]).click()
    await expect(page.get_by_role("heading", name=words["returns"], level=1)).to_be_visible()
    waiting = page.locator(".returns > li")
    await expect(waiting).to_have_count(1)
    await expect(waiting.get_by_role("heading", level=2)).to_contain_text(words["amount"])
    await waiting.get_by_role("button", name=words["decline"]).click()  # neither reason nor its category
    reason = page.get_by_label(words["reason"])
    await expect(reason).to_have_attribute("aria-invalid", "true")
    await expect(page.get_by_label(words["category"])).to_have_attribute("aria-invalid", "true")
    await expect(page.get_by_role("alert")).to_be_visible()
    await look_at(page, f"manager-returns-errors-{lang}")

    await page.get_by_label(words["category"]).select_option("item_condition")
    await reason.fill("The coat has been worn all winter; offered a repair instead.")
    await page.get_by_role("button", name=words["decline"]).click()
    await expect(page.get_by_role("status")).to_have_text(words["declined"])
    await expect(page.locator(".returns > li")).to_have_count(0)
    await expect(page.get_by_text(words["no_returns"])).to_be_visible()
    await look_at(page, f"manager-returns-{lang}")

    await page.get_by_role("link", name=words["nav_pages"]).click()
    reached = page.locator(".reached > li")
    await expect(reached).to_have_count(1)
    await expect(reached.get_by_role("link", name=words["page"])).to_have_attribute("href", f"/complaints/{site.paged}")
    await look_at(page, f"manager-pages-{lang}")

    await page.get_by_role("link", name=words["nav_schedule"]).click()
    await page.goto(f"/manager/schedule?week={site.shift_day.isoformat()}")  # tomorrow may be in next week
    await expect(page.locator(".shifts").get_by_text("emp-1042")).to_be_visible()
    await expect(page.locator(".proposals > li")).to_have_count(1)
    await look_at(page, f"manager-schedule-{lang}")
    await page.get_by_role("button", name=words["confirm"]).click()
    await expect(page.get_by_role("status")).to_have_text(words["confirmed"])
    await expect(page.locator(".proposals > li")).to_have_count(0)

    await page.get_by_role("link", name=words["nav_queue"]).click()  # the front line's queue stays theirs too
    await expect(page.get_by_role("heading", name=words["queue"], level=1)).to_be_visible()
    assert errors == []
    await context.close()


async def test_a_manager_sets_how_they_are_reached_and_their_quiet_hours(site: Site, browser):
    """Any signed-in person's own page; the manager's here, with the notifications service behind it."""
    context = await browser.new_context(base_url=site.url, locale="fi-FI")
    page = await context.new_page()
    await page.goto("/signin")
    await page.get_by_label("Henkilö").select_option("mgr-0007")
    await page.get_by_role("button", name="Kirjaudu").click()
    await page.get_by_role("link", name="Ilmoitukseni").click()
    await expect(page.get_by_role("heading", name="Ilmoitukseni", level=1)).to_be_visible()
    first = page.get_by_label("Ensin")
    await expect(first.locator("option:checked")).to_contain_text("mgr-0007@chain.example")  # where e-mail goes
    await look_at(page, "me-notifications-fi")

    await first.select_option("sms")
    await page.get_by_label("Sitten").select_option("sms")  # twice: the service's reason shown, nothing kept
    await page.get_by_role("button", name="Tallenna").click()
    await expect(page.get_by_role("alert")).to_contain_text("Valitse kukin kanava vain kerran.")
    await expect(page.get_by_label("Sitten")).to_have_value("sms")  # the form as it was sent
    await page.get_by_label("Sitten").select_option("email")
    await page.get_by_label("Viimeiseksi").select_option("")
    await page.get_by_label("Pidä hiljaiset tunnit").check()
    await page.get_by_label("Alkaen").fill("21:30")
    await page.get_by_label("Asti").fill("06:45")
    await page.get_by_role("button", name="Tallenna").click()
    await expect(page.get_by_role("status")).to_have_text("Tallennettu.")
    await look_at(page, "me-notifications-saved-fi")

    await page.goto("/me/notifications")  # as the notifications service keeps them
    await expect(first).to_have_value("sms")
    await expect(page.get_by_label("Sitten")).to_have_value("email")
    await expect(page.get_by_label("Viimeiseksi")).to_have_value("")
    await expect(page.get_by_label("Alkaen")).to_have_value("21:30")
    await expect(page.get_by_label("Asti")).to_have_value("06:45")
    await context.close()


async def look_at(page, name: str) -> None:
    await screenshots(page, name)
    assert await serious_violations(page) == [], name


async def _seed(chain: Chain, platform) -> tuple[str, str, str, dict, date]:
    """Three open complaints at the site (one past its deadline and assigned to the manager, one they
    were paged about, one with time left), a return over the approval amount, a shift tomorrow and a
    training proposal."""
    late, calm = (await chain.complaints.file(severity="medium"), await chain.complaints.file(severity="low"))
    late, calm = late.json()["id"], calm.json()["id"]
    now = datetime.now(UTC)
    async with chain.complaints.app.state.sessions.begin() as session:  # as the escalation worker tells it
        for complaint, staff_id, acknowledge_by in ((late, "mgr-0007", now - timedelta(minutes=5)),
                                                    (calm, None, now + timedelta(hours=2))):
            routed = EscalationRouted(
                store_id=STORE, region_id="uusimaa", complaint_id=complaint, reason="severity",
                assignee=Assignee(tier="store_manager" if staff_id else "associate", staff_id=staff_id),
                acknowledge_by=acknowledge_by, resolve_by=acknowledge_by + timedelta(hours=4), at=now - timedelta(minutes=20))
            await on_moved(session, wrap(routed, source="/tests", time=routed.at, subject=complaint), now)
    paged_about = await chain.critical_complaint()
    await produce(platform, ESCALATIONS, [paged(paged_about, "mgr-0007")])
    await chain.mail(MANAGER, paged_about)

    senior = chain.complaints.token(Role.senior_manager)
    policy = {"return_window_days": 30, "receipt_required": True, "approval_amount_minor": 20_000,
              "non_returnable_categories": [], "allowed_tenders": ["cash", "credit", "debit", "gift_card"], "currency": "EUR"}
    policed = await chain.complaints.client.put(f"/v1/stores/{STORE}/return-policy", json=policy, headers=senior)
    assert policed.status_code == 204, policed.text
    bought = (now.astimezone(ZoneInfo("Europe/Helsinki")) - timedelta(days=5)).date().isoformat()
    requested = await chain.complaints.client.post("/v1/returns", headers=chain.complaints.token(Role.associate), json={
        "store_id": STORE, "kind": "refund", "tender": "credit", "amount": {"minor_units": 25_000, "currency": "EUR"},
        "product_category": "outerwear", "purchased_on": bought, "receipt_number": "R-2027-0001"})
    assert requested.status_code == 201 and requested.json()["status"] == "pending_approval", requested.text

    helsinki = ZoneInfo("Europe/Helsinki")
    shift_day = (now.astimezone(helsinki) + timedelta(days=1)).date()
    starts = datetime.combine(shift_day, time(10), tzinfo=helsinki)  # the store is open then on every day of the week
    shift = await chain.scheduling.shift("emp-1042", STORE, starts, starts + timedelta(hours=4))
    assert shift.status_code == 201, shift.text
    if shift.json()["status"] == "draft":
        assert (await chain.scheduling.publish(STORE, shift.json()["week"])).status_code == 200
    problem = example(ProblemDetected, region_id="uusimaa", problem_id=uuid4(), at=now)
    async with chain.scheduling.app.state.sessions.begin() as session:  # as the scheduling worker proposes it
        await on_problem(session, wrap(problem, source="/tests", time=now, subject=str(problem.problem_id)), now)
    return late, paged_about, calm, requested.json(), shift_day


WORDS = {
    "en": {"person": "Person", "sign_in": "Sign in", "board": "Site board", "breached": "deadline passed", "paged": "paged",
           "nav_returns": "Returns", "returns": "Returns waiting for you", "amount": "EUR 250.00", "decline": "Decline",
           "reason": "Reason, in your words", "category": "Reason category",
           "declined": "Declined; the request has left your inbox.", "no_returns": "No returns wait for your approval.",
           "nav_pages": "Pages to me", "page": "Page", "nav_schedule": "Schedule", "confirm": "Confirm",
           "confirmed": "Confirmed: the training will be scheduled.", "nav_queue": "Queue", "queue": "Complaints"},
    "fi": {"person": "Henkilö", "sign_in": "Kirjaudu", "board": "Tilannetaulu", "breached": "myöhässä", "paged": "hälytetty",
           "nav_returns": "Palautukset", "returns": "Hyväksyntää odottavat palautukset", "amount": "250,00 EUR",
           "decline": "Hylkää", "reason": "Perustelu omin sanoin", "category": "Syyn luokka",
           "declined": "Hylätty; pyyntö poistui listaltasi.", "no_returns": "Hyväksyntääsi ei odota yhtään palautusta.",
           "nav_pages": "Hälytykset", "page": "Hälytys", "nav_schedule": "Työvuorot", "confirm": "Vahvista",
           "confirmed": "Vahvistettu: koulutus ajoitetaan.", "nav_queue": "Jono", "queue": "Valitukset"},
}
