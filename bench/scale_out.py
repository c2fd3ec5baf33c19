"""The workers scaled out: throughput of 1, 2 and 3 replicas of the escalation, analytics and scheduling
workers sharing the complaints topic's 12 partitions on this machine, and of the notifications service
sharing the escalations topic's, and how long their inputs wait after a replica is killed.

    .venv/bin/python bench/scale_out.py [--complaints 20000] [--workers escalation analytics scheduling notifications]

Each measurement gets a broker of its own (the scheduling worker a new database on one PostgreSQL; the
notifications service one too, a mail server, and a scheduling service whose directory has the store
manager every page is for). The replicas are started and given their partitions first; then the inputs
(complaints; pages for the notifications service) are produced at once, and a run's rate is the inputs
÷ the time from the worker's first output to its last (their own timestamps: the escalation worker's
routing decisions, the analytics worker's writes of its stores' totals, the scheduling worker's applied
events, the e-mails' arrivals at the mail server), so start-up is not counted. The baseline is the single
replica of the same run: the ratios say what more replicas add on these cores. The kill: two replicas,
one killed (SIGKILL) a third of the way through the same two replicas' run without a kill (timed from
the end of producing); its catch-up is the time from the kill to the last output (a stream worker's
session timeout, RETAIL_KAFKA_SESSION_TIMEOUT_S=10 here, and a plain consumer's 10 s are how long the
killed replica's partitions wait). Every run checks the work was done once: each complaint has one
routing decision (one event id; the killed replica's last decisions may be published again under their
id, the copies consumers drop), the stores' totals count every complaint once, the scheduling store
applied each complaint once, and each page was e-mailed once (one Message-ID a page).
"""

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any
from uuid import uuid4

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sqlalchemy import select  # noqa: E402

from bench.harness import Infra, own_infra  # noqa: E402
from services.analytics.domain.totals import StoreTotals  # noqa: E402
from services.analytics.topics import CHANGELOGS, TOTALS_TABLE  # noqa: E402
from services.scheduling.store.migrate import upgrade_async  # noqa: E402
from services.scheduling.store.models import ProcessedEvent  # noqa: E402
from services.shared.db import make_engine  # noqa: E402
from services.shared.events.envelope import Envelope, decode  # noqa: E402
from services.shared.settings import PlatformSettings  # noqa: E402
from services.shared.topics import COMPLAINTS, ESCALATIONS, Topic  # noqa: E402
from tests.support import eventually, read_records  # noqa: E402
from tests.support.analytics import Analytics, publish_events  # noqa: E402
from tests.support.escalation import Worker, worker_has_read  # noqa: E402
from tests.support.infra import free_port  # noqa: E402
from tests.support.notifications import Mailbox, add_manager, paged  # noqa: E402
from tests.support.notifications import service_env as notifications_env  # noqa: E402
from tests.support.replicas import GroupWorker, Replicas, complaints, scale_out_broker, stores_on_every_partition  # noqa: E402
from tests.support.scheduling import running_service as running_scheduling  # noqa: E402

MANAGER = "mgr-bench"  # the store manager every page of the notifications runs is for


@dataclass
class Around:
    """What a run's replicas need besides the broker: a database, a directory of staff, a mail server."""

    database_url: str | None = None
    scheduling_url: str | None = None
    mailbox: "TimedMailbox | None" = None


@dataclass(frozen=True)
class Kind:
    """How to start a replica of a worker, what it is given to do (`inputs(count)` on `topic`) and its
    outputs: when each was made (s), and how many were published again under their id."""

    replica: Callable[[PlatformSettings, str, dict[str, str], Around], Any]  # (platform, data dir, env, around)
    outputs: Callable[[str, int, Around], Awaitable[tuple[list[float], int]]]
    done: str
    around: Callable[[Infra, PlatformSettings, str], AbstractAsyncContextManager[Around]]
    topic: Topic = COMPLAINTS
    inputs: Callable[[int], list[Envelope]] = complaints
    unit: str = "complaints"


@asynccontextmanager
async def nothing_around(_infra: Infra, _platform: PlatformSettings, _worker: str) -> AsyncIterator[Around]:
    yield Around()


