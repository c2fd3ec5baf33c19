"""The CSAT survey link reaches the customer: on resolution the complaints service sends it by e-mail
(a real SMTP server) or, to a customer who gave only a phone, through the SMS gateway (a real HTTP
receiver checking our signature); the link answers the survey; an SMTP server that is down is tried
again; erasure cancels what is not sent yet; and neither Kafka nor the delivery record ever holds the
customer's address."""

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from uuid import UUID

import orjson
import pytest
from aiohttp import web
from sqlalchemy import select

from services.complaints.store.models import SurveyDelivery
from services.complaints.store.retention import make_retention
from services.shared.delivery.channels import DEVELOPMENT_WEBHOOK_KEY
from services.shared.delivery.webhook import SIGNATURE, verify
from services.shared.kafka import ensure_topics
from services.shared.principal import Role
from services.shared.retention import purge_all
from services.shared.topics import ALL_TOPICS, COMPLAINTS
from tests.support import eventually, read_topic
from tests.support.complaints import Api, start_api
from tests.support.infra import free_port
from tests.support.notifications import Mailbox

SURVEY_URL = "https://survey.retail-care.test/csat"
LINK = re.compile(re.escape(SURVEY_URL) + r"/([A-Za-z0-9_-]+)")
GATEWAY_TOKEN = "sms-gateway-test-token"


class SmsGateway:
    """The SMS gateway's webhook: takes a text message only when our signature over its body checks out."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/messages"
        self.texts: list[dict] = []
        self.refused = 0
        self.runner: web.AppRunner | None = None

    async def receive(self, request: web.Request) -> web.Response:
        body = await request.read()
        signed = verify(DEVELOPMENT_WEBHOOK_KEY.encode(), request.headers.get(SIGNATURE, ""), body, datetime.now(UTC))
        if not signed or request.headers.get("Authorization") != f"Bearer {GATEWAY_TOKEN}":
            self.refused += 1
            return web.Response(status=401)
        self.texts.append(orjson.loads(body))
        return web.Response(status=202)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/messages", self.receive)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    async def to(self, phone: str) -> list[dict]:
        return [text for text in self.texts if text["to"] == phone.replace(" ", "")]


@pytest.fixture(scope="module")
def mailbox() -> AsyncIterator[Mailbox]:
    box = Mailbox()
    box.start()
    yield box
    box.stop()  # each test that stops it starts it again


@pytest.fixture(scope="module")
async def gateway() -> AsyncIterator[SmsGateway]:
    receiver = SmsGateway()
    await receiver.start()
    yield receiver
    await receiver.runner.cleanup()


@pytest.fixture(scope="module")
async def api(new_database, platform, mailbox, gateway) -> AsyncIterator[Api]:
    ensure_topics(platform, ALL_TOPICS)
    async for running in start_api(
        await new_database(), platform, smtp_port=mailbox.port, sms_gateway_url=gateway.url,
        sms_gateway_token=GATEWAY_TOKEN, survey_url=SURVEY_URL, retry_base_s=0.2, retry_cap_s=1.0, send_poll_ms=50,
    ):
        yield running


async def mail_to(mailbox: Mailbox, address: str) -> list:
    return [message for message in mailbox.messages if message["To"] == address]


def token_in(text: str) -> str:
    return LINK.search(text).group(1)


async def deliveries(api: Api, complaint_id: str) -> list[SurveyDelivery]:
    async with api.app.state.sessions() as session:
        rows = await session.scalars(select(SurveyDelivery).where(SurveyDelivery.complaint_id == UUID(complaint_id)))
        return list(rows)


async def delivery(api: Api, complaint_id: str) -> SurveyDelivery:
    [row] = await deliveries(api, complaint_id)
    return row


async def ended(api: Api, complaint_id: str, status: str) -> SurveyDelivery:
    """The complaint's survey delivery once it has ended in `status` and its token is cleared."""
    async def probe():
        row = await delivery(api, complaint_id)
        return row if row.status == status and row.survey_token is None else None

    return await eventually(probe, timeout_s=15, what=f"the survey delivery to be {status}")


def assert_holds_no(row: SurveyDelivery, *secrets: str) -> None:
    for column in SurveyDelivery.__table__.columns:
        value = str(getattr(row, column.key))
        assert not any(secret in value for secret in secrets), f"{column.key} holds contact data or the token"


async def test_the_customer_gets_the_link_by_email_and_it_answers_the_survey(api, mailbox, gateway):
    contact = {"name": "Mikko Nieminen", "email": "mikko.nieminen@example.com", "phone": "+358 40 555 0101"}
    complaint_id = (await api.file(customer=contact)).json()["id"]
    resolved_token = await api.resolve(complaint_id)

    [mail] = await eventually(lambda: mail_to(mailbox, contact["email"]), timeout_s=15, what="the survey e-mail")
    assert mail["From"] == "customer-care@retail-care.invalid" and "hel-kamppi" in mail["Subject"]
    token = token_in(mail.get_content())
    assert token == resolved_token
    assert await gateway.to(contact["phone"]) == []  # e-mail took it: no text message as well

    answered = await api.client.post(f"/v1/csat/{token}", json={"score": 4, "comment": "Quick and kind."})
    assert answered.status_code == 204, answered.text
    assert (await api.client.post(f"/v1/csat/{token}", json={"score": 1})).status_code == 409  # once

    row = await ended(api, complaint_id, "sent")
    assert (row.channel, row.attempts, row.last_error) == ("email", 1, None)
    assert_holds_no(row, contact["email"], contact["phone"], "5550101", token)

    def resolved(envelopes) -> bool:
        return any(e.type == "retail.complaint.resolved.v1" and e.subject == complaint_id for e in envelopes)

    envelopes = await read_topic(api.platform.kafka_bootstrap_servers, COMPLAINTS, resolved)
    raw = "".join(e.model_dump_json() for e in envelopes)
    assert contact["email"] not in raw and "555 0101" not in raw and "5550101" not in raw and token not in raw

    metrics = (await api.client.get("/metrics", headers=api.token(Role.ops, sub="svc-ops"))).text
    assert 'complaints_survey_deliveries_total{channel="email",outcome="sent"}' in metrics
    assert 'complaints_survey_delivery_seconds_count{channel="email"}' in metrics


