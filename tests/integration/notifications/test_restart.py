"""The notifications service as its own process, killed (SIGKILL) in the middle of a batch and started
again, and as replicas of which one is killed and another added: every page arrives, once (see
`services.shared.delivery.engine` for how)."""

from collections import Counter
from uuid import uuid4

from services.shared.kafka import ensure_topics
from services.shared.topics import ALL_TOPICS, ESCALATIONS
from tests.support import eventually
from tests.support import scheduling as scheduling_support
from tests.support.infra import free_port
from tests.support.notifications import Mailbox, add_manager, paged, running_service, service_env
from tests.support.replicas import GroupWorker, Replicas, stores_on_every_partition
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


async def test_replicas_sharing_the_pages_one_killed_and_one_added_send_every_page_once(new_database, platform, tmp_path):
    """Three replicas on one database and consumer group, pages on every partition: one replica is killed
    (SIGKILL) while they send, and a fourth joins."""
    ensure_topics(platform, ALL_TOPICS)
    mailbox = Mailbox()
    mailbox.start()
    database = await new_database()
    stores = stores_on_every_partition(ESCALATIONS, "uusimaa", 1)
    async for scheduling in scheduling_support.running_service(await new_database(), platform):
        manager = await add_manager(scheduling, "mgr-0901")
        complaints = {str(uuid4()): stores[n % len(stores)] for n in range(PAGES)}

        def arrived() -> Counter:
            return Counter(m["Message-ID"] for m in mailbox.messages if m["To"] == manager)

        def replica(_data_dir: str, env: dict[str, str]) -> GroupWorker:
            return GroupWorker("services.notifications", "NOTIFICATIONS", database, platform, {
                **env, **service_env(database, platform, mailbox, str(scheduling.client.base_url), free_port(), **SETTINGS)})

        replicas = Replicas("notifications", replica, tmp_path)
        try:
            await replicas.started(platform, ESCALATIONS, "a")  # alone first: it brings the new database's schema up
            await replicas.started(platform, ESCALATIONS, "b", "c")
            await produce(platform, ESCALATIONS, [paged(complaint, "mgr-0901", store_id=store)
                                                  for complaint, store in complaints.items()])

            async def some() -> bool:
                return len(arrived()) >= 10

            await replicas.until(some, "the first pages")
            replicas.kill("b")
            assert len(arrived()) < PAGES, "the replicas finished before one was killed: nothing was tested"
            await replicas.started(platform, ESCALATIONS, "d")

            async def all_of_them() -> bool:  # by Message-ID
                return len(arrived()) == PAGES

            async def how_many() -> str:
                return f"{len(arrived())} of {PAGES} arrived"

            await replicas.until(all_of_them, f"all {PAGES} pages", how_many)
        finally:
            replicas.stop()
        pages = [m for m in mailbox.messages if m["To"] == manager]
        assert {c for c in complaints if any(c in m.get_content() for m in pages)} == set(complaints)
        assert len(pages) == PAGES  # nothing twice
    mailbox.stop()
