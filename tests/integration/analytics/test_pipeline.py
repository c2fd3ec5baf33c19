"""The analytics worker's pipeline metrics on the real broker: a consumer group's lag as it falls
behind and catches up, and the records a DLQ gains when the worker dead-letters poison; and poison
(a record near the size limit, events far ahead, a record on the scheduling topic) that stops none of
the events after it; and garbage on the reports changelog, which a reports replica skips."""

import asyncio
import hashlib
import json
import os
import time
from datetime import UTC, datetime, timedelta

import httpx
import orjson
import pytest
from kafka import KafkaConsumer
from kafka.structs import OffsetAndMetadata, TopicPartition

from services.analytics.pipeline import DLQ, DLQ_TOPICS, LAG
from services.analytics.topics import CHANGELOGS, REPORTS_TABLE
from services.shared.events.envelope import encode, wrap
from services.shared.kafka import ensure_topics, make_producer
from services.shared.topics import COMPLAINTS, SCHEDULING, Topic
from tests.support import eventually, read_all
from tests.support.analytics import REGION, Analytics, Reports, shift
from tests.support.builders import filed
from tests.support.infra import own_platform

GROUP = "test-pipeline"
TOPIC = Topic("test.pipeline", "What the test group reads.", 3, "", "delete", 60 * 60 * 1000, ())
POISON = [b"not json", b'{"type": "retail.complaint.filed.v1"}', bytes([0xFF, 0xFE])]

Reading = dict[tuple[str, tuple], float]


@pytest.fixture(scope="module")
def platform(infra_dir):
    """A broker of this module's own: the poison it publishes must not reach other tests' readers."""
    with own_platform(infra_dir / "kafka-poisoned") as platform:
        yield platform


@pytest.fixture(scope="module")
def worker(platform, tmp_path_factory):
    running = Analytics(platform, str(tmp_path_factory.mktemp("analytics")))
    with pytest.MonkeyPatch.context() as env:  # the process takes its environment when it starts
        env.setenv("ANALYTICS_PIPELINE_GROUPS", json.dumps(["analytics", GROUP]))
        env.setenv("ANALYTICS_PIPELINE_REFRESH_S", "0.2")
        running.start()
    yield running
    running.process.stop()


def lag_of(group: str, topic: str) -> tuple[str, tuple]:
    return LAG, (("group", group), ("topic", topic))


def dlq_of(topic: str) -> tuple[str, tuple]:
    return DLQ, (("topic", topic),)


async def reading(worker: Analytics) -> Reading:
    """The pipeline samples on the worker's /metrics; empty while it is not up."""
    return await worker.scrape(lambda sample: sample.name in (LAG, DLQ))


async def reading_where(worker: Analytics, holds, what: str) -> Reading:
    last: Reading = {}

    async def probe() -> Reading | None:
        nonlocal last
        last = await reading(worker)
        return last if last and holds(last) else None

    try:
        return await eventually(probe, timeout_s=90, what=what)
    except AssertionError as error:
        raise AssertionError(f"{error}; last reading: {last}") from None


def commit(platform, offsets: dict[int, int]) -> None:
    consumer = KafkaConsumer(bootstrap_servers=platform.kafka_bootstrap_servers, group_id=GROUP, enable_auto_commit=False)
    try:
        consumer.commit({TopicPartition(TOPIC.name, p): OffsetAndMetadata(offset, "", -1) for p, offset in offsets.items()})
    finally:
        consumer.close()


def read_to_the_end(platform) -> int:
    """Reads what the group has not read yet, commits, and returns how many records that was."""
    consumer = KafkaConsumer(bootstrap_servers=platform.kafka_bootstrap_servers, group_id=GROUP,
                             enable_auto_commit=False, auto_offset_reset="earliest")
    try:
        partitions = [TopicPartition(TOPIC.name, p) for p in range(TOPIC.partitions)]
        consumer.assign(partitions)
        ends = consumer.end_offsets(partitions)
        read, deadline = 0, time.monotonic() + 30
        while any(consumer.position(tp) < ends[tp] for tp in partitions):
            assert time.monotonic() < deadline, "the test group could not read its records"
            read += sum(len(batch) for batch in consumer.poll(timeout_ms=200).values())
        consumer.commit()
        return read
    finally:
        consumer.close()


async def send(platform, records: list[tuple[str, int | None, bytes | None, bytes]]) -> list:
    """Sends (topic, partition, key, value) records, waits for every acknowledgement and returns their metadata."""
    producer = make_producer(platform, client_id="test-pipeline")
    await producer.start()
    try:
        sends = [await producer.send(topic, value, key=key, partition=partition) for topic, partition, key, value in records]
        return await asyncio.gather(*sends)
    finally:
        await producer.stop()


async def test_a_groups_lag_grows_while_it_does_not_read_and_is_0_once_it_has_read(platform, worker):
    ensure_topics(platform, [TOPIC])
    await send(platform, [(TOPIC.name, p, None, b"r") for p, count in {0: 6, 1: 3, 2: 1}.items() for _ in range(count)])
    commit(platform, {0: 4})  # 2 of partition 0 left, and partitions 1 and 2 were never read: 3 + 1
    await reading_where(worker, lambda r: r.get(lag_of(GROUP, TOPIC.name)) == 6, "the group's lag to be 6")

    await send(platform, [(TOPIC.name, 1, None, b"r")] * 5)
    await reading_where(worker, lambda r: r.get(lag_of(GROUP, TOPIC.name)) == 11, "the group's lag to grow to 11")

    assert read_to_the_end(platform) == 11
    await reading_where(worker, lambda r: r.get(lag_of(GROUP, TOPIC.name)) == 0, "the group's lag to fall to 0")