async def test_a_customer_with_only_a_phone_gets_the_link_by_sms_through_the_signed_gateway(api, gateway):
    phone = "+358 50 123 0202"
    complaint_id = (await api.file(customer={"name": "Liisa Laine", "phone": phone})).json()["id"]
    resolved_token = await api.resolve(complaint_id)

    [text] = await eventually(lambda: gateway.to(phone), timeout_s=15, what="the survey text message")
    assert gateway.refused == 0
    token = token_in(text["text"])
    assert token == resolved_token and len(text["text"]) <= 160
    assert (await api.client.post(f"/v1/csat/{token}", json={"score": 5})).status_code == 204

    row = await ended(api, complaint_id, "sent")
    assert row.channel == "sms"
    assert_holds_no(row, phone, phone.replace(" ", ""), "1230202", token)


async def test_with_the_smtp_server_down_a_customer_who_gave_both_gets_the_link_by_sms(api, mailbox, gateway):
    contact = {"email": "kalle.failover@example.com", "phone": "+358 44 123 0303"}
    complaint_id = (await api.file(customer=contact)).json()["id"]
    mailbox.stop()
    try:
        token = await api.resolve(complaint_id)
        [text] = await eventually(lambda: gateway.to(contact["phone"]), timeout_s=15, what="the SMS failover")
        assert token_in(text["text"]) == token
        row = await ended(api, complaint_id, "sent")
        assert (row.channel, row.attempts) == ("sms", 1)
    finally:
        mailbox.start()
    assert await mail_to(mailbox, contact["email"]) == []
    metrics = (await api.client.get("/metrics", headers=api.token(Role.ops, sub="svc-ops"))).text
    assert 'complaints_survey_deliveries_total{channel="email",outcome="failed_over"}' in metrics


async def test_a_link_the_smtp_server_refused_is_sent_again_once_it_is_back(api, mailbox):
    address = "outage.customer@example.com"
    complaint_id = (await api.file(customer={"email": address})).json()["id"]
    mailbox.stop()
    try:
        token = await api.resolve(complaint_id)

        async def retried():
            row = await delivery(api, complaint_id)
            return row.status == "pending" and row.attempts >= 2 and row.last_error.startswith("email: ")

        await eventually(retried, timeout_s=15, what="attempts against the SMTP server that is down")
    finally:
        mailbox.start()

    [mail] = await eventually(lambda: mail_to(mailbox, address), timeout_s=15, what="the survey e-mail")
    assert token_in(mail.get_content()) == token
    row = await ended(api, complaint_id, "sent")
    assert row.channel == "email" and row.attempts >= 2 and row.last_error is None
    assert_holds_no(row, address, token)


async def test_erasure_cancels_a_link_not_yet_sent_and_leaves_no_contact_in_the_deliveries(api, mailbox):
    contact = {"name": "Erkki Poistettava", "email": "erkki.erase@example.com", "phone": "+358 40 999 0404"}
    sent_id = (await api.file(customer=contact)).json()["id"]
    sent_token = await api.resolve(sent_id)
    await eventually(lambda: mail_to(mailbox, contact["email"]), timeout_s=15, what="the first survey e-mail")

    pending_id = (await api.file(customer={"email": contact["email"]})).json()["id"]
    mailbox.stop()
    try:
        pending_token = await api.resolve(pending_id)

        async def failed_once():
            row = await delivery(api, pending_id)
            return row.status == "pending" and row.attempts >= 1

        await eventually(failed_once, timeout_s=15, what="a failed attempt at the second survey")
        erased = await api.client.post("/v1/customers/erasure", json={"email": contact["email"]},
                                       headers=api.token(Role.senior_manager))
        assert erased.status_code == 200, erased.text
        assert (await delivery(api, pending_id)).survey_token is None  # in the erasure's own transaction
        await ended(api, pending_id, "cancelled")
    finally:
        mailbox.start()

    await asyncio.sleep(3)  # three times the longest wait between attempts: had it still been due, it would have gone
    assert [m for m in await mail_to(mailbox, contact["email"]) if pending_token in m.get_content()] == []
    assert (await delivery(api, pending_id)).status == "cancelled"
    assert (await delivery(api, sent_id)).status == "sent"
    for complaint_id in (sent_id, pending_id):
        for row in await deliveries(api, complaint_id):
            assert_holds_no(row, contact["email"], contact["phone"], "9990404", "Erkki", sent_token, pending_token)


async def test_retention_forgets_a_survey_delivery_after_its_days(api):
    """Last in the module: the pass runs on the module's store at a time far ahead."""
    complaint_id = (await api.file(customer={"email": "kept.for.a.while@example.com"})).json()["id"]
    await api.resolve(complaint_id)
    created = (await ended(api, complaint_id, "sent")).created_at
    settings, sessions = api.app.state.settings, api.app.state.sessions
    keep = timedelta(days=settings.survey_deliveries_keep_days)

    await purge_all(sessions, created + keep - timedelta(seconds=1), make_retention(settings))
    assert await deliveries(api, complaint_id)
    purged = await purge_all(sessions, created + keep + timedelta(seconds=1), make_retention(settings))
    assert purged["survey_deliveries"] >= 1 and await deliveries(api, complaint_id) == []
