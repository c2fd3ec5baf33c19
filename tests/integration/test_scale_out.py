"""The escalation worker scaled out on Kafka's consumer group, on a broker of this module's own: three
replicas share the 12 partitions of the complaints topic; one is killed with SIGKILL while complaints
arrive, and its partitions and their tables move to the other two (held as standbys, or restored from
the changelogs); a replica is added and the partitions are spread over three again. Through all of it
every complaint is routed once, a critical one paged once, and every SLA deadline breached once. (The
analytics worker's run is in the fault suite: tests/faults/test_scale_out.py.)"""

from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest

from services.shared.events.envelope import Envelope
from services.shared.settings import PlatformSettings
from services.shared.topics import COMPLAINTS, ESCALATIONS
from tests.support import read_all
from tests.support.analytics import publish_events
from tests.support.escalation import Worker, tick, worker_has_read
from tests.support.replicas import BATCH, Replicas, complaints, scale_out_broker


@pytest.fixture(scope="module")
def broker(tmp_path_factory) -> PlatformSettings:
    with scale_out_broker(tmp_path_factory.mktemp("scale-out-kafka")) as platform:
        yield platform


async def decisions(platform: PlatformSettings) -> dict[str, dict]:
    """Each complaint's routing decisions, pages and breaches (by deadline) on the escalations topic, by
    the events' ids (a record published again under its id is the at-least-once delivery consumers drop)."""
    found: dict[str, dict] = defaultdict(lambda: defaultdict(set))
    for envelope in await read_all(platform.kafka_bootstrap_servers, ESCALATIONS):
        kind = envelope.type.split(".")[-2]
        key = kind if kind != "breached" else (kind, envelope.data.tier, envelope.data.deadline_kind, envelope.data.deadline)
        found[str(envelope.data.complaint_id)][key].add(envelope.id)
    return found


def missing(found: dict[str, dict], filed: list[Envelope], breaches: int = 0) -> list[str]:
    """The complaints not yet routed, or breached fewer than `breaches` times."""
    return [str(e.data.complaint_id) for e in filed
            if not (mine := found[str(e.data.complaint_id)])["routed"] or sum(isinstance(k, tuple) for k in mine) < breaches]


async def test_escalation_replicas_share_partitions_and_take_over_a_killed_ones_routing_and_timers_once(broker, tmp_path):
    replicas = Replicas("escalation", lambda data_dir, env: Worker(broker, data_dir, env=env), tmp_path)
    filed: list[Envelope] = []

    async def done(batch: list[Envelope], breaches: int = 0) -> bool:
        return not missing(await decisions(broker), batch, breaches)

    def left(batch: list[Envelope], breaches: int = 0):
        async def detail() -> str:
            return f"{len(missing(await decisions(broker), batch, breaches))} of {len(batch)} complaints not done"
        return detail

    try:
        await replicas.started(broker, COMPLAINTS, "a", "b", "c")
        filed += (first := complaints(BATCH))
        await publish_events(broker, COMPLAINTS, first)
        await replicas.until(lambda: done(first), "the first complaints to be routed", left(first))
        # Every SLA deadline of the first complaints passes: each is breached once.
        await tick(broker, datetime.now(UTC) + timedelta(days=3))
        await replicas.until(lambda: done(first, 1), "the first complaints' breaches", left(first, 1))

        # A replica is killed while complaints arrive: the other two take its partitions.
        filed += (second := complaints(BATCH))
        await replicas.killed_while("a", broker, COMPLAINTS, publish_events(broker, COMPLAINTS, second))
        await replicas.until(lambda: done(second), "complaints filed across the kill to be routed", left(second))

        # A replica is added: three share the partitions again. The clock passes the later complaints'
        # deadlines, and the first complaints' next ones, on partitions that moved twice.
        await replicas.started(broker, COMPLAINTS, "d")
        filed += (third := complaints(BATCH))
        await publish_events(broker, COMPLAINTS, third)
        await replicas.until(lambda: done(third), "complaints filed after the addition to be routed", left(third))
        await tick(broker, datetime.now(UTC) + timedelta(days=6))
        await replicas.until(lambda: done(second + third, 1), "the later complaints' breaches", left(second + third, 1))
        await replicas.until(lambda: done(first, 2), "the first complaints' second breaches", left(first, 2))
        await replicas.until(lambda: worker_has_read(broker, COMPLAINTS), "the replicas to have read every complaint")

        found = await decisions(broker)
        for envelope in filed:
            complaint, mine = envelope.data, found[str(envelope.data.complaint_id)]
            assert len(mine["routed"]) == 1, f"{complaint.complaint_id} routed {len(mine['routed'])} times"
            paged = len(mine["paged"])
            assert paged == (complaint.severity == "critical"), f"{complaint.complaint_id} paged {paged} times"
            breaches = {key: ids for key, ids in mine.items() if isinstance(key, tuple)}
            assert all(len(ids) == 1 for ids in breaches.values()), f"{complaint.complaint_id} breached twice: {breaches}"
    finally:
        replicas.stop()
