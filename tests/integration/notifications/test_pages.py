"""A page on the real escalations topic reaches the person's mailbox on a real SMTP server, with a
link that acknowledges the complaint once; retried while the SMTP server is away; sent once however
often the event is replayed."""

from collections.abc import AsyncIterator
from datetime import timedelta
from uuid import UUID

import pytest
from sqlalchemy import select, update

from services.notifications.store.models import Delivery
from services.shared.topics import ESCALATIONS
from tests.support import eventually, read_topic
from tests.support import complaints as complaints_support
from tests.support.notifications import MANAGER, ROUND_THE_CLOCK, Chain, link_in, paged, raised, routed, start_chain
from tests.support.scheduling import produce, put_on_duty


@pytest.fixture(params=["postgresql", "sqlite"])
async def chain(request, tmp_path, new_database, platform) -> AsyncIterator[Chain]:
    """The chain with the notifications store on each database."""
    store_url = f"sqlite:///{tmp_path / 'notifications.db'}" if request.param == "sqlite" else None
    async for running in start_chain(new_database, platform, store_url):
        yield running


@pytest.fixture
async def impatient_chain(new_database, platform) -> AsyncIterator[Chain]:
    """A chain whose notifications service gives a delivery up after two attempts."""
    async for running in start_chain(new_database, platform, max_attempts=2):
        yield running


async def test_a_page_reaches_the_manager_and_its_link_acknowledges_the_complaint_once(chain: Chain, platform):
    complaint = await chain.critical_complaint()
    await produce(platform, ESCALATIONS, [paged(complaint, "mgr-0007")])

    [message] = await chain.mail(MANAGER, complaint)
    assert "severity critical" in message["Subject"]
    link = link_in(message)
    opened = await chain.notifications.client.get(link)
    assert opened.status_code == 200 and "Acknowledge complaint" in opened.text
    # A browser sends the page's form only where its policy allows: back to this service, nowhere else.
    policy = dict(directive.strip().split(" ", 1) for directive in opened.headers["Content-Security-Policy"].split(";"))
    assert policy["form-action"] == "'self'" and policy["default-src"] == "'none'"
    assert await chain.complaint_status(complaint) == "open"  # opening the link alone changes nothing

    acknowledged = await chain.notifications.client.post(link)
    assert acknowledged.status_code == 200 and "SLA timer has stopped" in acknowledged.text
    assert await chain.complaint_status(complaint) == "acknowledged"

    reused = await chain.notifications.client.post(link)
    assert reused.status_code == 409 and "already used" in reused.text


async def test_forged_and_expired_links_are_refused_and_acknowledge_nothing(chain: Chain, platform):
    complaint = await chain.critical_complaint()
    await produce(platform, ESCALATIONS, [paged(complaint, "mgr-0007")])
    link = link_in((await chain.mail(MANAGER, complaint))[0])

    delivery, expires, signature = link.rsplit("/", 1)[1].split(".")
    longer = f"/v1/acknowledgements/{delivery}.{int(expires) + 86400}.{signature}"
    forged = await chain.notifications.client.post(longer)
    assert forged.status_code == 403 and "not issued by the notifications service" in forged.text
    damaged = await chain.notifications.client.post("/v1/acknowledgements/not-a-link")
    assert damaged.status_code == 400 and "incomplete or damaged" in damaged.text

    chain.notifications.clock.offset = timedelta(hours=3)  # past the link's 2 hours
    expired = await chain.notifications.client.post(link)
    assert expired.status_code == 410 and "expired" in expired.text
    assert await chain.complaint_status(complaint) == "open"


async def test_a_page_is_retried_while_the_smtp_server_is_down_and_delivered_when_it_returns(chain: Chain, platform):
    chain.mailbox.stop()
    complaint = await chain.critical_complaint()
    await produce(platform, ESCALATIONS, [paged(complaint, "mgr-0007")])

    async def retried() -> bool:
        async with chain.notifications.app.state.sessions() as session:
            attempts = await session.scalar(select(Delivery.attempts).where(Delivery.complaint_id == UUID(complaint)))
        return attempts is not None and attempts >= 2

    await eventually(retried, what="the delivery to fail and be retried")
    chain.mailbox.start()
    [message] = await chain.mail(MANAGER, complaint)
    assert (await chain.notifications.client.post(link_in(message))).status_code == 200


