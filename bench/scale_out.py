"""The workers scaled out: throughput of 1, 2 and 3 replicas of the escalation, analytics and scheduling
workers sharing the complaints topic's 12 partitions on this machine, and how long complaints wait after
a replica is killed.

    .venv/bin/python bench/scale_out.py [--complaints 20000] [--workers escalation analytics scheduling]

Each measurement gets a broker of its own (the scheduling worker a new database on one PostgreSQL). The
replicas are started and given their partitions first; then the complaints are produced at once, and a
run's rate is the complaints ÷ the time from the worker's first output to its last (their own
timestamps: the escalation worker's routing decisions, the analytics worker's writes of its stores'
totals, the scheduling worker's applied events), so start-up is not counted. The baseline is the single
replica of the same run: the ratios say what more replicas add on these cores. The kill: two replicas,
one killed (SIGKILL) a third of the way through the same two replicas' run without a kill (timed from
the end of producing); its catch-up is the time from the kill to the last output (a stream worker's
session timeout, RETAIL_KAFKA_SESSION_TIMEOUT_S=10 here, and a plain consumer's 10 s are how long the
killed replica's partitions wait). Every run checks the work was done once: each complaint has one
routing decision (one event id; the killed replica's last decisions may be published again under their
id, the copies consumers drop), the stores' totals count every complaint once, and the scheduling store
applied each complaint once.
"""

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sqlalchemy import select  # noqa: E402

from bench.harness import Infra, own_infra  # noqa: E402
from services.analytics.domain.totals import StoreTotals  # noqa: E402
from services.analytics.topics import CHANGELOGS, TOTALS_TABLE  # noqa: E402
from services.scheduling.store.migrate import upgrade_async  # noqa: E402
from services.scheduling.store.models import ProcessedEvent  # noqa: E402
from services.shared.db import make_engine  # noqa: E402
from services.shared.events.envelope import decode  # noqa: E402
from services.shared.topics import COMPLAINTS, ESCALATIONS  # noqa: E402
from tests.support import eventually, read_records  # noqa: E402
from tests.support.analytics import Analytics, publish_events  # noqa: E402
from tests.support.escalation import Worker, worker_has_read  # noqa: E402
from tests.support.replicas import GroupWorker, Replicas, complaints, scale_out_broker  # noqa: E402


@dataclass(frozen=True)
class Kind:
    """How to start a replica of a worker (given the run's database, if it needs one), and its outputs:
    when each was made (s), and how many were published again under their id."""

    replica: Callable[..., Any]
    outputs: Callable[[str, int, str | None], Awaitable[tuple[list[float], int]]]
    done: str
    database: bool = False


async def routed_once(bootstrap: str, count: int, _database_url: str | None) -> tuple[list[float], int]:
    """When each routing decision was written (s), and how many were published again under their id."""
    decisions = []
    for record in await read_records(bootstrap, ESCALATIONS.name, ESCALATIONS.partitions):
        envelope = decode(record.value, ESCALATIONS.event_classes)
        if envelope.type == "retail.escalation.routed.v1":
            decisions.append((record.timestamp / 1000, str(envelope.data.complaint_id), str(envelope.id)))
    once = len({complaint for _, complaint, _ in decisions}) == len({id_ for _, _, id_ in decisions}) == count
    assert once, f"{len(decisions)} decisions for {count} complaints"
    return [stamp for stamp, _, _ in decisions], len(decisions) - count


async def counted_once(bootstrap: str, count: int, _database_url: str | None) -> tuple[list[float], int]:
    """When each write of a store's totals was made (s); the stores' last totals count every complaint once."""
    changelog = CHANGELOGS[TOTALS_TABLE]
    records = await read_records(bootstrap, changelog.name, changelog.partitions)
    latest = {record.key: record.value for record in records}
    filed = sum(series.value for raw in latest.values() if raw is not None
                for series in StoreTotals.model_validate_json(raw).series.values()
                if series.metric == "retail_complaints_filed")
    assert filed == count, f"{filed} complaints counted of {count}"
    return [record.timestamp / 1000 for record in records], 0


