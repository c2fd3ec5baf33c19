"""An accepted policy proposal changes the return policy, end to end on real Kafka and PostgreSQL:
returns rejected under a region's policy become a common problem (the escalation worker), a
regional coordinator proposes a concrete change and a senior manager decides it (the boards API),
and the complaints worker makes an accepted change a new version of the region's policy, with its
provenance, which the next returns are checked against and record. A rejected proposal, and a
decision read twice, change nothing.

On a broker of this module's own, as the common-problem tests are: the escalation worker must
detect only the bursts made here."""

import asyncio
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from alembic import command

from services.complaints.store.migrate import MIGRATIONS, upgrade_async
from services.shared.db import make_engine
from services.shared.events.coordination import PolicyDecided
from services.shared.events.envelope import wrap
from services.shared.kafka import make_producer, publish
from services.shared.migrate import alembic_config
from services.shared.principal import Role
from services.shared.topics import COORDINATION, RETURNS
from tests.support import complaints as complaints_support
from tests.support import eventually, read_topic
from tests.support.complaints import add_stores, start_api
from tests.support.complaints import running_worker as running_complaints_worker
from tests.support.escalation import running_boards, running_worker, worker_has_read
from tests.support.infra import own_platform

ACCEPTED, REJECTED = "kymenlaakso", "etela-karjala"
STORES = {ACCEPTED: ["kot-keskusta", "kot-karhula", "hamina-kauppatori"],
          REJECTED: ["lpr-keskusta", "lpr-armada", "imatra-mansikka"]}
OLD_WINDOW, NEW_WINDOW, BOUGHT_DAYS_AGO = 14, 30, 20
NO_RECEIPT_UNDER = 2_000  # cents


@pytest.fixture(scope="module")
def platform(infra_dir):
    with own_platform(infra_dir / "kafka-policy-versions") as platform:
        yield platform


@pytest.fixture(scope="module")
async def database_url(new_database):
    return await new_database()


@pytest.fixture(scope="module")
async def api(database_url, platform):
    async for running in start_api(database_url, platform):
        yield running


@pytest.fixture(scope="module")
async def escalation(platform, tmp_path_factory):
    async for running in running_worker(platform, tmp_path_factory.mktemp("escalation")):
        yield running


@pytest.fixture(scope="module")
async def boards(new_database, platform, escalation):
    async for running in running_boards(platform, escalation, await new_database()):
        yield running


@pytest.fixture(scope="module")
async def complaints_worker(database_url, platform, api):
    async for process in running_complaints_worker(database_url, platform):
        yield process


def bought(api) -> date:
    today = api.app.state.clock().astimezone(ZoneInfo("Europe/Helsinki")).date()  # the stores' time zone
    return today - timedelta(days=BOUGHT_DAYS_AGO)


async def request_return(api, region: str, store: str, minor_units: int = 2590, receipt: str | None = "R-1") -> dict:
    return await complaints_support.request_return(api, region, store, bought(api), minor_units, receipt)


async def history(api, of_region: str, role: Role = Role.senior_manager, **claims) -> dict:
    response = await api.client.get(f"/v1/regions/{of_region}/return-policy/history",
                                    headers=api.token(role, sub="staff-0001", **claims))
    assert response.status_code == 200, response.text
    return response.json()


def version(region: str, number: int) -> dict:
    return {"scope": "region", "scope_id": region, "version": number}


@pytest.fixture(scope="module")
async def problems(api, boards, escalation, complaints_worker):
    """Each region has its own policy of a 14-day window, and three returns a 20-day-old purchase
    rejected at each of its stores: a common problem on each region's board."""
    admin = api.token(Role.senior_manager, sub="sm-0009")
    found = {}
    for region, stores in STORES.items():
        await add_stores(api, region, stores)
        policy = {"return_window_days": OLD_WINDOW, "receipt_required": True, "approval_amount_minor": 20_000,
                  "non_returnable_categories": ["perishables"], "allowed_tenders": ["cash", "credit", "debit"]}
        response = await api.client.put(f"/v1/regions/{region}/return-policy", json=policy, headers=admin)
        assert response.status_code == 204, response.text
        for store in stores:
            for _ in range(3):
                rejected = await request_return(api, region, store)
                assert (rejected["status"], rejected["broken_rules"]) == ("rejected", ["return_window"]), rejected
                assert rejected["policy_version"] == version(region, 1)
    for region in STORES:
        async def on_board(region=region):
            response = await boards.board(region)
            assert response.status_code == 200, response.text
            return next(iter(response.json()["problems"]), None)

        found[region] = await eventually(on_board, timeout_s=120, what=f"the problem of {region} on its board")
    return found


