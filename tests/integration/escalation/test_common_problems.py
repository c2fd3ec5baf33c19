"""Common-problem detection from the complaints service's real return rejections, and the
coordinator's and senior management's answers to a detected problem through the boards API.

On a broker of this module's own: on the session's broker the worker would first read everything
earlier modules published (every complaint, return and observation since the session began) inside
the time a detection is given, and each test sets up the problem it needs instead of counting on
the one before it."""

import pytest

from services.escalation.topics import OBSERVATIONS
from services.shared.principal import Role
from services.shared.topics import COORDINATION, RETURNS
from tests.support import eventually, read_all, read_topic
from tests.support.complaints import add_stores, reject_returns
from tests.support.infra import own_platform

REGION, STORES = "kainuu", ["kaj-keskusta", "kaj-lotta", "kuhmo-kirkko"]
QUIET_REGION, QUIET_STORE = "pohjois-karjala", "joe-iso-myy"


@pytest.fixture(scope="module")
def platform(infra_dir):
    with own_platform(infra_dir / "kafka-common-problems") as platform:
        yield platform


def detected_in(region: str, envelopes: list) -> list:
    return [e.data for e in envelopes if e.type == "retail.coordination.problem_detected.v1" and e.data.region_id == region]


@pytest.fixture(scope="module")
async def burst(api, platform, worker):
    """Three rejections at each of the region's stores, and twelve at a single store of another region;
    the rejected returns' ids by store."""
    await add_stores(api, REGION, STORES)
    await add_stores(api, QUIET_REGION, [QUIET_STORE])
    returns = {store: await reject_returns(api, REGION, store, 3) for store in STORES}
    await reject_returns(api, QUIET_REGION, QUIET_STORE, 12)
    return returns


async def test_a_burst_of_rejections_at_three_stores_is_detected_once_and_at_one_store_not_at_all(api, platform, worker, burst):
    returns = burst
    envelopes = await read_topic(platform.kafka_bootstrap_servers, COORDINATION, lambda es: detected_in(REGION, es), timeout_s=90)
    [problem] = detected_in(REGION, envelopes)
    evidence = problem.evidence
    assert (evidence.category, evidence.policy_rule) == ("return_refund_exchange", "return_window")
    assert {(s.store_id, s.count, s.baseline) for s in evidence.stores} == {(store, 3, 0.0) for store in STORES}
    assert {str(i) for i in evidence.sample_return_ids} == {i for ids in returns.values() for i in ids}

    more = await reject_returns(api, REGION, STORES[0], 2)  # the same burst goes on
    await eventually(lambda: worker.has_read(RETURNS, OBSERVATIONS), timeout_s=60, what="the worker to read the returns")
    everything = await read_all(platform.kafka_bootstrap_servers, COORDINATION)
    assert len(detected_in(REGION, everything)) == 1, "one problem, reported once"
    assert detected_in(QUIET_REGION, everything) == [], "a burst at a single store is not a common problem"
    assert more


async def test_a_coordinator_proposes_a_policy_change_and_senior_management_decides_it(api, platform, worker, boards, burst):
    problem = await eventually(lambda: _problem_on_board(boards), timeout_s=90, what="the problem on the board")
    problem_id = problem["problem_id"]
    base = f"/regions/{REGION}/problems/{problem_id}"
    coordinator = boards.headers(Role.regional_coordinator, REGION, "rc-kainuu-1")
    proposal = {"title": "Longer return window for small appliances", "proposal": "Three stores turn away the same returns."}

    outsider = await boards.post(base.replace(REGION, "pirkanmaa") + "/proposal", proposal, boards.headers(region="pirkanmaa"))
    assert outsider.status_code == 404, "another region's coordinator cannot even find it"
    by_store_role = await boards.post(f"{base}/proposal", proposal, api.token(Role.store_manager, STORES[0], region=REGION))
    assert by_store_role.status_code == 403
    missing_title = await boards.post(f"{base}/proposal", {"proposal": "x"}, coordinator)
    assert missing_title.status_code == 422 and missing_title.json()["detail"][0]["loc"] == ["body", "title"]

    proposed = await boards.post(f"{base}/proposal", proposal, coordinator)
    assert proposed.status_code == 201, proposed.text
    assert proposed.json()["acknowledged_by"] == "rc-kainuu-1"
    assert proposed.json()["proposal"]["status"] == "proposed"
    assert (await boards.post(f"{base}/proposal", proposal, coordinator)).status_code == 409

    assert (await boards.post(f"{base}/decision", {"decision": "accepted"}, coordinator)).status_code == 403
    senior = boards.headers(Role.senior_manager, None, "sm-0001")
    decided = await boards.post(f"{base}/decision", {"decision": "accepted", "rationale": "Aligns with warranty."}, senior)
    assert decided.status_code == 200, decided.text
    assert decided.json()["proposal"]["status"] == "accepted"
    assert (await boards.post(f"{base}/decision", {"decision": "rejected"}, senior)).status_code == 409

    def answers(envelopes):
        return {e.type.split(".")[2]: e.data for e in envelopes if str(e.data.problem_id) == problem_id}

    envelopes = await read_topic(platform.kafka_bootstrap_servers, COORDINATION, lambda es: len(answers(es)) == 4)
    found = answers(envelopes)
    assert found["policy_proposed"].evidence == found["problem_detected"].evidence
    assert (found["policy_proposed"].by, found["policy_decided"].by) == ("rc-kainuu-1", "sm-0001")
    assert found["policy_decided"].decision == "accepted"


async def _problem_on_board(boards) -> dict | None:
    response = await boards.board(REGION)
    assert response.status_code == 200, response.text
    return next(iter(response.json()["problems"]), None)