async def test_a_replayed_page_sends_nothing_twice(chain: Chain, platform):
    complaint = await chain.critical_complaint()
    page = paged(complaint, "mgr-0007")
    await produce(platform, ESCALATIONS, [page])
    await chain.mail(MANAGER, complaint)

    later = await chain.critical_complaint()
    await produce(platform, ESCALATIONS, [page, page, paged(later, "mgr-0007")])  # same store: consumed in this order
    await chain.mail(MANAGER, later)
    assert len(chain.mailbox.to(MANAGER, complaint)) == 1


async def test_a_page_that_names_nobody_reaches_the_regional_coordinator_on_duty(chain: Chain, platform):
    await put_on_duty(chain.scheduling, "rc-uusimaa-1", ROUND_THE_CLOCK)
    complaint = await chain.critical_complaint()
    await produce(platform, ESCALATIONS, [paged(complaint, None, tier="regional_coordinator")])

    [message] = await chain.mail("rc-uusimaa-1@chain.example", complaint)
    assert (await chain.notifications.client.post(link_in(message))).status_code == 200
    assert await chain.complaint_status(complaint) == "acknowledged"


async def test_an_undeliverable_page_goes_to_the_dead_letter_queue_without_contact_data(impatient_chain: Chain, platform):
    impatient_chain.mailbox.stop()
    complaint = await impatient_chain.critical_complaint()
    page = paged(complaint, "mgr-0007")
    await produce(platform, ESCALATIONS, [page])

    def ours(letters) -> list:
        return [letter for letter in letters if str(page.id) in (letter.data.value or "")]

    letters = await read_topic(platform.kafka_bootstrap_servers, ESCALATIONS.dlq, lambda letters: ours(letters))
    [letter] = ours(letters)
    assert letter.data.reason == "undeliverable after 2 attempts: email: SMTPConnectError"
    assert "chain.example" not in letter.data.value


async def test_a_complaint_raised_to_nobody_in_particular_reaches_the_manager_on_duty(chain: Chain, platform):
    site = ROUND_THE_CLOCK
    await complaints_support.add_stores(chain.complaints, "uusimaa", [site])
    await put_on_duty(chain.scheduling, "mgr-0100", site)
    complaint = await chain.critical_complaint(site)
    await produce(platform, ESCALATIONS, [raised(complaint, None, tier="store_manager", store_id=site)])

    [message] = await chain.mail("mgr-0100@chain.example", complaint)
    assert "raised to you" in message["Subject"]
    assert (await chain.notifications.client.post(link_in(message))).status_code == 200
    assert await chain.complaint_status(complaint, site) == "acknowledged"


async def test_an_assignment_reaches_the_assignee_unless_a_page_to_them_follows(chain: Chain, platform):
    assigned, extreme = await chain.critical_complaint(), await chain.critical_complaint()
    await produce(platform, ESCALATIONS, [routed(assigned, "emp-1042", tier="associate"),
                                          routed(extreme, "mgr-0007", tier="store_manager"), paged(extreme, "mgr-0007")])
    [page] = await chain.mail(MANAGER, extreme)
    assert page["Subject"].startswith("Page:")

    chain.notifications.clock.offset = timedelta(seconds=15)  # past the assignments' hold
    [assignment] = await chain.mail("emp-1042@chain.example", assigned)
    assert "assigned to you" in assignment["Subject"]
    await chain.mail(MANAGER, extreme)
    async with chain.notifications.app.state.sessions() as session:
        replaced = await session.scalar(select(Delivery.status).where(Delivery.complaint_id == UUID(extreme),
                                                                      Delivery.kind == "assignment"))
    assert replaced == "cancelled" and len(chain.mailbox.to(MANAGER, extreme)) == 1


async def test_a_link_opened_before_its_delivery_is_recorded_sent_still_acknowledges(chain: Chain, platform):
    """The channel has the message (and its link) a moment before the sender records it sent."""
    complaint = await chain.critical_complaint()
    await produce(platform, ESCALATIONS, [paged(complaint, "mgr-0007")])
    [message] = await chain.mail(MANAGER, complaint)
    async with chain.notifications.app.state.sessions.begin() as session:  # as it stands in that moment
        await session.execute(update(Delivery).where(Delivery.complaint_id == UUID(complaint)).values(status="sending"))

    assert (await chain.notifications.client.post(link_in(message))).status_code == 200
    assert await chain.complaint_status(complaint) == "acknowledged"
