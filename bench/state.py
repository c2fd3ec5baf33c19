"""The state B5 measures, written straight to the changelogs the processes restore or follow: N open
complaints across S stores, as the escalation and analytics workers would have written them after
counting N `complaint.filed` events. Building it through the pipeline would take hours.

The records are made by the services' own code, not by hand: the escalation worker's `on_filed`
handler routes each complaint into dict-backed tables (its `tables.State`), a share of the cases is
then acknowledged or breached through `Case`'s own methods, and the analytics worker's `StoreTally`
counts the same complaints into its totals and windows. What ends up in those dicts is what the
workers' tables hold, byte for byte; it is written to the changelog partition of the complaint's
store (the partition the worker would have written it to) as faust does: raw key, raw value, no headers.

Times: the complaints are filed over the last `days` (so the analytics windows of those days fill),
but routed `ROUTED_AHEAD` from now, so that no SLA deadline passes while a worker is measured (a
tick that breached cases would add work the measure is not about). A case's fields and sizes are
those of any other case."""

import asyncio
import json
import os
import random
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner

from services.analytics.handlers import Received, StoreTally
from services.analytics.settings import AnalyticsSettings
from services.analytics.topics import CHANGELOGS as ANALYTICS_CHANGELOGS
from services.escalation import handlers, tables
from services.escalation.domain.rules import load_rules
from services.escalation.domain.sla import check
from services.escalation.settings import DEFAULT_RULES
from services.escalation.topics import CHANGELOGS as ESCALATION_CHANGELOGS
from services.shared.events.complaints import Category, Channel, ComplaintFiled, Mood, Severity
from services.shared.events.envelope import encode, wrap
from services.shared.events.fields import Tier
from services.shared.events.roster import OnDuty, RosterPublished
from services.shared.kafka import client_options
from services.shared.settings import PlatformSettings
from services.shared.topics import STORE_PARTITIONS
from tests.support.infra import REPO

ROUTED_AHEAD = timedelta(days=2)
ACKNOWLEDGED, BREACHED = 0.3, 0.2  # shares of the cases acknowledged, and raised once past a deadline
STORES_PER_REGION = 50
# The counting position of the generated events: a topic name no consumer reads, so that a real
# event the benchmark sends afterwards (offset 0 of a real topic) is counted, not taken for a replay.
GENERATED = "bench.generated"
_partitioner = DefaultPartitioner()


@dataclass(frozen=True)
class Shape:
    complaints: int
    stores: int
    days: int = 14
    seed: int = 15

    @property
    def places(self) -> list[tuple[str, str]]:
        """(region, store) of every store, STORES_PER_REGION to a region."""
        return [(f"bench-region-{n // STORES_PER_REGION:02d}", f"bench-store-{n:04d}") for n in range(self.stores)]


@dataclass
class Written:
    """Records written to each changelog."""

    records: dict[str, int]
    seconds: float


def store_partition(store_id: str) -> int:
    """The partition of a store's complaints (the producers' default partitioner on the store key)."""
    return _partitioner(store_id.encode(), list(range(STORE_PARTITIONS)), list(range(STORE_PARTITIONS)))


def complaints(shape: Shape, now: datetime) -> Iterator[ComplaintFiled]:
    """The filed complaints, oldest first, spread evenly over the last `days`, each at a store in turn."""
    rng = random.Random(shape.seed)
    example = ComplaintFiled.model_config["json_schema_extra"]["examples"][0]
    places, span = shape.places, timedelta(days=shape.days)
    for n in range(shape.complaints):
        region, store = places[n % len(places)]
        yield ComplaintFiled.model_validate({
            **example, "complaint_id": str(UUID(int=rng.getrandbits(128), version=4)), "store_id": store,
            "region_id": region, "filed_at": (now - span + span * n / shape.complaints).isoformat(),
            "customer_ref": f"cref_{rng.getrandbits(128):032x}", "filed_by": f"emp-{rng.randrange(10_000):04d}",
            "channel": rng.choice(list(Channel)), "category": rng.choice(list(Category)),
            "severity": rng.choices(list(Severity), weights=(30, 40, 25, 5))[0],
            "mood": rng.choices(list(Mood), weights=(30, 40, 25, 5))[0],
            "amount": {"minor_units": rng.randrange(100, 50_000), "currency": "EUR"},
            "prior_complaints_30d": rng.choices((0, 1, 2, 3), weights=(70, 20, 7, 3))[0],
        })


def roster(region: str, store: str, at: datetime) -> RosterPublished:
    """Someone on duty at every store tier around `at`, so that routing names a person."""
    starts, ends = at - timedelta(days=1), at + timedelta(days=7)
    return RosterPublished(store_id=store, region_id=region, valid_from=starts, on_duty=[
        OnDuty(staff_id=f"{tier.replace('_', '-')}-{store.rsplit('-', 1)[1]}", role=tier, starts_at=starts, ends_at=ends)
        for tier in (Tier.associate, Tier.coordinator, Tier.store_manager)
    ])


