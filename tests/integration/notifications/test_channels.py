"""Each person's channels in their order: a page reaches a chat tool's webhook, signed, and falls over
to e-mail when the webhook fails; text messages go through the SMS gateway; quiet hours hold back
everything but a page; a proposal reaches every senior manager."""

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from sqlalchemy import select

from services.notifications.settings import NotificationsSettings
from services.notifications.store.models import Delivery
from services.shared.delivery import webhook
from services.shared.events.coordination import PolicyProposed
from services.shared.events.envelope import wrap
from services.shared.events.scheduling import TrainingScheduled
from services.shared.principal import Role
from services.shared.topics import COORDINATION, ESCALATIONS, SCHEDULING
from tests.support import eventually
from tests.support.notifications import MANAGER, Chain, WebhookReceiver, link_in, paged, start_chain
from tests.support.scheduling import produce

KEY = NotificationsSettings().webhook_signing_key.get_secret_value().encode()


@pytest.fixture
def receiver() -> AsyncIterator[WebhookReceiver]:
    running = WebhookReceiver()
    yield running
    running.stop()


@pytest.fixture
async def chain(new_database, platform, receiver) -> AsyncIterator[Chain]:
    """The chain on PostgreSQL, its SMS gateway the test's receiver."""
    async for running in start_chain(new_database, platform, sms_gateway_url=receiver.url):
        yield running


async def received(receiver: WebhookReceiver, complaint: str, count: int = 1) -> list:
    async def arrived():
        found = [request for request in receiver.requests if complaint.encode() in request[1]]
        return found if len(found) >= count else None

    return await eventually(arrived, what=f"{count} request(s) about {complaint} at the webhook")


async def test_a_page_reaches_the_managers_chat_webhook_signed_and_its_link_acknowledges(chain: Chain, platform, receiver):
    await chain.set_contact("mgr-0007", work_email=MANAGER, webhook_url=receiver.url)
    assert (await chain.prefer("mgr-0007", channels=["webhook", "email"])).status_code == 200
    complaint = await chain.critical_complaint()
    await produce(platform, ESCALATIONS, [paged(complaint, "mgr-0007")])

    [(headers, body)] = await received(receiver, complaint)
    assert webhook.verify(KEY, headers[webhook.SIGNATURE], body, datetime.now(UTC))
    assert not webhook.verify(b"another key", headers[webhook.SIGNATURE], body, datetime.now(UTC))
    assert not webhook.verify(KEY, headers[webhook.SIGNATURE], body + b" ", datetime.now(UTC))  # tampered
    assert not webhook.verify(KEY, headers[webhook.SIGNATURE], body, datetime.now(UTC) + timedelta(minutes=10))  # replayed late
    text = json.loads(body)["text"]  # (other tests' pages to the same manager may reach the receiver too)
    assert "severity critical" in text and complaint in text
    assert (await chain.notifications.client.post(link_in_text(text))).status_code == 200
    assert await chain.complaint_status(complaint) == "acknowledged"
    assert chain.mailbox.to(MANAGER, complaint) == []  # the webhook took it: no e-mail as well


async def test_a_failing_webhook_falls_over_to_email_at_once(chain: Chain, platform, receiver):
    await chain.set_contact("mgr-0007", work_email=MANAGER, webhook_url=receiver.url)
    await chain.prefer("mgr-0007", channels=["webhook", "email"])
    receiver.status = 503
    complaint = await chain.critical_complaint()
    await produce(platform, ESCALATIONS, [paged(complaint, "mgr-0007")])

    [message] = await chain.mail(MANAGER, complaint)
    assert len(await received(receiver, complaint)) == 1  # tried once, then e-mail in the same attempt
    async with chain.notifications.app.state.sessions() as session:
        delivery = await session.scalar(select(Delivery).where(Delivery.event_id.is_not(None),
                                                               Delivery.complaint_id == complaint))
    assert (delivery.channel, delivery.attempts) == ("email", 1)
    assert (await chain.notifications.client.post(link_in(message))).status_code == 200


async def test_a_text_message_goes_through_the_sms_gateway_with_the_link(chain: Chain, platform, receiver):
    texted_manager = f"mgr-sms-{uuid4().hex[:6]}"  # of this test alone: no other test's page reaches the gateway
    await chain.set_contact(texted_manager, Role.store_manager, work_phone="+358 40 555 0107")
    complaint = await chain.critical_complaint()
    await produce(platform, ESCALATIONS, [paged(complaint, texted_manager)])

    async def texted():  # a text message holds no complaint id: only this test's manager texts the receiver
        return receiver.requests

    [(headers, body)] = await eventually(texted, what="the text message at the SMS gateway")
    assert webhook.verify(KEY, headers[webhook.SIGNATURE], body, datetime.now(UTC))
    [sms] = receiver.bodies()
    assert sms["to"] == "+358405550107" and len(sms["text"].split(" http")[0]) <= 160
    assert (await chain.notifications.client.post(link_in_text(sms["text"]))).status_code == 200


