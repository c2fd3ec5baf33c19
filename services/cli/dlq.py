"""`retail dlq`: an operator reads a topic's dead letters and, once their cause is fixed (a consumer
that accepts them deployed, a producer corrected), sends the records back to their topic. A record
sent back is the original, byte for byte and under its key, checked against the hash its dead letter
holds; consumers drop an event they already applied, so sending one back twice does no harm."""

import base64
import hashlib
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition

from services.shared.events.deadletter import DeadLetter
from services.shared.events.envelope import InvalidEvent, decode
from services.shared.kafka import client_options, make_producer, send_all, stop_producer
from services.shared.settings import PlatformSettings
from services.shared.topics import TOPICS, Topic

DLQ_TOPICS = {topic.name: topic for topic in TOPICS}


class NotReplayable(ValueError):
    """A dead letter whose record cannot be sent back as it was; the message says why."""


@dataclass(frozen=True)
class Letter:
    offset: int  # on the DLQ
    letter: DeadLetter | None  # None: the DLQ record itself is not a dead letter
    problem: str = ""


def topic_named(name: str) -> Topic:
    if name not in DLQ_TOPICS:
        raise ValueError(f"no such topic: {name!r}; one of {', '.join(sorted(DLQ_TOPICS))}")
    return DLQ_TOPICS[name]


async def letters(platform: PlatformSettings, topic: Topic) -> list[Letter]:
    """Every record on the topic's DLQ now, oldest first."""
    dlq = topic.dlq
    consumer = AIOKafkaConsumer(bootstrap_servers=platform.kafka_bootstrap_servers, group_id=None,
                                enable_auto_commit=False, **client_options(platform))
    await consumer.start()
    try:
        partitions = [TopicPartition(dlq.name, p) for p in range(dlq.partitions)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        found: list[Letter] = []
        while any([await consumer.position(tp) < end for tp, end in ends.items()]):
            for records in (await consumer.getmany(timeout_ms=1000)).values():
                for record in records:
                    try:
                        found.append(Letter(record.offset, decode(record.value, dlq.event_classes).data))
                    except InvalidEvent as error:
                        found.append(Letter(record.offset, None, str(error)))
        return sorted(found, key=lambda letter: letter.offset)
    finally:
        await consumer.stop()


def original(letter: DeadLetter) -> tuple[bytes | None, bytes]:
    """The dead record's key and value, exactly as they were, or NotReplayable."""
    if letter.value is None:
        raise NotReplayable("the record had no value")
    if letter.value_truncated:
        raise NotReplayable(f"only the first part of its {letter.value_size} bytes was kept")
    value = base64.b64decode(letter.value) if letter.value_encoding == "base64" else letter.value.encode()
    if hashlib.sha256(value).hexdigest() != letter.value_sha256:
        raise NotReplayable("the kept value does not match the hash of the original")
    key = None if letter.key is None else letter.key.encode()
    return key, value


async def replay(platform: PlatformSettings, topic: Topic, offsets: list[int]) -> int:
    """Sends the records of the dead letters at `offsets` back to `topic`; all or none (NotReplayable)."""
    by_offset = {found.offset: found for found in await letters(platform, topic)}
    records = []
    for offset in offsets:
        found = by_offset.get(offset)
        if found is None or found.letter is None:
            raise NotReplayable(f"offset {offset}: {'no such dead letter' if found is None else found.problem}")
        if found.letter.topic != topic.name:
            raise NotReplayable(f"offset {offset}: its record was on {found.letter.topic}, not {topic.name}")
        try:
            key, value = original(found.letter)
        except NotReplayable as error:
            raise NotReplayable(f"offset {offset}: {error}") from None
        records.append((topic.name, key, value))
    producer = make_producer(platform, client_id="retail-dlq-replay")
    await producer.start()
    try:
        await send_all(producer, records, platform.kafka_send_timeout_s)
    finally:
        await stop_producer(producer)
    return len(records)


def listing(found: list[Letter]) -> list[str]:
    lines = []
    for item in found:
        letter = item.letter
        if letter is None:
            lines.append(f"{item.offset}\tnot a dead letter: {item.problem}")
            continue
        try:
            original(letter)
            replayable = "replayable"
        except NotReplayable as error:
            replayable = f"not replayable: {error}"
        lines.append(f"{item.offset}\t{letter.at.isoformat()}\t{letter.consumer}\t{letter.topic}[{letter.partition}]@"
                     f"{letter.offset}\tkey {letter.key}\t{letter.value_size} bytes\t{replayable}\t{letter.reason}")
    return lines
