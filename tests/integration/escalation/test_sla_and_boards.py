"""SLA timers on the worker's controlled clock, and the regional boards they show on, with complaints
filed and acknowledged through the complaints API."""

import asyncio
from datetime import UTC, datetime, timedelta

import httpx

from services.escalation.topics import CLOCK
from services.shared.auth import mint_token
from services.shared.principal import Role
from services.shared.topics import COMPLAINTS, ESCALATIONS, ROSTER
from tests.support import eventually, read_all, read_topic
from tests.support.escalation import publish_roster, tick

STORE, REGION = "esp-iso-omena", "uusimaa"


def events_of(complaint_id: str, envelopes: list) -> dict[str, list]:
    found: dict[str, list] = {}
    for e in envelopes:
        if str(e.data.complaint_id) == complaint_id:
            found.setdefault(e.type.split(".")[2], []).append(e.data)
    return found


async def routed(platform, complaint_id: str):
    envelopes = await read_topic(platform.kafka_bootstrap_servers, ESCALATIONS,
                                 lambda es: "routed" in events_of(complaint_id, es))
    return events_of(complaint_id, envelopes)["routed"][0]


async def on_board(boards, complaint_id: str, region: str = REGION) -> dict | None:
    response = await boards.board(region)
    assert response.status_code == 200, response.text
    return next((c for c in response.json()["complaints"] if c["complaint_id"] == complaint_id), None)


async def test_a_missed_deadline_raises_the_tier_when_the_clock_passes_it_and_an_acknowledged_complaint_does_not_breach(
    api, platform, worker, boards
):
    await publish_roster(platform, STORE, REGION, [("emp-2001", "associate"), ("crd-0003", "coordinator")])
    await eventually(lambda: worker.has_read(ROSTER), timeout_s=90, what="the worker to read the roster")
    late = (await api.file(store=STORE, severity="medium", customer={"email": "late@example.com"})).json()["id"]
    handled = (await api.file(store=STORE, severity="medium", customer={"email": "handled@example.com"})).json()["id"]
    response = await api.client.post(f"/v1/complaints/{handled}/acknowledge", headers=api.token(Role.associate, STORE))
    assert response.status_code == 200, response.text

    first = await routed(platform, late)
    assert first.assignee.model_dump() == {"tier": "associate", "staff_id": "emp-2001"}
    deadline: datetime = first.acknowledge_by
    assert (await routed(platform, handled)).acknowledge_by <= deadline + timedelta(seconds=5)
    await eventually(lambda: _acknowledged_on_board(boards, handled), what="the acknowledgement on the board")
    assert (await on_board(boards, late))["acknowledged"] is False

    await tick(platform, deadline - timedelta(seconds=1))
    await eventually(lambda: worker.has_read(CLOCK, COMPLAINTS), timeout_s=90, what="the worker to read the tick")
    assert "breached" not in events_of(late, await read_all(platform.kafka_bootstrap_servers, ESCALATIONS))

    passed = deadline + timedelta(seconds=10)
    await tick(platform, passed)
    envelopes = await read_topic(platform.kafka_bootstrap_servers, ESCALATIONS,
                                 lambda es: "raised" in events_of(late, es))
    moved = events_of(late, envelopes)
    assert [(b.tier, b.deadline_kind, b.deadline) for b in moved["breached"]] == [("associate", "acknowledge", deadline)]
    raised = moved["raised"][0]
    assert (raised.from_tier, raised.assignee.model_dump()) == ("associate", {"tier": "coordinator", "staff_id": "crd-0003"})
    assert raised.acknowledge_by == passed + timedelta(minutes=15)

    await eventually(lambda: worker.has_read(CLOCK), timeout_s=90, what="the worker to read the tick")
    assert "breached" not in events_of(handled, await read_all(platform.kafka_bootstrap_servers, ESCALATIONS))
    shown = await eventually(lambda: _breached_on_board(boards, late), what="the breach on the board")
    assert shown["assignee"] == {"tier": "coordinator", "staff_id": "crd-0003"}
    assert shown["breached_tiers"] == ["associate"]
    board = (await boards.board(REGION)).json()
    assert board["summary"]["breached"] >= 1 and board["summary"]["by_store"][STORE] >= 2