async def test_quiet_hours_hold_back_a_training_notice_but_never_a_page(chain: Chain, platform):
    now = datetime.now(UTC)
    quiet = {"start": (now - timedelta(hours=1)).strftime("%H:%M"), "end": (now + timedelta(hours=1)).strftime("%H:%M")}
    assert (await chain.prefer("mgr-0007", quiet_hours=quiet, time_zone="UTC")).status_code == 200
    session_id = uuid4()
    training = TrainingScheduled(
        store_id="hel-kamppi", region_id="uusimaa", session_id=session_id, kind="returns", trainer="mgr-0007",
        trainees=["emp-1042"], starts_at=now + timedelta(days=2), ends_at=now + timedelta(days=2, hours=1),
    )
    complaint = await chain.critical_complaint()
    await produce(platform, SCHEDULING, [wrap(training, source="/tests", time=now)])
    await produce(platform, ESCALATIONS, [paged(complaint, "mgr-0007")])

    await chain.mail(MANAGER, complaint)  # the page, in the quiet hours
    trainee = await eventually(lambda: _mail_about(chain, "emp-1042@chain.example", "training"), what="the trainee's notice")
    assert "returns training" in trainee["Subject"]
    async with chain.notifications.app.state.sessions() as session:
        held = await session.scalar(
            select(Delivery).where(Delivery.staff_id == "mgr-0007", Delivery.kind == "training_scheduled"))
    assert held.status == "pending" and held.due_at > now  # held until the quiet hours end
    assert _about(chain, MANAGER, "training") == []

    chain.notifications.clock.offset = timedelta(hours=1, minutes=5)
    await eventually(lambda: _mail_about(chain, MANAGER, "training"), what="the held-back notice after the quiet hours")


async def test_a_policy_proposal_reaches_every_senior_manager(chain: Chain, platform):
    for manager in ("sm-0001", "sm-0002"):
        await chain.set_contact(manager, work_email=f"{manager}@chain.example")
    example = PolicyProposed.model_json_schema()["examples"][0]
    proposal = PolicyProposed.model_validate({**example, "proposal_id": str(uuid4()), "at": datetime.now(UTC).isoformat()})
    await produce(platform, COORDINATION, [wrap(proposal, source="/tests", time=proposal.at)])

    for manager in ("sm-0001", "sm-0002"):
        message = await eventually(lambda m=manager: _mail_about(chain, f"{m}@chain.example", proposal.title),
                                   what=f"the proposal at {manager}")
        assert "uusimaa" in message["Subject"] and proposal.proposal not in message.get_content()


async def test_preferences_are_checked_and_kept(chain: Chain):
    refused = await chain.prefer("emp-1042", channels=["email", "email"])
    assert refused.status_code == 422 and "each channel at most once" in refused.text
    refused = await chain.prefer("emp-1042", channels=["pager"])
    assert refused.status_code == 422 and "channels" in refused.text
    refused = await chain.prefer("emp-1042", time_zone="Mars/Olympus")
    assert refused.status_code == 422 and "unknown time zone" in refused.text
    refused = await chain.prefer("emp-1042", quiet_hours={"start": "22:00", "end": "22:00"})
    assert refused.status_code == 422 and "different times" in refused.text
    anonymous = await chain.notifications.client.get("/v1/preferences/me")
    assert anonymous.status_code == 401

    kept = {"channels": ["sms", "email"], "quiet_hours": {"start": "22:00:00", "end": "07:00:00"}, "time_zone": "Europe/Helsinki"}
    assert (await chain.prefer("emp-1042", **kept)).status_code == 200
    mine = await chain.notifications.client.get("/v1/preferences/me", headers=chain.scheduling.token(
        scheduling_role("emp-1042"), "hel-kamppi", sub="emp-1042"))
    assert mine.json() == kept


async def test_preferences_put_twice_at_once_are_both_answered_and_kept_once(chain: Chain):
    """A double click, or a retry while the first request is still on its way: PUTs of one person's
    first preferences at the same time."""
    kept = {"channels": ["webhook", "email"], "quiet_hours": None, "time_zone": "Europe/Helsinki"}
    answers = await asyncio.gather(*(chain.prefer("emp-1042", **kept) for _ in range(4)))
    assert [answer.status_code for answer in answers] == [200] * 4, [answer.text for answer in answers]
    mine = await chain.notifications.client.get("/v1/preferences/me", headers=chain.scheduling.token(
        scheduling_role("emp-1042"), "hel-kamppi", sub="emp-1042"))
    assert mine.json() == kept


def link_in_text(text: str) -> str:
    return "/v1/acknowledgements/" + text.split("/v1/acknowledgements/")[1].split()[0]


def _about(chain: Chain, address: str, words: str) -> list:
    return [m for m in chain.mailbox.messages if m["To"] == address and words in m["Subject"]]


async def _mail_about(chain: Chain, address: str, words: str):
    found = _about(chain, address, words)
    return found[0] if found else None


def scheduling_role(staff_id: str):
    from tests.support.scheduling import STAFF

    return STAFF[staff_id][0]