@asynccontextmanager
async def a_database(infra: Infra, _platform: PlatformSettings, worker: str) -> AsyncIterator[Around]:
    database_url = await infra.new_database(worker)
    await upgrade_async(database_url)
    yield Around(database_url=database_url)


class TimedMailbox(Mailbox):
    """The tests' SMTP server, also noting when each message's DATA arrived (s)."""

    def __init__(self) -> None:
        super().__init__()
        self.arrived: list[float] = []

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: ANN001, N802 - aiosmtpd's handler hook
        answer = await super().handle_DATA(server, session, envelope)
        self.arrived.append(time.time())
        return answer


@asynccontextmanager
async def a_mail_server_and_directory(infra: Infra, platform: PlatformSettings, worker: str) -> AsyncIterator[Around]:
    """A new notifications database, a mail server, and a scheduling service whose directory has the paged manager."""
    mailbox = TimedMailbox()
    mailbox.start()
    try:
        async for scheduling in running_scheduling(await infra.new_database("scheduling"), platform):
            await add_manager(scheduling, MANAGER)
            yield Around(await infra.new_database(worker), str(scheduling.client.base_url), mailbox)
    finally:
        mailbox.stop()


async def routed_once(bootstrap: str, count: int, _around: Around) -> tuple[list[float], int]:
    """When each routing decision was written (s), and how many were published again under their id."""
    decisions = []
    for record in await read_records(bootstrap, ESCALATIONS.name, ESCALATIONS.partitions):
        envelope = decode(record.value, ESCALATIONS.event_classes)
        if envelope.type == "retail.escalation.routed.v1":
            decisions.append((record.timestamp / 1000, str(envelope.data.complaint_id), str(envelope.id)))
    once = len({complaint for _, complaint, _ in decisions}) == len({id_ for _, _, id_ in decisions}) == count
    assert once, f"{len(decisions)} decisions for {count} complaints"
    return [stamp for stamp, _, _ in decisions], len(decisions) - count


async def counted_once(bootstrap: str, count: int, _around: Around) -> tuple[list[float], int]:
    """When each write of a store's totals was made (s); the stores' last totals count every complaint once."""
    changelog = CHANGELOGS[TOTALS_TABLE]
    records = await read_records(bootstrap, changelog.name, changelog.partitions)
    latest = {record.key: record.value for record in records}
    filed = sum(series.value for raw in latest.values() if raw is not None
                for series in StoreTotals.model_validate_json(raw).series.values()
                if series.metric == "retail_complaints_filed")
    assert filed == count, f"{filed} complaints counted of {count}"
    return [record.timestamp / 1000 for record in records], 0


async def applied_once(_bootstrap: str, count: int, around: Around) -> tuple[list[float], int]:
    """When the scheduling store applied each complaint (one row per event id, kept in its transaction)."""
    engine = make_engine(around.database_url)
    try:
        async with engine.connect() as connection:
            stamps = list(await connection.scalars(select(ProcessedEvent.processed_at)))
    finally:
        await engine.dispose()
    assert len(stamps) == count, f"{len(stamps)} complaints applied of {count}"
    return [(stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)).timestamp() for stamp in stamps], 0


async def mailed_once(_bootstrap: str, count: int, around: Around) -> tuple[list[float], int]:
    """When each page's e-mail arrived (s), once all have: one e-mail a page."""
    mailbox = around.mailbox

    async def all_arrived() -> bool:
        return len(mailbox.messages) >= count

    await eventually(all_arrived, timeout_s=600, what=f"{count} pages e-mailed")
    pages = {message["Message-ID"] for message in mailbox.messages}
    assert len(pages) == len(mailbox.messages) == count, f"{len(mailbox.messages)} e-mails, {len(pages)} pages of {count}"
    return list(mailbox.arrived), 0


def pages(count: int) -> list[Envelope]:
    """Pages to the store manager, about complaints at stores on every partition."""
    stores = stores_on_every_partition(ESCALATIONS, "uusimaa", 1)
    return [paged(str(uuid4()), MANAGER, store_id=stores[n % len(stores)]) for n in range(count)]


