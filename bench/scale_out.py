"""The escalation worker scaled out: routing throughput of 1, 2 and 3 replicas sharing the complaints
topic's 12 partitions on this machine, and how long complaints wait after a replica is killed.

    .venv/bin/python bench/scale_out.py [--complaints 20000]

Each measurement gets a broker of its own. The replicas are started and given their partitions first;
then the complaints are produced at once, and a run's rate is the complaints ÷ the time from the first
routing decision to the last (the records' own timestamps), so start-up is not counted. The baseline is
the single replica of the same run: the ratios say what more replicas add on these cores. The kill: two
replicas, one killed (SIGKILL) once a third of the complaints are routed; its catch-up is the time from
the kill to the last decision, beside the same two replicas' run without a kill (the session timeout,
RETAIL_KAFKA_SESSION_TIMEOUT_S=10 here, is how long the killed replica's partitions wait). Every run
checks that each complaint got exactly one routing decision (one event id; the killed replica's last
decisions may be published again under their id, the copies consumers drop).
"""

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from kafka.admin import KafkaAdminClient  # noqa: E402
from kafka.errors import KafkaError  # noqa: E402

from services.shared.events.envelope import decode  # noqa: E402
from services.shared.topics import COMPLAINTS, ESCALATIONS  # noqa: E402
from tests.support import eventually, read_records  # noqa: E402
from tests.support.analytics import publish_events  # noqa: E402
from tests.support.escalation import Worker, worker_has_read  # noqa: E402
from tests.support.replicas import Replicas, complaints, scale_out_broker  # noqa: E402


async def routed(bootstrap: str) -> list[tuple[float, str, str]]:
    """The routing decisions on the escalations topic: when each was written (s), its complaint and its id."""
    decisions = []
    for record in await read_records(bootstrap, ESCALATIONS.name, ESCALATIONS.partitions):
        envelope = decode(record.value, ESCALATIONS.event_classes)
        if envelope.type == "retail.escalation.routed.v1":
            decisions.append((record.timestamp / 1000, str(envelope.data.complaint_id), str(envelope.id)))
    return decisions


def committed(bootstrap: str) -> int:
    """How many complaints the escalation group has committed, over every partition."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="bench-scale-out")
    try:
        return sum(offset.offset for tp, offset in admin.list_group_offsets("escalation")["escalation"].items()
                   if tp.topic == COMPLAINTS.name)
    except KafkaError:
        return 0
    finally:
        admin.close()


async def run(replicas: int, count: int, kill: bool = False) -> dict:
    with tempfile.TemporaryDirectory() as directory, scale_out_broker(Path(directory) / "kafka") as platform:
        group = Replicas("escalation", lambda data_dir, env: Worker(platform, data_dir, env=env), Path(directory))
        try:
            for n in range(replicas):
                group.add(str(n))
            await group.until(lambda: group.spread(platform, COMPLAINTS), f"{replicas} replicas to share the partitions")
            await publish_events(platform, COMPLAINTS, complaints(count))
            killed_at = None
            if kill:  # polled on the group's commits, which cost the broker little, not by reading the decisions
                async def a_third() -> bool:
                    return await asyncio.to_thread(committed, platform.kafka_bootstrap_servers) >= count // 3
                await eventually(a_third, timeout_s=300, what="a third of the complaints to be routed")
                killed_at = time.time()
                group.kill("0")
            await eventually(lambda: worker_has_read(platform, COMPLAINTS), timeout_s=600, what="every complaint to be routed")
            decisions = await routed(platform.kafka_bootstrap_servers)
            stamps = sorted(stamp for stamp, _, _ in decisions)
            # A decision published again under its id (after a kill) is the at-least-once copy consumers drop.
            once = len({complaint for _, complaint, _ in decisions}) == len({id_ for _, _, id_ in decisions}) == count
            assert once, f"{len(decisions)} decisions for {count} complaints"
            return {"rate": count / (stamps[-1] - stamps[0]), "seconds": stamps[-1] - stamps[0],
                    "catch_up_s": None if killed_at is None else stamps[-1] - killed_at, "copies": len(decisions) - count}
        finally:
            group.stop()


async def main(count: int) -> None:
    one = await run(1, count)
    print(f"1 replica: {one['rate']:,.0f} complaints/s ({one['seconds']:.1f} s for {count:,})", flush=True)
    for replicas in (2, 3):
        many = await run(replicas, count)
        print(f"{replicas} replicas: {many['rate']:,.0f} complaints/s, {many['rate'] / one['rate']:.2f}× one replica", flush=True)
    calm, killed = await run(2, count), await run(2, count, kill=True)
    print(f"2 replicas, one killed at a third: the last decision {killed['catch_up_s']:.1f} s after the kill; "
          f"{killed['seconds']:.1f} s in all against {calm['seconds']:.1f} s without the kill; every complaint routed "
          f"once ({killed['copies']} decisions published again under their id)", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--complaints", type=int, default=20000)
    asyncio.run(main(parser.parse_args().complaints))