async def propose_and_decide(boards, region: str, problem: dict, decision: str) -> None:
    base = f"/regions/{region}/problems/{problem['problem_id']}"
    coordinator = boards.headers(Role.regional_coordinator, region, f"rc-{region}-1")
    proposal = {"title": "A 30-day return window", "proposal": "Small appliances come back at day 15-20.",
                "change": {"return_window_days": NEW_WINDOW, "receipt_exempt_below_minor": NO_RECEIPT_UNDER}}
    proposed = await boards.post(f"{base}/proposal", proposal, coordinator)
    assert proposed.status_code == 201, proposed.text
    assert proposed.json()["proposal"]["change"]["return_window_days"] == NEW_WINDOW
    decided = await boards.post(f"{base}/decision", {"decision": decision, "rationale": "Matches the warranty desk."},
                                boards.headers(Role.senior_manager, None, "sm-0001"))
    assert decided.status_code == 200, decided.text


async def complaints_worker_has_read(platform, process) -> bool:
    assert process.process.poll() is None, process.logs()
    return await worker_has_read(platform, COORDINATION, group="complaints")


async def test_a_proposal_names_a_concrete_change_within_bounds(boards, problems):
    problem = problems[ACCEPTED]
    base = f"/regions/{ACCEPTED}/problems/{problem['problem_id']}"
    coordinator = boards.headers(Role.regional_coordinator, ACCEPTED, f"rc-{ACCEPTED}-1")
    for change, field in [({"return_window_days": 0}, "return_window_days"),
                          ({"return_window_days": 3650}, "return_window_days"),
                          ({"receipt_exempt_below_minor": -1}, "receipt_exempt_below_minor"),
                          ({"allowed_tenders": ["cheque"]}, "allowed_tenders")]:
        response = await boards.post(f"{base}/proposal", {"title": "t", "proposal": "p", "change": change}, coordinator)
        assert response.status_code == 422, response.text
        assert response.json()["detail"][0]["loc"][:3] == ["body", "change", field]
    nothing = await boards.post(f"{base}/proposal", {"title": "t", "proposal": "p", "change": {}}, coordinator)
    assert nothing.status_code == 422 and "at least one rule" in nothing.text
    elsewhere = boards.headers(Role.regional_coordinator, REJECTED, f"rc-{REJECTED}-1")
    assert (await boards.post(f"{base}/proposal", {"title": "t", "proposal": "p"}, elsewhere)).status_code == 403


async def test_an_accepted_proposal_becomes_the_regions_next_version_which_later_returns_record(
    api, platform, boards, problems, complaints_worker
):
    region, store = ACCEPTED, STORES[ACCEPTED][0]
    await propose_and_decide(boards, region, problems[region], "accepted")

    async def applied():
        return len((await history(api, region))["versions"]) == 2

    await eventually(applied, timeout_s=60, what="the complaints worker to apply the decision")
    listed = await history(api, region)
    assert listed["in_force"] == version(region, 2)
    new, old = listed["versions"]
    assert (old["version"], old["source"], old["changed_by"], old["proposal"]) == (version(region, 1), "admin", "sm-0009", None)
    assert old["rules"]["return_window_days"] == OLD_WINDOW
    assert (new["version"], new["source"], new["changed_by"]) == (version(region, 2), "proposal", "sm-0001")
    assert old["rules"]["receipt_exempt_below_minor"] == 0
    assert new["rules"] == {**old["rules"], "return_window_days": NEW_WINDOW, "receipt_exempt_below_minor": NO_RECEIPT_UNDER}, \
        "only the window and the receipt exemption changed"
    provenance = new["proposal"]
    assert (provenance["problem_id"], provenance["proposed_by"], provenance["decided_by"]) == (
        problems[region]["problem_id"], f"rc-{region}-1", "sm-0001",
    )
    changed = provenance["change"]
    assert (changed["return_window_days"], changed["receipt_exempt_below_minor"]) == (NEW_WINDOW, NO_RECEIPT_UNDER)
    assert provenance["rationale"] == "Matches the warranty desk."
    assert provenance["decided_at"] is not None

    accepted = await request_return(api, region, store)
    assert (accepted["status"], accepted["broken_rules"]) == ("approved", [])
    assert accepted["policy_version"] == version(region, 2)
    shown = await api.client.get(f"/v1/returns/{accepted['id']}", headers=api.token(Role.associate, store, region=region))
    assert shown.json()["policy_version"] == version(region, 2)
    exempt = await request_return(api, region, store, minor_units=1_500, receipt=None)
    assert (exempt["status"], exempt["broken_rules"], exempt["policy_version"]) == ("approved", [], version(region, 2))
    over = await request_return(api, region, store, minor_units=2_500, receipt=None)
    assert (over["status"], over["broken_rules"]) == ("rejected", ["receipt_required"])
    assert over["policy_version"] == version(region, 2)

    def approved(envelopes):
        return [e.data for e in envelopes if e.type == "retail.return.approved.v1" and str(e.data.return_id) == accepted["id"]]

    [event] = approved(await read_topic(platform.kafka_bootstrap_servers, RETURNS, approved))
    assert event.policy_version.model_dump(mode="json") == version(region, 2)

    decided = next(
        e for e in await read_topic(platform.kafka_bootstrap_servers, COORDINATION, lambda es: any(
            isinstance(e.data, PolicyDecided) and e.data.region_id == region for e in es))
        if isinstance(e.data, PolicyDecided) and e.data.region_id == region
    )
    producer = make_producer(platform, client_id="test-replay")
    await producer.start()
    try:
        again = wrap(decided.data, source="/tests", time=datetime.now(UTC))  # the same decision under another id
        await publish(producer, COORDINATION, [decided, again], platform)
    finally:
        await producer.stop()
    await eventually(lambda: complaints_worker_has_read(platform, complaints_worker), timeout_s=60,
                     what="the complaints worker to read the replayed decision")
    assert [v["version"] for v in (await history(api, region))["versions"]] == [version(region, 2), version(region, 1)]


