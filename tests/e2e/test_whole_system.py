"""The whole platform end to end, each service its own process as operators run it, on a broker of its
own and PostgreSQL, driven only through the public APIs people and their tools use: two regions'
complaints filed; an extreme case paged to the store manager the scheduling service put on duty, the
page delivered by e-mail and acknowledged from its link; an SLA breach raised in the other region by
the worker's own clock; a burst of rejected returns detected as a common problem, a change proposed by
the regional coordinator, accepted by a senior manager and applied to the next return; a briefing
proposed at every store of the region; the customer's CSAT survey answered from its e-mail; and
Prometheus, with the repository's configuration, holding each of these figures.

The one look behind the APIs is an operator's: the roster topic and Kafka's consumer-group offsets, to
start the extreme case only once the escalation worker has read who is on duty."""

import re
from datetime import datetime, timedelta
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import httpx
import pytest

from services.escalation.settings import DEFAULT_RULES
from services.shared.principal import Role
from tests.support import complaints as complaints_support
from tests.support import eventually
from tests.support import scheduling as scheduling_support
from tests.support.escalation import running_worker, worker_knows_roster
from tests.support.infra import own_platform
from tests.support.notifications import Mailbox, link_in
from tests.support.notifications import running_service as running_notifications
from tests.support.prometheus import query, running_prometheus

NORTH, SOUTH = "pohjanmaa", "pirkanmaa"
STORES = {NORTH: ["vaasa-keskusta", "seinajoki-ideapark", "kokkola-chydenia"], SOUTH: ["tre-koskikeskus"]}
PAGED_STORE, SOUTH_STORE = STORES[NORTH][0], STORES[SOUTH][0]
MANAGER, ADDRESS, ASSOCIATE = "mgr-vaasa-1", "mgr-vaasa-1@chain.example", "emp-tre-1"
COORDINATOR, SENIOR = f"rc-{NORTH}-1", "sm-0001"
CUSTOMER = "aino@example.com"  # tests.support.complaints files every complaint with this address
OLD_WINDOW, NEW_WINDOW, BOUGHT_DAYS_AGO = 14, 30, 20
SURVEY, BY = re.compile(r"/survey/(\S+)"), re.compile(r"sum by \(([^)]*)\)")
# The south's front line has one minute to acknowledge, so the worker's own clock breaches a complaint
# nobody acknowledges while the test runs; a breach raises it a tier, which has 15 minutes or more.
SLA_OVERRIDE = f"""
[regions.{SOUTH}.sla.associate]
acknowledge_minutes = 1
resolve_minutes = 240
"""


@pytest.fixture(scope="module")
def platform(infra_dir):
    """A broker of the module's own: its escalation worker keeps real time, which on the session's
    broker would breach every open complaint of the other tests."""
    with own_platform(infra_dir / "kafka-whole-system") as platform:
        yield platform


@pytest.fixture(scope="module")
async def worker(platform, tmp_path_factory):
    rules = tmp_path_factory.mktemp("rules") / "rules.toml"
    rules.write_text(DEFAULT_RULES.read_text() + SLA_OVERRIDE)
    async for running in running_worker(platform, tmp_path_factory.mktemp("escalation"), tick_seconds="1",
                                        rules_file=str(rules)):
        yield running


@pytest.fixture(scope="module")
async def scheduling(new_database, platform):
    database = await new_database()
    async for running in scheduling_support.running_service(database, platform):
        admin = running.token(Role.service, None, sub="svc-setup")
        for region, stores in STORES.items():
            assert (await running.client.put(f"/v1/regions/{region}", json={"name": region.title()},
                                             headers=admin)).status_code == 204
            for store in stores:
                site = {"region_id": region, "name": store, "timezone": "Europe/Helsinki",
                        "opening_hours": {day: [["00:00", "24:00"]] for day in scheduling_support.WEEKDAYS}}
                response = await running.client.put(f"/v1/sites/{store}", json=site, headers=admin)
                assert response.status_code == 204, response.text
                running.sites[store] = site
        for staff_id, staff in [
            (MANAGER, scheduling_support.staff_body(Role.store_manager, PAGED_STORE, contact={"work_email": ADDRESS})),
            (ASSOCIATE, scheduling_support.staff_body(Role.associate, SOUTH_STORE)),
        ]:
            assert (await running.client.put(f"/v1/staff/{staff_id}", json=staff, headers=admin)).status_code == 204
        async for process in scheduling_support.running_worker(database, platform):
            yield running, process


@pytest.fixture(scope="module")
async def complaints(new_database, platform, mailbox):
    database = await new_database()
    async for running in complaints_support.running_service(database, platform, smtp_port=str(mailbox.port),
                                                            survey_url="https://care.example/survey"):
        for region, stores in STORES.items():
            await complaints_support.add_stores(running, region, stores)
        async for process in complaints_support.running_worker(database, platform):
            yield running, process


