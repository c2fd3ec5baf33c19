"""The stream workers scaled out: throughput of 1, 2 and 3 replicas of the escalation and the analytics
worker sharing the complaints topic's 12 partitions on this machine, and how long complaints wait after
a replica is killed.

    .venv/bin/python bench/scale_out.py [--complaints 20000] [--workers escalation analytics]

Each measurement gets a broker of its own. The replicas are started and given their partitions first;
then the complaints are produced at once, and a run's rate is the complaints ÷ the time from the
worker's first output to its last (the records' own timestamps: the escalation worker's routing
decisions, the analytics worker's writes of its stores' totals), so start-up is not counted. The
baseline is the single replica of the same run: the ratios say what more replicas add on these cores.
The kill: two replicas, one killed (SIGKILL) once a third of the complaints are committed; its catch-up
is the time from the kill to the last output, beside the same two replicas' run without a kill (the
session timeout, RETAIL_KAFKA_SESSION_TIMEOUT_S=10 here, is how long the killed replica's partitions
wait). Every run checks the work was done once: each complaint has one routing decision (one event id;
the killed replica's last decisions may be published again under their id, the copies consumers drop),
and the stores' totals count every complaint once.
"""

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from kafka.admin import KafkaAdminClient  # noqa: E402
from kafka.errors import KafkaError  # noqa: E402

from services.analytics.domain.totals import StoreTotals  # noqa: E402
from services.analytics.topics import CHANGELOGS, TOTALS_TABLE  # noqa: E402
from services.shared.events.envelope import decode  # noqa: E402
from services.shared.topics import COMPLAINTS, ESCALATIONS  # noqa: E402
from tests.support import eventually, read_records  # noqa: E402
from tests.support.analytics import Analytics, publish_events  # noqa: E402
from tests.support.escalation import Worker, worker_has_read  # noqa: E402
from tests.support.replicas import Replicas, complaints, scale_out_broker  # noqa: E402

Outputs = Callable[[str, int], Awaitable[tuple[list[float], int]]]


async def routed_once(bootstrap: str, count: int) -> tuple[list[float], int]:
    """When each routing decision was written (s), and how many were published again under their id."""
    decisions = []
    for record in await read_records(bootstrap, ESCALATIONS.name, ESCALATIONS.partitions):
        envelope = decode(record.value, ESCALATIONS.event_classes)
        if envelope.type == "retail.escalation.routed.v1":
            decisions.append((record.timestamp / 1000, str(envelope.data.complaint_id), str(envelope.id)))
    once = len({complaint for _, complaint, _ in decisions}) == len({id_ for _, _, id_ in decisions}) == count
    assert once, f"{len(decisions)} decisions for {count} complaints"
    return [stamp for stamp, _, _ in decisions], len(decisions) - count


async def counted_once(bootstrap: str, count: int) -> tuple[list[float], int]:
    """When each write of a store's totals was made (s); the stores' last totals count every complaint once."""
    changelog = CHANGELOGS[TOTALS_TABLE]
    records = await read_records(bootstrap, changelog.name, changelog.partitions)
    latest = {record.key: record.value for record in records}
    filed = sum(series.value for raw in latest.values() if raw is not None
                for series in StoreTotals.model_validate_json(raw).series.values()
                if series.metric == "retail_complaints_filed")
    assert filed == count, f"{filed} complaints counted of {count}"
    return [record.timestamp / 1000 for record in records], 0


WORKERS: dict[str, tuple[Callable[..., Any], Outputs, str]] = {
    "escalation": (Worker, routed_once, "routed"),
    "analytics": (Analytics, counted_once, "counted"),
}


def committed(bootstrap: str, group: str) -> int:
    """How many complaints the group has committed, over every partition."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="bench-scale-out")
    try:
        return sum(offset.offset for tp, offset in admin.list_group_offsets(group)[group].items() if tp.topic == COMPLAINTS.name)
    except KafkaError:
        return 0
    finally:
        admin.close()


async def run(worker: str, replicas: int, count: int, kill: bool = False) -> dict:
    start, outputs, done = WORKERS[worker]
    with tempfile.TemporaryDirectory() as directory, scale_out_broker(Path(directory) / "kafka") as platform:
        bootstrap = platform.kafka_bootstrap_servers
        group = Replicas(worker, lambda data_dir, env: start(platform, data_dir, env=env), Path(directory))
        try:
            await group.started(platform, COMPLAINTS, *map(str, range(replicas)))
            await publish_events(platform, COMPLAINTS, complaints(count))
            killed_at = None
            if kill:  # polled on the group's commits, which cost the broker little, not by reading the outputs
                async def a_third() -> bool:
                    return await asyncio.to_thread(committed, bootstrap, worker) >= count // 3
                await eventually(a_third, timeout_s=300, what=f"a third of the complaints to be {done}")
                killed_at = time.time()
                group.kill("0")
            await eventually(lambda: worker_has_read(platform, COMPLAINTS, group=worker), timeout_s=600,
                             what=f"every complaint to be {done}")
            stamps, copies = await outputs(bootstrap, count)
            first, last = min(stamps), max(stamps)
            return {"rate": count / (last - first), "seconds": last - first,
                    "catch_up_s": None if killed_at is None else last - killed_at, "copies": copies}
        finally:
            group.stop()


async def main(count: int, workers: list[str]) -> None:
    for worker in workers:
        done = WORKERS[worker][2]
        one = await run(worker, 1, count)
        print(f"{worker}, 1 replica: {one['rate']:,.0f} complaints/s ({one['seconds']:.1f} s for {count:,})", flush=True)
        for replicas in (2, 3):
            many = await run(worker, replicas, count)
            ratio = many["rate"] / one["rate"]
            print(f"{worker}, {replicas} replicas: {many['rate']:,.0f} complaints/s, {ratio:.2f}× one replica", flush=True)
        calm, killed = await run(worker, 2, count), await run(worker, 2, count, kill=True)
        print(f"{worker}, 2 replicas, one killed at a third: the last output {killed['catch_up_s']:.1f} s after the kill; "
              f"{killed['seconds']:.1f} s in all against {calm['seconds']:.1f} s without the kill; every complaint {done} "
              f"once ({killed['copies']} outputs published again under their id)", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--complaints", type=int, default=20000)
    parser.add_argument("--workers", nargs="+", choices=list(WORKERS), default=list(WORKERS))
    arguments = parser.parse_args()
    asyncio.run(main(arguments.complaints, arguments.workers))
