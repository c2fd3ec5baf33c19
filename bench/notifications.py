"""The time from a critical complaint's HTTP 201 to its page e-mail in the on-duty manager's mailbox.

    .venv/bin/python bench/notifications.py --complaints 100

Starts its own Kafka broker and PostgreSQL (deploy/local), a real SMTP server (aiosmtpd), and the
services as operators run them, each its own process: the escalation worker, the scheduling API
(whose directory has the manager's work e-mail and whose roster puts them on duty), the complaints
API and the notifications service. Then it files critical complaints one at a time, each after the
previous one's e-mail has arrived and a random pause, so it measures latency, not queueing. The SMTP
server notes when each message's DATA arrives; the baseline, in the same run, is the time from the
same 201 to the EscalationPaged event on the escalations topic, noted by a consumer as it reads it.
Their ratio says what the notifications service adds: consuming, its sender's poll for due deliveries
(NOTIFICATIONS_SEND_POLL_MS), the directory lookup and the SMTP transaction.
"""

import argparse
import asyncio
import math
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from uuid import UUID, uuid4

from aiokafka import AIOKafkaConsumer
from aiokafka.structs import TopicPartition
from sqlalchemy import text
from sqlalchemy.engine import make_url

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from services.notifications.settings import NotificationsSettings  # noqa: E402
from services.shared.db import make_engine  # noqa: E402
from services.shared.events.envelope import decode  # noqa: E402
from services.shared.events.escalations import EscalationPaged  # noqa: E402
from services.shared.principal import Role  # noqa: E402
from services.shared.settings import PlatformSettings  # noqa: E402
from services.shared.topics import ESCALATIONS  # noqa: E402
from tests.support.complaints import add_stores  # noqa: E402
from tests.support.complaints import running_service as running_complaints  # noqa: E402
from tests.support.escalation import running_worker, worker_knows_roster  # noqa: E402
from tests.support.infra import free_port, kafka_broker, script  # noqa: E402
from tests.support.notifications import Mailbox  # noqa: E402
from tests.support.notifications import running_service as running_notifications  # noqa: E402
from tests.support.scheduling import WEEKDAYS, put_on_duty, staff_body  # noqa: E402
from tests.support.scheduling import running_service as running_scheduling  # noqa: E402

REGION, STORE, MANAGER = "bench-region", "bench-store", "mgr-bench"
ADDRESS = f"{MANAGER}@chain.example"
WARM_UP = 3  # complaints filed first and not counted: the first pays for connections and caches
TIMEOUT_S = 60
# The notifications sender looks for due deliveries this often (the service runs with its defaults).
# Filing each complaint right after the last e-mail would file it at the same moment of that cycle every
# time, just after a round; a random pause up to one cycle files it at a random moment, as in real life.
SEND_POLL_S = NotificationsSettings.model_fields["send_poll_ms"].default / 1000


class TimedMailbox(Mailbox):
    """The tests' SMTP server, also noting when each message's DATA arrived, and handing it to the
    bench's event loop (the server runs in a thread of its own)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self.loop = loop
        self.arrivals: asyncio.Queue = asyncio.Queue()

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: ANN001, N802 - aiosmtpd's handler hook
        arrived = time.monotonic()
        answer = await super().handle_DATA(server, session, envelope)
        self.loop.call_soon_threadsafe(self.arrivals.put_nowait, (self.messages[-1], arrived))
        return answer

    async def page(self, complaint_id: str) -> float:
        """When the page about the complaint arrived for the manager (other mail is passed over)."""
        while True:
            message, arrived = await asyncio.wait_for(self.arrivals.get(), TIMEOUT_S)
            if message["To"] == ADDRESS and message["Subject"].startswith("Page:") and complaint_id in message.get_content():
                return arrived


async def note_pages(consumer: AIOKafkaConsumer, paged: dict[str, float]) -> None:
    """Notes when each complaint's first page was read from the topic, before decoding it."""
    async for record in consumer:
        read = time.monotonic()
        event = decode(record.value, ESCALATIONS.event_classes).data
        if isinstance(event, EscalationPaged):
            paged.setdefault(str(event.complaint_id), read)


async def started(stack: AsyncExitStack, starter: AsyncIterator):
    """What one of tests/support's starters yields; the stack runs the rest of it (which stops the process) on exit."""
    value = await anext(starter)

    async def finish() -> None:
        async for _ in starter:
            pass

    stack.push_async_callback(finish)
    return value


