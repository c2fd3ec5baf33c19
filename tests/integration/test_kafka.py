"""The shared Kafka plumbing against a real broker started by deploy/local/kafka.sh."""

import asyncio
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from uuid import uuid4

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient

from services.shared.events.deadletter import VALUE_KEPT
from services.shared.events.envelope import Envelope, InvalidEvent, decode, encode
from services.shared.kafka import consume, dead_letter, ensure_topics, make_producer, publish
from services.shared.topics import ALL_TOPICS, COMPLAINTS, ROSTER
from tests.support import consuming, eventually, recorder
from tests.support.builders import filed
from tests.support.replicas import assignments, stores_on_every_partition


@pytest.fixture(scope="module")
def topics(platform):
    ensure_topics(platform, ALL_TOPICS)
    return platform


@pytest.fixture
async def producer(topics):
    producer = make_producer(topics, client_id="test")
    await producer.start()
    yield producer
    await producer.stop()


def test_topics_are_created_from_the_registry_once(platform):
    created = ensure_topics(platform, ALL_TOPICS)
    assert ensure_topics(platform, ALL_TOPICS) == []
    assert set(created) <= {topic.name for topic in ALL_TOPICS}
    admin = KafkaAdminClient(bootstrap_servers=platform.kafka_bootstrap_servers)
    try:
        described = {t["name"]: t for t in admin.describe_topics([topic.name for topic in ALL_TOPICS])}
        for topic in ALL_TOPICS:
            assert len(described[topic.name]["partitions"]) == topic.partitions, topic.name
        configs = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, ROSTER.name)])
        assert configs["topic"][ROSTER.name]["cleanup.policy"]["value"] == "compact"
        assert configs["topic"][ROSTER.name]["retention.ms"]["value"] == str(ROSTER.retention_ms)
    finally:
        admin.close()


async def test_an_envelope_published_is_consumed_and_a_malformed_record_goes_to_the_dlq(topics, producer):
    good, later = filed(), filed()
    await publish(producer, COMPLAINTS, [good], topics)
    malformed = b'{"type": "retail.complaint.filed.v1", "id": "' + str(uuid4()).encode() + b'", "data": {"severity": "extreme"}}'
    poison = await (await producer.send(COMPLAINTS.name, malformed, key=b"hel-kamppi"))
    await publish(producer, COMPLAINTS, [later], topics)

    received, handler = recorder()
    group = f"test-{uuid4()}"
    async with consuming(COMPLAINTS, handler, group_id=group, settings=topics, producer=producer):
        await eventually(lambda: _true({good.id, later.id} <= {e.id for e in received}), what="both events handled")
        letter = await eventually(lambda: _dead_letter(topics, poison.partition, poison.offset), what="a dead letter")
    assert good in received
    assert letter.data.topic == "complaints"
    assert letter.data.consumer == group
    assert letter.data.key == "hel-kamppi"
    assert letter.data.value == malformed.decode()
    assert "data.severity: Input should be 'low', 'medium', 'high' or 'critical'" in letter.data.reason
    assert "data.customer_ref: Field required" in letter.data.reason


async def test_offsets_are_committed_only_after_the_effect(topics, producer):
    first, second = filed("esp-iso-omena"), filed("esp-iso-omena")
    await publish(producer, COMPLAINTS, [first, second], topics)
    group = f"test-{uuid4()}"
    handled: list = []

    async def failing_on_second(envelope: Envelope) -> None:
        if envelope.id == second.id:
            raise RuntimeError("database unavailable")
        handled.append(envelope.id)

    with pytest.raises(RuntimeError, match="database unavailable"):
        await consume(COMPLAINTS, failing_on_second, group_id=group, settings=topics, producer=producer,
                      stop=asyncio.Event())

    replayed, recording = recorder()
    async with consuming(COMPLAINTS, recording, group_id=group, settings=topics, producer=producer):
        await eventually(lambda: _true(second in replayed), what="the failed event replayed")
    assert first.id in handled
    assert second in replayed

    marker = filed("esp-iso-omena")
    await publish(producer, COMPLAINTS, [marker], topics)
    after_commit, collecting = recorder()
    async with consuming(COMPLAINTS, collecting, group_id=group, settings=topics, producer=producer):
        await eventually(lambda: _true(marker in after_commit), what="the marker event")
    redelivered = {first.id, second.id} & {envelope.id for envelope in after_commit}
    assert not redelivered, "events handled and committed before were delivered again"


