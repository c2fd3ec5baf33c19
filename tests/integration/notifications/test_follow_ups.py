"""A page nobody acknowledges is sent again to the same person, then goes to the next tier's person on
duty (the region's coordinator), whose link acknowledges the complaint; a page acknowledged in time,
from its link or in the app, is followed by nothing."""

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from services.notifications.store.models import Delivery
from services.shared.principal import Role
from services.shared.topics import ESCALATIONS
from tests.support import eventually
from tests.support.notifications import MANAGER, ROUND_THE_CLOCK, Chain, link_in, paged, start_chain
from tests.support.scheduling import produce, put_on_duty

COORDINATOR = "rc-uusimaa-1@chain.example"


@pytest.fixture
async def chain(new_database, platform) -> AsyncIterator[Chain]:
    async for running in start_chain(new_database, platform, follow_up_minutes=5):
        yield running


async def test_an_ignored_page_is_sent_again_then_goes_to_the_regional_coordinator_on_duty(chain: Chain, platform):
    await put_on_duty(chain.scheduling, "rc-uusimaa-1", ROUND_THE_CLOCK)
    complaint = await chain.critical_complaint()
    await produce(platform, ESCALATIONS, [paged(complaint, "mgr-0007")])
    [first] = await chain.mail(MANAGER, complaint)

    chain.notifications.clock.offset = timedelta(minutes=5, seconds=1)
    reminder = (await chain.mail(MANAGER, complaint, count=2))[1]
    assert reminder["Subject"].startswith("Reminder") and "not acknowledged" in reminder["Subject"]
    assert chain.mailbox.to(COORDINATOR, complaint) == []

    chain.notifications.clock.offset = timedelta(minutes=10, seconds=2)
    [escalated] = await chain.mail(COORDINATOR, complaint)
    assert "comes to you" in escalated["Subject"]
    assert (await chain.notifications.client.post(link_in(escalated))).status_code == 200
    assert await chain.complaint_status(complaint) == "acknowledged"

    # The manager's links are spent by nobody, but the complaint is taken: they say so and change nothing.
    late = await chain.notifications.client.post(link_in(first))
    assert late.status_code == 200 and "already acknowledged" in late.text
    chain.notifications.clock.offset = timedelta(minutes=20)
    await _followed_up_all(chain, complaint)
    assert len(chain.mailbox.to(MANAGER, complaint)) == 2 and len(chain.mailbox.to(COORDINATOR, complaint)) == 1

    # The page's timeline, for the people who answer for the store; an associate sees what reached them.
    async def deliveries(role: Role, site: str, sub: str):
        return await chain.notifications.client.get("/v1/deliveries", params={"complaint_id": complaint},
                                                    headers=chain.scheduling.token(role, site, sub=sub))

    timeline = await deliveries(Role.store_manager, "hel-kamppi", "mgr-0008")
    assert timeline.status_code == 200, timeline.text
    steps = [(d["step"], d["staff_id"], d["channel"], d["status"], d["acknowledged_at"] is not None) for d in timeline.json()]
    assert steps == [(0, "mgr-0007", "email", "sent", True),  # its link used late, after the coordinator
                     (1, "mgr-0007", "email", "sent", False), (2, "rc-uusimaa-1", "email", "sent", True)]
    assert "chain.example" not in timeline.text
    mine = await deliveries(Role.associate, "hel-kamppi", "emp-1042")
    assert mine.status_code == 200 and mine.json() == []
    elsewhere = await deliveries(Role.store_manager, "nyc-desk", "mgr-3000")
    assert elsewhere.status_code == 403 and "may not act on" in elsewhere.text


@pytest.mark.parametrize("where", ["link", "app"])
async def test_a_page_acknowledged_in_time_is_not_followed_up(chain: Chain, platform, where):
    complaint = await chain.critical_complaint()
    await produce(platform, ESCALATIONS, [paged(complaint, "mgr-0007")])
    [message] = await chain.mail(MANAGER, complaint)
    if where == "link":
        assert (await chain.notifications.client.post(link_in(message))).status_code == 200
    else:
        headers = chain.complaints.token(Role.store_manager, "hel-kamppi", sub="mgr-0008")
        response = await chain.complaints.client.post(f"/v1/complaints/{complaint}/acknowledge", headers=headers)
        assert response.status_code == 200, response.text

    chain.notifications.clock.offset = timedelta(minutes=6)
    await _followed_up_all(chain, complaint)
    async with chain.notifications.app.state.sessions() as session:
        deliveries = (await session.scalars(select(Delivery).where(Delivery.complaint_id == complaint))).all()
    assert [d.step for d in deliveries] == [0]
    assert len(chain.mailbox.to(MANAGER, complaint)) == 1


async def _followed_up_all(chain: Chain, complaint: str) -> None:
    """Until no delivery of the complaint waits for a follow-up."""
    async def settled() -> bool:
        async with chain.notifications.app.state.sessions() as session:
            waiting = await session.scalar(
                select(Delivery.id).where(Delivery.complaint_id == complaint, Delivery.follow_up_at.is_not(None)))
        return waiting is None

    await eventually(settled, what="the follow-ups to be done")
