"""The notifications service as its own process, killed (SIGKILL) in the middle of a batch and started
again: every page arrives, once (see `services.shared.delivery.engine` for how)."""

from collections import Counter
from uuid import uuid4

from services.shared.kafka import ensure_topics
from services.shared.topics import ALL_TOPICS, ESCALATIONS
from tests.support import eventually
from tests.support import scheduling as scheduling_support
from tests.support.notifications import Mailbox, add_manager, paged, running_service
from tests.support.scheduling import produce

PAGES = 300
SETTINGS = {"send_batch_size": "5", "claim_s": "5", "smtp_timeout_s": "1", "http_timeout_s": "1"}


async def test_a_worker_killed_mid_batch_and_restarted_sends_every_page_once(new_database, platform):
    ensure_topics(platform, ALL_TOPICS)
    mailbox = Mailbox()
    mailbox.start()
    database = await new_database()
    async for scheduling in scheduling_support.running_service(await new_database(), platform):
        manager = await add_manager(scheduling, "mgr-0900")
        complaints = {str(uuid4()) for _ in range(PAGES)}

        def arrived() -> Counter:
            return Counter(m["Message-ID"] for m in mailbox.messages if m["To"] == manager)

        first = await running_service(database, platform, mailbox, str(scheduling.client.base_url), **SETTINGS)
        try:
            await produce(platform, ESCALATIONS, [paged(complaint, "mgr-0900") for complaint in complaints])

            async def some() -> bool:
                return len(arrived()) >= 10

            await eventually(some, what="the first pages")
        finally:
            first.process.kill()
            first.process.wait()
        assert len(arrived()) < PAGES, "the worker finished before it was killed: nothing was tested"

        second = await running_service(database, platform, mailbox, str(scheduling.client.base_url), **SETTINGS)
        try:
            async def all_of_them() -> bool:  # by Message-ID
                return len(arrived()) == PAGES

            await eventually(all_of_them, timeout_s=60, what=f"all {PAGES} pages")
        finally:
            second.stop()
        pages = [m for m in mailbox.messages if m["To"] == manager]
        assert {c for c in complaints if any(c in m.get_content() for m in pages)} == complaints
        assert len(pages) == PAGES  # nothing twice
    mailbox.stop()