async def test_a_consumer_whose_partitions_move_in_the_middle_of_a_batch_goes_on_and_loses_nothing(topics, producer):
    """A second replica joins the group while the first is handling a batch that spans every partition:
    the first does not stop (its commits of the partitions it lost are refused), and every event is
    handled by one replica or the other. On a topic of its own (the complaints topic's layout), which no
    service's worker reads."""
    topic = replace(COMPLAINTS, name=f"test-moves-{uuid4().hex[:8]}")
    ensure_topics(topics, [topic])
    events = [filed(store) for store in stores_on_every_partition(topic, "move", 2) for _ in range(5)]
    await publish(producer, topic, events, topics)
    group, release, handled = f"test-{uuid4()}", asyncio.Event(), set()

    async def held_until_the_group_changes(envelope: Envelope) -> None:
        await release.wait()
        handled.add(envelope.id)

    async with consuming(topic, held_until_the_group_changes, group_id=group, settings=topics, producer=producer) as first:
        async def first_has_everything() -> bool:
            return assignments(topics.kafka_bootstrap_servers, group, topic) == [set(range(topic.partitions))]

        await eventually(first_has_everything, what="the first replica to be given every partition")
        second_handled, second = recorder()
        async with consuming(topic, second, group_id=group, settings=topics, producer=producer):
            async def shared() -> bool:
                given = assignments(topics.kafka_bootstrap_servers, group, topic)
                return given is not None and len(given) == 2 and all(given)

            await eventually(shared, timeout_s=60, what="the second replica to be given some partitions")
            release.set()

            async def all_handled() -> bool:
                assert not first.done(), f"the first replica stopped: {first.exception()!r}"
                return {event.id for event in events} <= handled | {envelope.id for envelope in second_handled}

            await eventually(all_handled, timeout_s=60, what="every event handled by one replica or the other")
        assert not first.done(), f"the first replica stopped: {first.exception()!r}"


async def _true(value: bool) -> bool:
    return value


async def _dead_letter(settings, partition: int, offset: int) -> Envelope | None:
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers, enable_auto_commit=False)
    await consumer.start()
    try:
        dlq = TopicPartition(COMPLAINTS.dlq.name, 0)
        consumer.assign([dlq])
        await consumer.seek_to_beginning(dlq)
        for record in (await consumer.getmany(dlq, timeout_ms=1000)).get(dlq, []):
            letter = decode(record.value, COMPLAINTS.dlq.event_classes)
            if (letter.data.partition, letter.data.offset) == (partition, offset):
                return letter
        return None
    finally:
        await consumer.stop()


async def test_an_operator_lists_dead_letters_and_sends_their_records_back_once_the_cause_is_fixed(topics, producer):
    """A consumer with a bug dead-letters a valid event; `retail dlq list` shows it, `retail dlq replay`
    sends the very record back, and the fixed consumer applies it. A letter kept only in part is refused."""
    rejected = filed("tre-koskikeskus")
    sent = await publish_one(producer, rejected, topics)

    async def buggy(envelope: Envelope) -> None:
        if envelope.id == rejected.id:
            raise InvalidEvent("store tre-koskikeskus is unknown")  # the bug: the store was added later

    group = f"test-{uuid4()}"
    async with consuming(COMPLAINTS, buggy, group_id=group, settings=topics, producer=producer):
        await eventually(lambda: _dead_letter(topics, sent.partition, sent.offset), what="the event dead-lettered")
    huge = SimpleNamespace(topic=COMPLAINTS.name, partition=0, offset=2**40, key=b"hel-kamppi", value=b"x" * (VALUE_KEPT + 1))
    partial = dead_letter(huge, "too large", "test")  # a letter that kept only the first part of its record
    await publish(producer, COMPLAINTS.dlq, [partial], topics)

    listed = await retail(topics, "dlq", "list", "complaints")
    [line] = [line for line in listed.stdout.splitlines() if f"complaints[{sent.partition}]@{sent.offset}\t" in line
              and "store tre-koskikeskus is unknown" in line]
    assert "\treplayable\t" in line and "key tre-koskikeskus" in line
    offset = int(line.split("\t")[0])
    [refused_line] = [line for line in listed.stdout.splitlines() if "not replayable: only the first part" in line]
    refused = int(refused_line.split("\t")[0])

    not_all = await retail(topics, "dlq", "replay", "complaints", "--offset", str(offset), "--offset", str(refused))
    assert not_all.returncode != 0 and f"offset {refused}: only the first part" in not_all.stderr

    replayed = await retail(topics, "dlq", "replay", "complaints", "--offset", str(offset))
    assert replayed.returncode == 0 and "sent 1 records back to complaints" in replayed.stdout, replayed.stderr
    fixed, recording = recorder()
    async with consuming(COMPLAINTS, recording, group_id=group, settings=topics, producer=producer):
        await eventually(lambda: _true(rejected.id in {e.id for e in fixed}), what="the record sent back applied")
    [again] = [e for e in fixed if e.id == rejected.id]
    assert again == rejected  # the same event, id and all: a consumer that had applied it would drop it


async def publish_one(producer, envelope: Envelope, settings):
    return await (await producer.send(COMPLAINTS.name, encode(envelope), key=COMPLAINTS.key(envelope.data)))


async def retail(settings, *args: str) -> subprocess.CompletedProcess:
    return await asyncio.to_thread(
        subprocess.run, [str(Path(sys.executable).parent / "retail"), *args], capture_output=True, text=True, timeout=120,
        env={**os.environ, "RETAIL_KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers},
    )