@pytest.fixture(scope="module")
async def notifications(new_database, platform, mailbox, scheduling, complaints):
    process = await running_notifications(await new_database(), platform, mailbox, str(scheduling[0].client.base_url),
                                          complaints_url=str(complaints[0].client.base_url))
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="module")
async def prometheus(platform, analytics, notifications, tmp_path_factory):
    targets = {"analytics": f"127.0.0.1:{analytics.port}", "notifications": notifications.url.removeprefix("http://")}
    async with running_prometheus(tmp_path_factory.mktemp("prometheus"), platform, targets) as client:
        yield client


async def test_complaints_in_two_regions_reach_the_people_on_duty_change_the_policy_and_show_in_prometheus(
    platform, worker, boards, analytics, mailbox, scheduling, complaints, notifications, prometheus,
):
    scheduling, _ = scheduling
    complaints, _ = complaints

    # The scheduling service puts an associate on duty in the south and the store manager in the north.
    for staff_id, store in [(ASSOCIATE, SOUTH_STORE), (MANAGER, PAGED_STORE)]:
        await scheduling_support.put_on_duty(scheduling, staff_id, store)
        await worker_knows_roster(worker, platform.kafka_bootstrap_servers, store, {staff_id})

    # The south: a complaint the associate does not acknowledge, whose one-minute deadline passes meanwhile.
    unacknowledged = await file(complaints, SOUTH_STORE)

    # The north: an extreme case pages the manager on duty.
    critical = await file(complaints, PAGED_STORE, severity="critical", mood="angry")
    page = await eventually(lambda: one_message(mailbox, ADDRESS, critical, "Page:"), timeout_s=90,
                            what="the page in the on-duty manager's mailbox")
    async with httpx.AsyncClient(base_url=notifications.url) as browser:
        acknowledged = await browser.post(link_in(page))
        assert acknowledged.status_code == 200 and "SLA timer has stopped" in acknowledged.text, acknowledged.text
    manager = complaints.token(Role.store_manager, PAGED_STORE, sub=MANAGER)
    shown = await complaints.client.get(f"/v1/complaints/{critical}", headers=manager)
    assert shown.json()["status"] == "acknowledged", shown.text

    # Returns the region's 14-day window rejects at each of its three stores: a common problem on the board.
    senior = complaints.token(Role.senior_manager, None, sub=SENIOR)
    policy = {"return_window_days": OLD_WINDOW, "receipt_required": True, "approval_amount_minor": 20_000,
              "non_returnable_categories": ["perishables"], "allowed_tenders": ["cash", "credit", "debit"]}
    response = await complaints.client.put(f"/v1/regions/{NORTH}/return-policy", json=policy, headers=senior)
    assert response.status_code == 204, response.text
    for store in STORES[NORTH]:
        for _ in range(3):
            rejected = await request_return(complaints, store)
            assert (rejected["status"], rejected["broken_rules"]) == ("rejected", ["return_window"]), rejected

    async def problem_on_the_board() -> dict | None:
        return next(iter((await board(boards, NORTH)).get("problems", [])), None)

    problem = await eventually(problem_on_the_board, timeout_s=120, what="the common problem on the north's board")

    # The coordinator proposes a longer window, a senior manager accepts it, and the next return is checked by it.
    base = f"/regions/{NORTH}/problems/{problem['problem_id']}"
    proposal = {"title": "A 30-day return window", "proposal": "Small appliances come back at day 15-20.",
                "change": {"return_window_days": NEW_WINDOW}}
    proposed = await boards.post(f"{base}/proposal", proposal, boards.headers(Role.regional_coordinator, NORTH, COORDINATOR))
    assert proposed.status_code == 201, proposed.text
    decided = await boards.post(f"{base}/decision", {"decision": "accepted", "rationale": "Matches the warranty desk."},
                                boards.headers(Role.senior_manager, None, SENIOR))
    assert decided.status_code == 200, decided.text

    async def policy_versions() -> list[dict] | None:
        response = await complaints.client.get(f"/v1/regions/{NORTH}/return-policy/history", headers=senior)
        assert response.status_code == 200, response.text
        versions = response.json()["versions"]
        return versions if len(versions) == 2 else None

    newest, _ = await eventually(policy_versions, timeout_s=90, what="the accepted proposal to become the policy")
    assert newest["rules"]["return_window_days"] == NEW_WINDOW and newest["source"] == "proposal"
    assert (newest["proposal"]["proposed_by"], newest["proposal"]["decided_by"]) == (COORDINATOR, SENIOR)
    approved = await request_return(complaints, PAGED_STORE)
    assert (approved["status"], approved["policy_version"]["version"]) == ("approved", 2), approved

    # The scheduling service proposes a returns briefing at every store of the region, for their managers to plan.
    async def briefings() -> dict[str, dict]:
        response = await scheduling.client.get("/v1/training-proposals", params={"region_id": NORTH},
                                               headers=scheduling.token(Role.regional_coordinator, None, COORDINATOR, NORTH))
        assert response.status_code == 200, response.text
        found = {p["site_id"]: p for p in response.json() if p["problem_id"] == problem["problem_id"]}
        return found if len(found) == len(STORES[NORTH]) else {}

    proposed_training = await eventually(briefings, timeout_s=90, what="a briefing proposed at each store of the north")
    assert {p["kind"] for p in proposed_training.values()} == {"returns"}

    # The manager heard of each by e-mail: the page, the assignment, the briefing, and a role-play for the
    # angry customer's escalation.
    heard = [f"Page: complaint at {PAGED_STORE}", f"Complaint at {PAGED_STORE} assigned to you",
             f"Training proposed for {PAGED_STORE}: returns training",
             f"Training proposed for {PAGED_STORE}: de-escalation role-play"]

    async def managers_mail() -> list[str]:
        subjects = [m["Subject"] for m in mailbox.messages if m["To"] == ADDRESS]
        return subjects if len(subjects) >= len(heard) else []

    subjects = await eventually(managers_mail, timeout_s=60, what="the manager's four e-mails")
    kinds = [next((kind for kind in heard if subject.startswith(kind)), subject) for subject in subjects]
    assert sorted(kinds) == sorted(heard), subjects

    # The manager resolves the complaint; the customer answers the survey the e-mail links to.
    resolved = await complaints.client.post(f"/v1/complaints/{critical}/resolve", headers=manager, json={
        "technique": "defuse", "outcome": "apology", "summary": "Replaced the kettle and apologised."})
    assert resolved.status_code == 200, resolved.text
    survey = await eventually(lambda: one_message(mailbox, CUSTOMER, None, "How did we do?"), timeout_s=60,
                              what="the survey in the customer's mailbox")
    token = unquote(SURVEY.search(survey.get_content()).group(1))
    answered = await complaints.client.post(f"/v1/csat/{token}", json={"score": 4, "comment": "Quick and kind."})
    assert answered.status_code == 204, answered.text

    # The south's complaint is breached by the worker's clock: its board says so, the north's acknowledged one is not.
    async def breached() -> dict | None:
        listed = {c["complaint_id"]: c for c in (await board(boards, SOUTH))["complaints"]}
        return listed.get(unacknowledged) if listed.get(unacknowledged, {}).get("breaches") else None

    try:
        case = await eventually(breached, timeout_s=150, what="the south's unacknowledged complaint to be breached")
    except AssertionError as error:
        raise AssertionError(f"{error}\nthe south's board: {await board(boards, SOUTH)}\n"
                             f"worker:\n{worker.last_words()}") from None
    assert (case["breaches"], case["breached_tiers"]) == (1, ["associate"]) and case["assignee"]["tier"] != "associate"

    # Prometheus holds the figures of all of it, by region.
    expected = {
        "sum by (region) (retail_complaints_filed_total)": {NORTH: 1, SOUTH: 1},
        "sum by (region) (retail_pages_total)": {NORTH: 1},
        "sum by (region, tier, deadline) (retail_sla_breaches_total)": {(SOUTH, "associate", "acknowledge"): 1},
        "sum by (region) (retail_return_rejections_total)": {NORTH: 9},
        "sum by (region, category) (retail_common_problems_detected_total)": {(NORTH, "return_refund_exchange"): 1},
        "sum by (region, decision) (retail_policy_decisions_total)": {(NORTH, "accepted"): 1},
        "sum by (region) (retail_csat_score_sum)": {NORTH: 4},
        'sum by (channel) (notifications_deliveries_total{outcome="sent"})': {"email": len(heard)},
    }

    async def held() -> dict:
        return {expr: await figures(prometheus, expr) for expr in expected}

    async def all_held() -> bool:
        return await held() == expected

    try:
        await eventually(all_held, timeout_s=90, what="Prometheus to hold every figure")
    except AssertionError:
        assert await held() == expected