async def _acknowledged_on_board(boards, complaint_id: str) -> bool:
    shown = await on_board(boards, complaint_id)
    return bool(shown and shown["acknowledged"])


async def _breached_on_board(boards, complaint_id: str) -> dict | None:
    shown = await on_board(boards, complaint_id)
    return shown if shown and shown["breaches"] == 1 else None


async def test_a_resolved_complaint_leaves_the_board_and_never_breaches(api, platform, worker, boards):
    complaint = (await api.file(store=STORE, severity="low", customer={"email": "quick@example.com"})).json()["id"]
    await eventually(lambda: on_board(boards, complaint), what="the complaint on the board")
    await api.resolve(complaint, store=STORE)
    await eventually(lambda: _gone(boards, complaint), what="the resolved complaint to leave the board")
    await tick(platform, (await routed(platform, complaint)).resolve_by + timedelta(hours=1))
    await eventually(lambda: worker.has_read(CLOCK, COMPLAINTS), timeout_s=90, what="the worker to read the tick")
    assert "breached" not in events_of(complaint, await read_all(platform.kafka_bootstrap_servers, ESCALATIONS))


async def _gone(boards, complaint_id: str) -> bool:
    return await on_board(boards, complaint_id) is None


async def test_a_board_shows_its_own_region_only_to_whom_the_token_allows(api, boards):
    elsewhere = (await api.file(store="tre-koskikeskus", severity="high")).json()["id"]
    await eventually(lambda: on_board(boards, elsewhere, "pirkanmaa"), what="the complaint on pirkanmaa's board")
    assert await on_board(boards, elsewhere, REGION) is None

    async with _client(boards) as client:
        other_region = await client.get(f"/regions/{REGION}/board", headers=boards.headers(region="pirkanmaa"))
        assert other_region.status_code == 403
        assert "may not act on region uusimaa" in other_region.json()["detail"]
        assert (await client.get(f"/regions/{REGION}/board")).status_code == 401
        associate = await client.get(f"/regions/{REGION}/board", headers=api.token(Role.associate, "hel-kamppi"))
        assert associate.status_code == 403
        senior = await client.get(f"/regions/{REGION}/board", headers=boards.headers(Role.senior_manager, None, "sm-0001"))
        assert senior.status_code == 200


def _client(boards) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=boards.url)


async def test_a_closed_complaint_reopened_is_back_on_the_board_and_its_timers_run_again(api, platform, worker, boards):
    complaint = (await api.file(store=STORE, severity="low", customer={"email": "again@example.com"})).json()["id"]
    await eventually(lambda: on_board(boards, complaint), what="the complaint on the board")
    await api.resolve(complaint, store=STORE)
    staff = api.token(Role.associate, STORE)
    assert (await api.client.post(f"/v1/complaints/{complaint}/close", headers=staff)).status_code == 200
    await eventually(lambda: _gone(boards, complaint), what="the closed complaint to leave the board")

    reopened = await api.client.post(f"/v1/complaints/{complaint}/reopen", json={"reason": "the fix did not hold"}, headers=staff)
    assert reopened.status_code == 200, reopened.text
    shown = await eventually(lambda: on_board(boards, complaint), what="the reopened complaint back on the board")
    assert shown["acknowledged"] is False
    await tick(platform, datetime.fromisoformat(shown["acknowledge_by"]) + timedelta(seconds=10))
    envelopes = await read_topic(platform.kafka_bootstrap_servers, ESCALATIONS, lambda es: "breached" in events_of(complaint, es))
    assert [b.deadline_kind for b in events_of(complaint, envelopes)["breached"]] == ["acknowledge"]


async def test_a_board_stream_ends_when_its_token_expires(boards):
    """The stream says so, and the dashboard then asks for a fresh token; it never outlives the token."""
    token = mint_token(boards.platform, sub="rc-0001", role=Role.regional_coordinator, region_id=REGION,
                       now=datetime.now(UTC), ttl=timedelta(seconds=1))
    async with _client(boards) as client, asyncio.timeout(60):
        async with client.stream("GET", f"/regions/{REGION}/board/stream", headers={"Authorization": f"Bearer {token}"},
                                 timeout=None) as response:
            assert response.status_code == 200
            kinds = [line async for line in response.aiter_lines() if line.startswith("event: ")]
    assert kinds[-1] == "event: expired" and set(kinds[:-1]) <= {"event: board"}
