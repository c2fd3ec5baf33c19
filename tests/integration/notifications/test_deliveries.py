"""What reached a person, asked of the notifications API by the person themselves (`recipient=me`):
their own pages, newest first and bounded, each naming its complaint; nobody else's."""

from collections.abc import AsyncIterator

import pytest

from services.shared.principal import Role
from services.shared.topics import ESCALATIONS
from tests.support import eventually
from tests.support.notifications import MANAGER, Chain, paged, start_chain
from tests.support.scheduling import produce


@pytest.fixture
async def chain(new_database, platform) -> AsyncIterator[Chain]:
    async for running in start_chain(new_database, platform):
        yield running


async def test_a_person_sees_what_reached_them_newest_first_and_nobody_elses(chain: Chain, platform):
    first, second = await chain.critical_complaint(), await chain.critical_complaint()
    await produce(platform, ESCALATIONS, [paged(first, "mgr-0007")])
    await chain.mail(MANAGER, first)
    await produce(platform, ESCALATIONS, [paged(second, "mgr-0007"), paged(second, "mgr-0008")])
    await chain.mail(MANAGER, second)
    await chain.mail("mgr-0008@chain.example", second)

    async def to_me(sub: str, role: Role = Role.store_manager, **params):
        return await chain.notifications.client.get("/v1/deliveries", params={"recipient": "me", **params},
                                                    headers=chain.scheduling.token(role, "hel-kamppi", sub=sub))

    async def both_sent():  # a mail arrives before the worker records its delivery sent
        response = await to_me("mgr-0007")
        assert response.status_code == 200, response.text
        return response if [d["status"] for d in response.json()] == ["sent", "sent"] else None

    mine = await eventually(both_sent, what="mgr-0007's two pages to be recorded sent")
    assert [(d["complaint_id"], d["kind"], d["staff_id"], d["status"]) for d in mine.json()] == [
        (second, "page", "mgr-0007", "sent"), (first, "page", "mgr-0007", "sent")]
    assert mine.json()[0]["store_id"] == "hel-kamppi" and mine.json()[0]["about"] == "severity critical"
    assert "chain.example" not in mine.text
    assert [d["complaint_id"] for d in (await to_me("mgr-0007", limit=1)).json()] == [second]
    assert [d["complaint_id"] for d in (await to_me("mgr-0007", complaint_id=first)).json()] == [first]
    assert [d["complaint_id"] for d in (await to_me("mgr-0008")).json()] == [second]
    assert (await to_me("emp-1042", Role.associate)).json() == []

    unbounded = await to_me("mgr-0007", limit=100_000)
    assert unbounded.status_code == 422 and unbounded.json()["detail"][0]["loc"] == ["query", "limit"]
    neither = await chain.notifications.client.get("/v1/deliveries", headers=chain.scheduling.token(Role.store_manager))
    assert neither.status_code == 422 and neither.json()["detail"][0]["loc"] == ["query", "complaint_id"]
    someone_else = await to_me("mgr-0007", recipient="mgr-0008")
    assert someone_else.status_code == 422 and someone_else.json()["detail"][0]["loc"] == ["query", "recipient"]


async def test_a_board_asks_about_many_complaints_at_once_within_its_bounds_and_its_scope(chain: Chain, platform):
    first, second, quiet = (await chain.critical_complaint(), await chain.critical_complaint(),
                            await chain.critical_complaint())
    await produce(platform, ESCALATIONS, [paged(first, "mgr-0007"), paged(second, "mgr-0008")])
    await chain.mail(MANAGER, first)
    await chain.mail("mgr-0008@chain.example", second)

    async def about(ids: list[str], store: str = "hel-kamppi"):
        return await chain.notifications.client.get("/v1/deliveries", params={"complaint_id": ids},
                                                    headers=chain.scheduling.token(Role.store_manager, store, sub="mgr-0009"))

    several = await about([first, second, quiet])
    assert several.status_code == 200, several.text
    assert sorted((d["complaint_id"], d["staff_id"]) for d in several.json()) == sorted(
        [(first, "mgr-0007"), (second, "mgr-0008")])
    too_many = await about([first] * 201)
    assert too_many.status_code == 422 and too_many.json()["detail"][0]["loc"] == ["query", "complaint_id"]
    elsewhere = await about([first, second], store="hel-callcentre")
    assert elsewhere.status_code == 403, elsewhere.text