def scheduling_worker(platform: PlatformSettings, _data_dir: str, env: dict[str, str], around: Around) -> GroupWorker:
    return GroupWorker("services.scheduling.worker", "SCHEDULING", around.database_url, platform,
                       {**env, "SCHEDULING_MIGRATE_ON_START": "false"})


def notifications(platform: PlatformSettings, _data_dir: str, env: dict[str, str], around: Around) -> GroupWorker:
    return GroupWorker("services.notifications", "NOTIFICATIONS", around.database_url, platform, {
        **env, **notifications_env(around.database_url, platform, around.mailbox, around.scheduling_url, free_port())})


WORKERS = {
    "escalation": Kind(lambda platform, data_dir, env, _: Worker(platform, data_dir, env=env), routed_once, "routed",
                       nothing_around),
    "analytics": Kind(lambda platform, data_dir, env, _: Analytics(platform, data_dir, env=env), counted_once, "counted",
                      nothing_around),
    "scheduling": Kind(scheduling_worker, applied_once, "applied", a_database),
    "notifications": Kind(notifications, mailed_once, "e-mailed", a_mail_server_and_directory, ESCALATIONS, pages,
                          "pages"),
}


async def run(infra: Infra, worker: str, replicas: int, count: int, kill_after_s: float | None = None) -> dict:
    """One run; with `kill_after_s`, replica 0 is killed that long after the inputs are produced."""
    kind = WORKERS[worker]
    with tempfile.TemporaryDirectory() as directory, scale_out_broker(Path(directory) / "kafka") as platform:
        async with kind.around(infra, platform, worker) as around:
            bootstrap = platform.kafka_bootstrap_servers
            group = Replicas(worker, lambda data_dir, env: kind.replica(platform, data_dir, env, around), Path(directory))
            try:
                # one after the other: the first brings a new database's schema up
                await group.started(platform, kind.topic, "0")
                await group.started(platform, kind.topic, *map(str, range(1, replicas)))
                await publish_events(platform, kind.topic, kind.inputs(count))
                produced_at, killed_at = time.time(), None
                if kill_after_s is not None:
                    await asyncio.sleep(kill_after_s)  # the kill's moment, measured from the end of producing
                    killed_at = time.time()
                    group.kill("0")
                await eventually(lambda: worker_has_read(platform, kind.topic, group=worker), timeout_s=600,
                                 what=f"every input to be {kind.done}")
                stamps, copies = await kind.outputs(bootstrap, count, around)
                first, last = min(stamps), max(stamps)
                return {"rate": count / (last - first), "seconds": last - first, "after_produced_s": last - produced_at,
                        "catch_up_s": None if killed_at is None else last - killed_at, "copies": copies}
            finally:
                group.stop()


async def main(count: int, workers: list[str]) -> None:
    async with own_infra() as infra:
        for worker in workers:
            done, unit = WORKERS[worker].done, WORKERS[worker].unit
            one = await run(infra, worker, 1, count)
            print(f"{worker}, 1 replica: {one['rate']:,.0f} {unit}/s ({one['seconds']:.1f} s for {count:,})", flush=True)
            for replicas in (2, 3):
                many = await run(infra, worker, replicas, count)
                ratio = many["rate"] / one["rate"]
                print(f"{worker}, {replicas} replicas: {many['rate']:,.0f} {unit}/s, {ratio:.2f}× one replica", flush=True)
            calm = await run(infra, worker, 2, count)
            killed = await run(infra, worker, 2, count, kill_after_s=calm["after_produced_s"] / 3)
            print(f"{worker}, 2 replicas, one killed a third of the way ({calm['after_produced_s'] / 3:.1f} s after producing): "
                  f"the last output {killed['catch_up_s']:.1f} s after the kill, {killed['after_produced_s']:.1f} s after "
                  f"producing against {calm['after_produced_s']:.1f} s without the kill; every one of the {unit} {done} once "
                  f"({killed['copies']} outputs published again under their id)", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--complaints", type=int, default=20000, help="or pages, for the notifications service")
    parser.add_argument("--workers", nargs="+", choices=list(WORKERS), default=list(WORKERS))
    arguments = parser.parse_args()
    asyncio.run(main(arguments.complaints, arguments.workers))