async def applied_once(_bootstrap: str, count: int, database_url: str | None) -> tuple[list[float], int]:
    """When the scheduling store applied each complaint (one row per event id, kept in its transaction)."""
    engine = make_engine(database_url)
    try:
        async with engine.connect() as connection:
            stamps = list(await connection.scalars(select(ProcessedEvent.processed_at)))
    finally:
        await engine.dispose()
    assert len(stamps) == count, f"{len(stamps)} complaints applied of {count}"
    return [(stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)).timestamp() for stamp in stamps], 0


def scheduling_worker(platform, _data_dir: str, env: dict[str, str], database_url: str) -> GroupWorker:
    return GroupWorker("services.scheduling.worker", "SCHEDULING", database_url, platform,
                       {**env, "SCHEDULING_MIGRATE_ON_START": "false"})


WORKERS = {
    "escalation": Kind(lambda platform, data_dir, env, _url: Worker(platform, data_dir, env=env), routed_once, "routed"),
    "analytics": Kind(lambda platform, data_dir, env, _url: Analytics(platform, data_dir, env=env), counted_once, "counted"),
    "scheduling": Kind(scheduling_worker, applied_once, "applied", database=True),
}


async def run(infra: Infra, worker: str, replicas: int, count: int, kill_after_s: float | None = None) -> dict:
    """One run; with `kill_after_s`, replica 0 is killed that long after the complaints are produced."""
    kind = WORKERS[worker]
    database_url = None
    if kind.database:
        database_url = await infra.new_database(worker)
        await upgrade_async(database_url)
    with tempfile.TemporaryDirectory() as directory, scale_out_broker(Path(directory) / "kafka") as platform:
        bootstrap = platform.kafka_bootstrap_servers
        group = Replicas(worker, lambda data_dir, env: kind.replica(platform, data_dir, env, database_url), Path(directory))
        try:
            await group.started(platform, COMPLAINTS, *map(str, range(replicas)))
            await publish_events(platform, COMPLAINTS, complaints(count))
            produced_at, killed_at = time.time(), None
            if kill_after_s is not None:
                await asyncio.sleep(kill_after_s)  # the kill's moment, measured from the end of producing
                killed_at = time.time()
                group.kill("0")
            await eventually(lambda: worker_has_read(platform, COMPLAINTS, group=worker), timeout_s=600,
                             what=f"every complaint to be {kind.done}")
            stamps, copies = await kind.outputs(bootstrap, count, database_url)
            first, last = min(stamps), max(stamps)
            return {"rate": count / (last - first), "seconds": last - first, "after_produced_s": last - produced_at,
                    "catch_up_s": None if killed_at is None else last - killed_at, "copies": copies}
        finally:
            group.stop()


async def main(count: int, workers: list[str]) -> None:
    async with own_infra() as infra:
        for worker in workers:
            done = WORKERS[worker].done
            one = await run(infra, worker, 1, count)
            print(f"{worker}, 1 replica: {one['rate']:,.0f} complaints/s ({one['seconds']:.1f} s for {count:,})", flush=True)
            for replicas in (2, 3):
                many = await run(infra, worker, replicas, count)
                ratio = many["rate"] / one["rate"]
                print(f"{worker}, {replicas} replicas: {many['rate']:,.0f} complaints/s, {ratio:.2f}× one replica", flush=True)
            calm = await run(infra, worker, 2, count)
            killed = await run(infra, worker, 2, count, kill_after_s=calm["after_produced_s"] / 3)
            print(f"{worker}, 2 replicas, one killed a third of the way ({calm['after_produced_s'] / 3:.1f} s after producing): "
                  f"the last output {killed['catch_up_s']:.1f} s after the kill, {killed['after_produced_s']:.1f} s after "
                  f"producing against {calm['after_produced_s']:.1f} s without the kill; every complaint {done} once "
                  f"({killed['copies']} outputs published again under their id)", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--complaints", type=int, default=20000)
    parser.add_argument("--workers", nargs="+", choices=list(WORKERS), default=list(WORKERS))
    arguments = parser.parse_args()
    asyncio.run(main(arguments.complaints, arguments.workers))