def escalation_records(shape: Shape, now: datetime, chunk: int = 10_000) -> Iterator[tuple[str, int, bytes, bytes]]:
    """(changelog, partition, key, value) of the escalation worker's rosters, routing marks and cases."""
    rng = random.Random(shape.seed + 1)
    routed_at = now + ROUTED_AHEAD
    rules = load_rules(DEFAULT_RULES)
    rosters: dict[bytes, bytes] = {}
    for region, store in shape.places:
        record = encode(wrap(roster(region, store, routed_at), source="/services/scheduling", time=now))
        rosters[store.encode()] = record
        yield ESCALATION_CHANGELOGS["rosters"].name, store_partition(store), store.encode(), record
    partitions = {store: store_partition(store) for _, store in shape.places}
    state = tables.State(rules, tables.Rosters(rosters), {}, tables.Cases({}, timedelta(days=7)))
    filed = complaints(shape, now)
    while batch := [complaint for complaint in (next(filed, None) for _ in range(chunk)) if complaint is not None]:
        state.routed.clear()
        state.cases.table.clear()
        for complaint in batch:
            partition = partitions[complaint.store_id]
            handlers.on_filed(state, wrap(complaint, source="/services/complaints", time=routed_at), partition)
            case = state.cases.get(complaint.complaint_id)
            if (luck := rng.random()) < ACKNOWLEDGED:
                state.cases.keep(case.acknowledged(routed_at + timedelta(minutes=5)))
            elif luck < ACKNOWLEDGED + BREACHED:
                late = case.acknowledge_by or case.resolve_by
                breach = check(case.timer, rules.for_region(case.region_id), state.rosters.of(case.store_id), late)
                state.cases.keep(case.breached(breach, late))
        where = {complaint.complaint_id.bytes: partitions[complaint.store_id] for complaint in batch}
        for key, value in state.routed.items():
            yield ESCALATION_CHANGELOGS["routed"].name, where[key], key, value
        for key, value in state.cases.table.items():
            yield ESCALATION_CHANGELOGS["cases"].name, where[key], key, value


def analytics_records(shape: Shape, now: datetime, chunk: int = 20_000) -> Iterator[tuple[str, int, bytes, bytes]]:
    """(changelog, partition, key, value) of the analytics worker's totals, windows and open signals
    after counting the complaints (the last value of each key, as compaction leaves them)."""
    settings = AnalyticsSettings()
    totals: dict[bytes, tuple[bytes, int]] = {}
    reports: dict[bytes, tuple[bytes, int]] = {}
    tally = StoreTally(_Values(totals), _Values(reports), settings.signal_rules, settings.window_rules,  # type: ignore[arg-type]
                       decoded=shape.stores)
    partitions = {store: store_partition(store) for _, store in shape.places}
    filed = complaints(shape, now)
    offset = 0
    while batch := [complaint for complaint in (next(filed, None) for _ in range(chunk)) if complaint is not None]:
        received = []
        for complaint in batch:
            received.append(Received(wrap(complaint, source="/services/complaints", time=complaint.filed_at),
                                     (GENERATED, offset), partitions[complaint.store_id]))
            offset += 1
        counted = tally.count(received)
        for key, (value, partition) in counted.reports.items():
            if value is None:
                reports.pop(key, None)
            else:
                reports[key] = value, partition
        totals.update(counted.totals)
    for name, kept in ((ANALYTICS_CHANGELOGS["totals"].name, totals), (ANALYTICS_CHANGELOGS["reports"].name, reports)):
        for key, (value, partition) in kept.items():
            yield name, partition, key, value


class _Values:
    """A table of (value, partition) as StoreTally reads the worker's table of values."""

    def __init__(self, kept: dict[bytes, tuple[bytes, int]]) -> None:
        self.kept = kept

    def get(self, key: bytes, default: bytes | None = None) -> bytes | None:
        found = self.kept.get(key)
        return default if found is None else found[0]

    def __contains__(self, key: object) -> bool:
        return key in self.kept


async def write(platform: PlatformSettings, records: Iterable[tuple[str, int, bytes, bytes]]) -> Written:
    """Sends the records to their partitions, waiting for them every few thousand."""
    producer = AIOKafkaProducer(bootstrap_servers=platform.kafka_bootstrap_servers, client_id="bench-state", acks=1,
                                linger_ms=20, max_batch_size=1_000_000, max_request_size=8_000_000,
                                **client_options(platform))
    await producer.start()
    counts: dict[str, int] = {}
    started = asyncio.get_running_loop().time()
    try:
        pending = []
        for topic, partition, key, value in records:
            pending.append(await producer.send(topic, value=value, key=key, partition=partition))
            counts[topic] = counts.get(topic, 0) + 1
            if len(pending) >= 5000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return Written(counts, asyncio.get_running_loop().time() - started)


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


PARTS = {"escalation": escalation_records, "analytics": analytics_records}


async def written_in_parallel(platform: PlatformSettings, shape: Shape, at: datetime) -> Written:
    """Each worker's state made and written by a process of its own (python -m bench.state), both at once."""
    started = asyncio.get_running_loop().time()
    children = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.state", part, str(shape.complaints), str(shape.stores), str(shape.days), at.isoformat(),
            env={**os.environ, "RETAIL_KAFKA_BOOTSTRAP_SERVERS": platform.kafka_bootstrap_servers, "PYTHONPATH": str(REPO)},
            cwd=REPO, stdout=asyncio.subprocess.PIPE,
        )
        for part in PARTS
    ]
    records: dict[str, int] = {}
    for child in children:
        out, _ = await child.communicate()
        if child.returncode != 0:
            raise RuntimeError(f"bench.state failed ({child.returncode})")
        records.update(json.loads(out.decode().strip().splitlines()[-1]))
    return Written(records, asyncio.get_running_loop().time() - started)


if __name__ == "__main__":
    part, complaints_, stores_, days_, at = sys.argv[1:6]
    made = PARTS[part](Shape(int(complaints_), int(stores_), int(days_)), datetime.fromisoformat(at))
    print(json.dumps(asyncio.run(write(PlatformSettings(), made)).records))