async def file(complaints, store: str, **overrides) -> str:
    filed = await complaints.file(store=store, **overrides)
    assert filed.status_code == 201, filed.text
    return filed.json()["id"]


async def one_message(mailbox: Mailbox, address: str, complaint_id: str | None, subject: str):
    """The one message to `address` whose subject starts with `subject` (about the complaint, when given)."""
    found = [m for m in mailbox.messages if m["To"] == address and m["Subject"].startswith(subject)
             and (complaint_id is None or complaint_id in m.get_content())]
    assert len(found) <= 1, [m["Subject"] for m in found]
    return found[0] if found else None


async def request_return(complaints, store: str) -> dict:
    bought = datetime.now(ZoneInfo("Europe/Helsinki")).date() - timedelta(days=BOUGHT_DAYS_AGO)  # the stores' time zone
    return await complaints_support.request_return(complaints, complaints.stores[store], store, bought)


async def board(boards, region: str) -> dict:
    response = await boards.board(region)
    assert response.status_code == 200, response.text
    return response.json()


async def figures(prometheus: httpx.AsyncClient, expr: str) -> dict:
    """The `sum by (…)` query's series now, by the values of its labels in the order it names them (one
    label: its value alone)."""
    by = [label.strip() for label in BY.match(expr).group(1).split(",")]
    found = {}
    for series in await query(prometheus, expr):
        labels = tuple(series["metric"][label] for label in by)
        found[labels[0] if len(by) == 1 else labels] = float(series["value"][1])
    return found