async def test_a_rejected_proposal_changes_nothing(api, platform, boards, problems, complaints_worker):
    region, store = REJECTED, STORES[REJECTED][0]
    await propose_and_decide(boards, region, problems[region], "rejected")
    await read_topic(platform.kafka_bootstrap_servers, COORDINATION, lambda es: any(
        isinstance(e.data, PolicyDecided) and e.data.region_id == region for e in es))
    await eventually(lambda: complaints_worker_has_read(platform, complaints_worker), timeout_s=60,
                     what="the complaints worker to read the rejection")
    listed = await history(api, region)
    assert (listed["in_force"], [v["version"] for v in listed["versions"]]) == (version(region, 1), [version(region, 1)])
    still = await request_return(api, region, store)
    assert (still["status"], still["policy_version"]) == ("rejected", version(region, 1))


async def test_the_history_is_for_the_regions_managers_and_coordinators(api, problems):
    region, store = ACCEPTED, STORES[ACCEPTED][0]
    assert (await history(api, region, Role.store_manager, store=store, region=region))["scope_id"] == region
    assert (await history(api, region, Role.regional_coordinator, region=region))["scope_id"] == region
    for role, claims in [(Role.regional_coordinator, {"region": REJECTED}), (Role.associate, {"store": store, "region": region}),
                         (Role.store_manager, {"store": STORES[REJECTED][0], "region": REJECTED})]:
        response = await api.client.get(f"/v1/regions/{region}/return-policy/history", headers=api.token(role, **claims))
        assert response.status_code == 403, (role, claims)
    store_history = await api.client.get(f"/v1/stores/{store}/return-policy/history",
                                         headers=api.token(Role.regional_coordinator, region=region))
    assert store_history.status_code == 200, store_history.text
    assert (store_history.json()["in_force"], store_history.json()["versions"]) == (version(region, 2), [])
    outsider = await api.client.get(f"/v1/stores/{store}/return-policy/history",
                                    headers=api.token(Role.regional_coordinator, region=REJECTED))
    assert outsider.status_code == 403


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
async def test_upgrading_makes_each_kept_policy_its_scopes_first_version(database, tmp_path, new_database):
    url = f"sqlite:///{tmp_path / 'complaints.db'}" if database == "sqlite" else await new_database()
    config = alembic_config(MIGRATIONS, url)
    await asyncio.to_thread(command.upgrade, config, "0006")
    kept = sa.table("return_policies", *(sa.column(name) for name in (
        "scope", "return_window_days", "receipt_required", "approval_amount_minor", "currency")),
        sa.column("non_returnable_categories", sa.JSON), sa.column("allowed_tenders", sa.JSON))
    rows = [{"scope": "*", "return_window_days": 30, "receipt_required": True, "approval_amount_minor": 20_000,
             "non_returnable_categories": ["perishables"], "allowed_tenders": ["cash"], "currency": "EUR"},
            {"scope": "hel-kamppi", "return_window_days": 14, "receipt_required": False, "approval_amount_minor": 100,
             "non_returnable_categories": [], "allowed_tenders": ["cash", "debit"], "currency": "EUR"}]
    engine = make_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(sa.insert(kept), rows)
        await upgrade_async(url)
        async with engine.connect() as connection:
            found = (await connection.execute(sa.text(
                "SELECT scope, scope_id, version, return_window_days, source, changed_by FROM return_policy_versions "
                "ORDER BY scope, scope_id"
            ))).all()
        assert [tuple(row) for row in found] == [("chain", "*", 1, 30, "admin", None), ("store", "hel-kamppi", 1, 14, "admin", None)]
        await asyncio.to_thread(command.downgrade, config, "0006")
        async with engine.connect() as connection:
            back = (await connection.execute(sa.text("SELECT scope, return_window_days FROM return_policies ORDER BY scope"))).all()
        assert [tuple(row) for row in back] == [("*", 30), ("hel-kamppi", 14)]
    finally:
        await engine.dispose()
