"""The boards' read model on PostgreSQL: replicas that share one database without knowing of each
other, a replay, a tombstone, a restart from the stored offsets, and a board's list page by page."""

import asyncio

import httpx
from sqlalchemy import select

from services.escalation.boards.board import Boards
from services.escalation.boards.store import cases as store
from services.escalation.boards.store.migrate import upgrade_async
from services.escalation.boards.store.models import BoardOffset
from services.shared.db import make_engine, sessions
from tests.support import eventually
from tests.support.escalation import running_boards
from tests.support.boards import KAMPPI, NOW, UUSIMAA, breach, case, record, tombstone

STORE, REGION = "esp-iso-omena", "uusimaa"


async def read_models(url: str, replicas: int) -> list[Boards]:
    await upgrade_async(url)
    return [Boards(sessions(make_engine(url))) for _ in range(replicas)]


async def shown(boards: Boards) -> tuple:
    board = await boards.view(UUSIMAA, NOW, 200)
    return board.summary, board.complaints, board.history


def changelog() -> list[store.Change]:
    first, second = case(), case(breaches=(breach(),))
    return [record(first), record(second), record(case(store_id=KAMPPI)), record(first.resolved(NOW)),
            record(second.acknowledged(NOW)), tombstone(first.complaint_id), record(case(severity="critical"))]


async def apply_in(boards: Boards, changes: list[store.Change], size: int) -> None:
    for at in range(0, len(changes), size):
        batch = changes[at:at + size]
        await boards.apply_cases(batch, {0: batch[-1].offset + 1})
        await asyncio.sleep(0)


async def test_two_replicas_on_one_database_make_the_board_one_replica_makes(new_database):
    records = changelog()
    [alone] = await read_models(await new_database(), 1)
    await apply_in(alone, records, len(records))
    ahead, behind = await read_models(await new_database(), 2)
    await asyncio.gather(apply_in(ahead, records, 2), apply_in(behind, records, 3))
    await apply_in(behind, records, 1)  # far behind: everything it reads the other has applied
    assert await shown(ahead) == await shown(behind) == await shown(alone)
    assert len((await shown(alone))[1]) == 3


async def test_a_replayed_changelog_changes_nothing_and_a_tombstone_stays_deleted(new_database):
    records = changelog()
    [once] = await read_models(await new_database(), 1)
    await apply_in(once, records, len(records))
    board = await shown(once)
    await apply_in(once, records, 1)
    await apply_in(once, records[:3], 3)  # the deleted case's first record again, from a replica behind
    assert await shown(once) == board


async def test_the_offsets_stored_with_the_cases_are_where_a_restart_resumes(new_database):
    records = changelog()
    [boards] = await read_models(await new_database(), 1)
    await apply_in(boards, records[:4], 4)
    assert (await store.start(boards.sessions, range(2))) == {0: records[3].offset + 1, 1: 0}


async def test_boards_replicas_on_one_database_both_show_a_new_complaint_and_a_restarted_one_resumes(
    api, platform, worker, new_database
):
    url = await new_database()
    replicas = [running_boards(platform, worker, url) for _ in range(2)]
    first, second = [await anext(replica) for replica in replicas]
    complaint = (await api.file(store=STORE, severity="high", customer={"email": "both@example.com"})).json()["id"]
    for boards in (first, second):
        await eventually(lambda boards=boards: _listed(boards, complaint), what="the complaint on both replicas' boards")
    await replicas[1].aclose()  # the second stops; it starts again from the offsets in the database
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            assert (await connection.execute(select(BoardOffset.next_offset))).scalars().all() != []
            assert sum((await connection.execute(select(BoardOffset.next_offset))).scalars()) > 0
    finally:
        await engine.dispose()
    again = running_boards(platform, worker, url)
    restarted = await anext(again)
    try:
        assert await _listed(restarted, complaint)
        later = (await api.file(store=STORE, severity="low", customer={"email": "later@example.com"})).json()["id"]
        for boards in (first, restarted):
            await eventually(lambda boards=boards: _listed(boards, later), what="the later complaint on both boards")
    finally:
        await again.aclose()
        await replicas[0].aclose()


async def _listed(boards, complaint_id: str) -> bool:
    response = await boards.board(REGION)
    assert response.status_code == 200, response.text
    return any(c["complaint_id"] == complaint_id for c in response.json()["complaints"])


async def test_a_board_lists_its_complaints_page_by_page(api, boards):
    filed = [(await api.file(store=STORE, severity="medium", customer={"email": f"page-{n}@example.com"})).json()["id"]
             for n in range(3)]
    await eventually(lambda: _listed(boards, filed[-1]), what="the complaints on the board")
    headers = boards.headers(region=REGION)
    pages, after = [], None
    async with _client(boards) as client:
        while True:
            params = {"limit": 2, **({"after": after} if after else {})}
            board = (await client.get(f"/regions/{REGION}/board", params=params, headers=headers)).json()
            pages.append([c["complaint_id"] for c in board["complaints"]])
            if (after := board["next"]) is None:
                break
        whole = (await client.get(f"/regions/{REGION}/board", headers=headers)).json()
        refused = await client.get(f"/regions/{REGION}/board", params={"after": "nonsense"}, headers=headers)
    assert all(len(page) <= 2 for page in pages) and sum(pages, []) == [c["complaint_id"] for c in whole["complaints"]]
    assert set(filed) <= set(sum(pages, [])) and len(sum(pages, [])) == whole["summary"]["open"]
    assert refused.status_code == 422


def _client(boards) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=boards.url)