async def test_the_dlq_gains_one_record_for_each_poison_record_the_worker_dead_letters(platform, worker):
    def caught_up(r: Reading) -> bool:
        return r.get(lag_of("analytics", COMPLAINTS.name)) == 0 and dlq_of(COMPLAINTS.dlq.name) in r

    # A first poison record makes sure the worker has committed on complaints, so that a lag of 0
    # means it has read (and dead-lettered) everything there, also records of earlier tests.
    await send(platform, [(COMPLAINTS.name, None, b"mhm-poison", POISON[0])])
    before = await reading_where(worker, caught_up, "the worker to read complaints to the end")
    assert {dlq_of(topic) for topic in DLQ_TOPICS} <= set(before), "a series for every DLQ, also the empty ones"

    await send(platform, [(COMPLAINTS.name, None, b"mhm-poison", value) for value in POISON])
    expected = before[dlq_of(COMPLAINTS.dlq.name)] + len(POISON)
    after = await reading_where(worker, lambda r: caught_up(r) and r[dlq_of(COMPLAINTS.dlq.name)] >= expected,
                                "the worker to dead-letter the poison")
    assert after[dlq_of(COMPLAINTS.dlq.name)] == expected


def complaints_filed_at(store: str):
    def keep(sample) -> bool:
        return sample.name == "retail_complaints_filed_total" and sample.labels.get("store") == store

    return keep


async def filed_count(worker: Analytics, store: str, expected: int) -> bool:
    return sum((await worker.scrape(complaints_filed_at(store))).values()) == expected


async def test_a_record_near_the_size_limit_is_dead_lettered_and_the_events_after_it_are_counted(platform, worker):
    store = "mhm-oversized"
    raw = os.urandom(900 * 1024)  # its base64 copy alone would be over the producer's 1 MiB limit
    after = [encode(filed(store)) for _ in range(20)]
    await send(platform, [(COMPLAINTS.name, None, store.encode(), value) for value in [raw, *after]])
    await eventually(lambda: filed_count(worker, store, 20), timeout_s=90, what="the 20 complaints after it counted")

    letters = await read_all(platform.kafka_bootstrap_servers, COMPLAINTS.dlq)
    [letter] = [e.data for e in letters if e.data.consumer == "analytics" and e.data.value_sha256 == hashlib.sha256(raw).hexdigest()]
    assert (letter.value_size, letter.value_truncated, letter.value_encoding) == (len(raw), True, "base64")


async def test_events_far_ahead_stop_nothing_and_the_events_after_them_are_counted(platform, worker):
    store = "mhm-far-future"
    beyond, last_moment = far_ahead(store, "9999-12-31T23:59:59Z"), far_ahead(store, "2099-12-31T23:59:59Z")
    events = [encode(filed(store)), beyond, last_moment, *(encode(filed(store)) for _ in range(5))]
    sent = await send(platform, [(COMPLAINTS.name, None, store.encode(), value) for value in events])
    await eventually(lambda: filed_count(worker, store, 7), timeout_s=90, what="every valid event counted")

    letters = await read_all(platform.kafka_bootstrap_servers, COMPLAINTS.dlq)
    assert [e.data.reason for e in letters if e.data.consumer == "analytics" and e.data.offset == sent[1].offset
            and e.data.partition == sent[1].partition], "the event beyond the contract's times is dead-lettered"


async def test_poison_on_the_scheduling_topic_is_dead_lettered_and_the_shift_after_it_counted(platform, worker):
    store, now = "mhm-poisoned-shifts", datetime.now(UTC)
    on_duty = wrap(shift(store, now - timedelta(hours=1), now + timedelta(hours=8)), source="/tests", time=now)
    sent = await send(platform, [(SCHEDULING.name, None, store.encode(), value) for value in (POISON[1], encode(on_duty))])
    on_duty_key = ("retail_staff_on_duty", (("region", REGION), ("store", store)))

    async def counted() -> bool:
        return (await worker.samples()).get(on_duty_key) == 1

    await eventually(counted, timeout_s=90, what="the shift after the poison on duty")
    letters = await read_all(platform.kafka_bootstrap_servers, SCHEDULING.dlq)
    [letter] = [e.data for e in letters if e.data.consumer == "analytics" and e.data.offset == sent[0].offset
                and e.data.partition == sent[0].partition]
    assert "is not an event type of this topic" in letter.reason


def far_ahead(store: str, at: str) -> bytes:
    document = orjson.loads(encode(filed(store)))
    document["time"] = document["data"]["filed_at"] = at
    return orjson.dumps(document)


async def test_garbage_on_the_reports_changelog_is_skipped_and_a_new_replica_serves_past_it(platform, worker):
    store, changelog = "mhm-garbage", CHANGELOGS[REPORTS_TABLE]
    await send(platform, [(COMPLAINTS.name, None, store.encode(), encode(filed(store))) for _ in range(3)])
    await eventually(lambda: filed_count(worker, store, 3), timeout_s=90, what="the complaints before the garbage counted")
    await send(platform, [(changelog.name, partition, os.urandom(16), os.urandom(64)) for partition in range(changelog.partitions)])
    await send(platform, [(COMPLAINTS.name, None, store.encode(), encode(filed(store))) for _ in range(2)])
    await eventually(lambda: filed_count(worker, store, 5), timeout_s=90, what="the complaints after the garbage counted")

    reports = Reports(platform)  # a replica that starts now reads the garbage on its way to the end
    try:
        async def all_filed() -> bool:
            found = await reports.report("satisfaction", store_id=store)
            return found is not None and found["satisfaction"]["complaints_filed"] == 5

        await eventually(all_filed, timeout_s=90, what="every complaint in the new replica's report")
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{reports.port}") as client:
            assert (await client.get("/readyz")).status_code == 200
    finally:
        reports.process.stop()