async def new_database(postgres_url: str) -> str:
    """An empty database of its own on the cluster; its URL."""
    name = f"bench_{uuid4().hex[:12]}"
    admin = make_engine(postgres_url).execution_options(isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await admin.dispose()
    return make_url(postgres_url).set(database=name).render_as_string(hide_password=False)


async def chain(stack: AsyncExitStack, workdir: Path, mailbox: Mailbox):
    """The services and the store's manager on duty, as in tests/e2e/test_reaching_people.py; the
    platform settings and the complaints API."""
    platform = PlatformSettings(kafka_bootstrap_servers=stack.enter_context(kafka_broker(workdir / "kafka")))
    (workdir / "pg").mkdir(mode=0o777)
    postgres = script("postgres.sh", "start", "--dir", str(workdir / "pg"), "--port", str(free_port()))
    stack.callback(script, "postgres.sh", "stop", "--dir", str(workdir / "pg"))
    worker = await started(stack, running_worker(platform, workdir / "escalation"))

    scheduling = await started(stack, running_scheduling(await new_database(postgres), platform))
    admin = scheduling.token(Role.service, None, sub="svc-setup")
    site = {"region_id": REGION, "name": "Bench store", "timezone": "Europe/Helsinki",
            "opening_hours": {day: [["00:00", "24:00"]] for day in WEEKDAYS}}
    for path, body in [(f"/v1/regions/{REGION}", {"name": REGION}), (f"/v1/sites/{STORE}", site),
                       (f"/v1/staff/{MANAGER}", staff_body(Role.store_manager, STORE, contact={"work_email": ADDRESS}))]:
        response = await scheduling.client.put(path, json=body, headers=admin)
        assert response.status_code == 204, response.text
    complaints = await started(stack, running_complaints(await new_database(postgres), platform))
    await add_stores(complaints, REGION, [STORE])
    notifications = await running_notifications(await new_database(postgres), platform, mailbox,
                                                str(scheduling.client.base_url),
                                                complaints_url=str(complaints.client.base_url))
    stack.callback(notifications.stop)

    await put_on_duty(scheduling, MANAGER, STORE)
    await worker_knows_roster(worker, platform.kafka_bootstrap_servers, STORE, {MANAGER})
    return platform, complaints


async def file_critical(complaints) -> tuple[str, float]:
    """Files a critical complaint; its id and when the 201 came back."""
    response = await complaints.file(store=STORE, severity="critical", mood="angry")
    answered = time.monotonic()
    assert response.status_code == 201, response.text
    return str(UUID(response.json()["id"])), answered


def p99(values: list[float]) -> float:
    """The 99th percentile, nearest rank."""
    ordered = sorted(values)
    return ordered[math.ceil(0.99 * len(ordered)) - 1]


async def main(count: int, seed: int) -> None:
    rng = random.Random(seed)
    workdir = Path(tempfile.mkdtemp(prefix="bench-notifications-"))
    os.chmod(workdir, 0o755)  # PostgreSQL runs as its own user and must reach its folder
    mailbox = TimedMailbox(asyncio.get_running_loop())
    mailbox.start()
    async with AsyncExitStack() as stack:
        stack.callback(shutil.rmtree, workdir, ignore_errors=True)
        stack.callback(mailbox.stop)
        platform, complaints = await chain(stack, workdir, mailbox)

        consumer = AIOKafkaConsumer(bootstrap_servers=platform.kafka_bootstrap_servers, enable_auto_commit=False)
        await consumer.start()
        stack.push_async_callback(consumer.stop)
        consumer.assign([TopicPartition(ESCALATIONS.name, p) for p in range(ESCALATIONS.partitions)])
        await consumer.seek_to_end()
        for partition in consumer.assignment():
            await consumer.position(partition)  # resolved now, so no page of the bench's is skipped
        paged: dict[str, float] = {}
        reader = asyncio.create_task(note_pages(consumer, paged))

        @stack.push_async_callback
        async def stop_reading() -> None:
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)

        to_page, to_mail = [], []
        for i in range(WARM_UP + count):
            await asyncio.sleep(rng.uniform(0, SEND_POLL_S))
            complaint_id, answered = await file_critical(complaints)
            mailed = await mailbox.page(complaint_id)
            deadline = time.monotonic() + TIMEOUT_S
            while complaint_id not in paged:
                assert not reader.done(), reader.exception()
                assert time.monotonic() < deadline, f"no page on {ESCALATIONS.name} for {complaint_id}"
                await asyncio.sleep(0.01)
            if i >= WARM_UP:
                to_page.append(paged[complaint_id] - answered)
                to_mail.append(mailed - answered)

    added = [mail - page for mail, page in zip(to_mail, to_page, strict=True)]
    print(f"{count} critical complaints filed one at a time through the complaints API ({WARM_UP} more first, not counted)")
    for label, values in [(f"baseline: HTTP 201 → EscalationPaged on {ESCALATIONS.name}", to_page),
                          ("HTTP 201 → page e-mail in the manager's mailbox", to_mail),
                          ("added by notifications (e-mail − page, each)", added)]:
        print(f"{label:<52} median {statistics.median(values) * 1000:7.1f} ms   p99 {p99(values) * 1000:7.1f} ms")
    print(f"{'e-mail / baseline ratio':<52} median {statistics.median(to_mail) / statistics.median(to_page):7.2f}"
          f"      p99 {p99(to_mail) / p99(to_page):7.2f}")

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--complaints", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1, help="of the pauses between complaints")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.complaints, arguments.seed))
