"""The Kafka plumbing every service uses: topic creation from the registry, the producer,
publishing, and a consumer that commits offsets only after the effect."""

import asyncio
import base64
import codecs
import contextlib
import hashlib
import ssl
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import TopicAlreadyExistsError
from prometheus_client import Counter

from services.shared.clock import Clock, utc_now
from services.shared.events.deadletter import KEY_KEPT, REASON_KEPT, VALUE_KEPT, DeadLetter
from services.shared.events.envelope import KAFKA_HEADERS, Envelope, InvalidEvent, decode, encode, wrap
from services.shared.settings import KafkaSecurityProtocol, PlatformSettings
from services.shared.topics import Topic

log = structlog.get_logger()


def client_options(settings: PlatformSettings) -> dict[str, Any]:
    """How every Kafka client (aiokafka's and kafka-python's take the same names) reaches the brokers:
    as the service's own SCRAM user when the brokers are locked, over TLS with SASL_SSL."""
    protocol = settings.kafka_security_protocol
    if protocol is KafkaSecurityProtocol.PLAINTEXT:
        return {"security_protocol": protocol.value}
    tls = protocol is KafkaSecurityProtocol.SASL_SSL
    return {
        "security_protocol": protocol.value,
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": settings.kafka_sasl_username,
        "sasl_plain_password": settings.kafka_sasl_password.get_secret_value(),
        "ssl_context": ssl.create_default_context(cafile=settings.kafka_ssl_ca_file) if tls else None,
    }


def ensure_topics(settings: PlatformSettings, topics: Iterable[Topic], timeout_s: float = 60.0) -> list[str]:
    """Creates the topics that do not exist yet and waits until every partition of them has a
    leader; returns the names it created. Safe to repeat, also from several processes at once."""
    topics = list(topics)
    replication = settings.kafka_replication_factor
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers, client_id="retail-admin",
                             **client_options(settings))
    try:
        existing = set(admin.list_topics())
        missing = [
            NewTopic(
                name=topic.name,
                num_partitions=topic.partitions,
                replication_factor=replication,
                topic_configs={
                    "cleanup.policy": topic.cleanup_policy,
                    "retention.ms": str(topic.retention_ms),
                    "min.insync.replicas": str(min(2, replication)),
                },
            )
            for topic in topics
            if topic.name not in existing
        ]
        created = []
        for new_topic in missing:
            try:
                admin.create_topics([new_topic])
                created.append(new_topic.name)
            except TopicAlreadyExistsError:  # another process created it meanwhile
                pass
        _wait_for_leaders(admin, topics, timeout_s)
        return created
    finally:
        admin.close()


def _wait_for_leaders(admin: KafkaAdminClient, topics: list[Topic], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        described = {entry["name"]: entry["partitions"] for entry in admin.describe_topics([t.name for t in topics])}
        waiting = [
            topic.name
            for topic in topics
            if len(described.get(topic.name, [])) != topic.partitions
            or any(partition["leader_id"] < 0 for partition in described[topic.name])
        ]
        if not waiting:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"topics without a leader after {timeout_s}s: {', '.join(waiting)}")
        time.sleep(0.2)


def make_producer(settings: PlatformSettings, client_id: str) -> AIOKafkaProducer:
    """An idempotent producer (acks=all): a send the broker acknowledged is on every in-sync replica."""
    return AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        client_id=client_id,
        enable_idempotence=True,
        acks="all",
        linger_ms=settings.kafka_linger_ms,
        max_batch_size=settings.kafka_max_batch_bytes,
        **client_options(settings),
    )


async def send_all(producer: AIOKafkaProducer, records: Iterable[tuple[str, bytes | None, bytes]], timeout_s: float) -> None:
    """Sends (topic, key, value) records, each a CloudEvent, in order, then waits for every acknowledgement. On
    TimeoutError the outcome is unknown: the caller retries, and consumers drop duplicates by event id."""
    async with asyncio.timeout(timeout_s):
        sends = [await producer.send(topic, value, key=key, headers=KAFKA_HEADERS) for topic, key, value in records]
        await asyncio.gather(*sends)


async def publish(
    producer: AIOKafkaProducer, topic: Topic, envelopes: Iterable[Envelope], settings: PlatformSettings
) -> None:
    records = ((topic.name, topic.key(envelope.data), encode(envelope)) for envelope in envelopes)
    await send_all(producer, records, settings.kafka_send_timeout_s)


async def kafka_ready(producer: AIOKafkaProducer | None, timeout_s: float = 2.0) -> None:
    """Raises unless the producer has started and a broker answers it within the timeout."""
    if producer is None:
        raise ConnectionError("the producer has not reached Kafka yet")
    async with asyncio.timeout(timeout_s):
        await producer.client.fetch_all_metadata()


def dead_letter(record: ConsumerRecord, reason: str, consumer: str, clock: Clock = utc_now) -> Envelope:
    """The record's dead letter, which always fits in a record: it copies a capped part of the record
    and identifies the whole value by its size and hash."""
    raw: bytes | None = record.value
    kept, truncated = (None, False) if raw is None else (raw[:VALUE_KEPT], len(raw) > VALUE_KEPT)
    try:
        # A copy cut inside a character leaves that character out rather than turning to base64.
        value = None if kept is None else codecs.getincrementaldecoder("utf-8")().decode(kept, final=not truncated)
        encoding = "utf-8"
    except UnicodeDecodeError:
        value, encoding = base64.b64encode(kept).decode(), "base64"
    letter = DeadLetter(
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        key=record.key[:KEY_KEPT].decode(errors="replace") if record.key is not None else None,
        value=value,
        value_encoding=encoding,
        value_size=None if raw is None else len(raw),
        value_sha256=None if raw is None else hashlib.sha256(raw).hexdigest(),
        value_truncated=truncated,
        reason=reason[:REASON_KEPT],
        consumer=consumer,
        at=clock(),
    )
    return wrap(letter, source=f"/consumers/{consumer}", time=letter.at, subject=record.topic)


Handler = Callable[[Envelope], Awaitable[None]]


async def consume(
    topics: Topic | Sequence[Topic],
    handler: Handler,
    *,
    group_id: str,
    settings: PlatformSettings,
    producer: AIOKafkaProducer,
    stop: asyncio.Event,
    max_records: int = 500,
) -> None:
    """Feeds each valid event of the topics to the handler until `stop` is set, with one consumer in
    the group, however many topics.

    A record that is not a valid event, or whose handler raises InvalidEvent, goes to its topic's
    DLQ with the reason. A partition's offsets are committed only after the handler (or the DLQ
    send) finished for every record before them, so a crash replays instead of losing: handlers
    must be idempotent on the event id. Any other exception from the handler stops the consumer
    without committing that record. A partition given to another replica in the middle of a batch
    (one joined or left the group) is left as it is: that replica reads it again from its last
    commit, and this one goes on with the rest.
    """
    by_name = {topic.name: topic for topic in ((topics,) if isinstance(topics, Topic) else topics)}
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=group_id,
        client_id=group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        **client_options(settings),
    )
    await consumer.start()
    try:
        # Subscribed to a topic that does not exist yet (its creation job still to run), the consumer fails.
        while not set(by_name) <= await consumer.topics():
            log.info("waiting for topics to be created", missing=sorted(set(by_name) - await consumer.topics()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1.0)
            if stop.is_set():
                return
        consumer.subscribe(list(by_name))
        while not stop.is_set():
            batches = await consumer.getmany(timeout_ms=200, max_records=max_records)
            for partition, records in batches.items():
                for record in records:
                    if partition not in consumer.assignment():
                        log.info("partition moved to another replica in the middle of a batch; read again there from "
                                 "its last commit", topic=partition.topic, partition=partition.partition)
                        break
                    await _handle(record, by_name[record.topic], handler, group_id, settings, producer, stop)
                else:
                    with contextlib.suppress(CommitFailedError, IllegalStateError):  # it moved during the last record
                        await consumer.commit({partition: records[-1].offset + 1})
    finally:
        await consumer.stop()


async def _handle(
    record: ConsumerRecord, topic: Topic, handler: Handler, group_id: str, settings: PlatformSettings,
    producer: AIOKafkaProducer, stop: asyncio.Event,
) -> None:
    try:
        await handler(decode(record.value or b"", topic.event_classes))
    except InvalidEvent as error:
        letter = dead_letter(record, str(error), group_id)
        log.warning("event dead-lettered", topic=topic.name, partition=record.partition, offset=record.offset,
                    reason=letter.data.reason)
        await _dead_letter_sent(producer, topic.dlq, letter, settings, stop)


async def _dead_letter_sent(producer: AIOKafkaProducer, dlq: Topic, letter: Envelope, settings: PlatformSettings,
                            stop: asyncio.Event) -> None:
    """Sends the dead letter once and waits until the brokers have it, however long a leader election
    keeps them from taking it: the consumer must not stop over a record it has judged, nor go on before
    its letter is kept. Waiting on the same send (an idempotent producer keeps it until delivered) leaves
    one letter, where sending it again would leave two. Given up only when the consumer is stopped."""
    value, key = encode(letter), dlq.key(letter.data)
    while True:
        try:
            delivered = await producer.send(dlq.name, value, key=key, headers=KAFKA_HEADERS)
            while True:
                try:
                    await asyncio.wait_for(asyncio.shield(delivered), settings.kafka_send_timeout_s)
                    return
                except TimeoutError:
                    if stop.is_set():
                        raise
                    log.warning("dead letter not yet taken by the brokers; waiting on", topic=dlq.name)
        except KafkaError as error:  # no leader known for its partition yet, or the send failed: sent again
            if stop.is_set():
                raise
            log.warning("dead letter not sent; sending it again", topic=dlq.name, error=type(error).__name__)
            await asyncio.sleep(1.0)  # a pause before trying again, not a wait for a condition


Apply = Callable[[ConsumerRecord], None]
SKIPPED = Counter("retail_follower_records_skipped_total", "Records a read model could not apply and skipped.",
                  ["client_id", "topic"])


async def follow(topics: dict[str, int], apply: Apply, caught_up: asyncio.Event, *, client_id: str,
                 settings: PlatformSettings) -> None:
    """Feeds every record of the topics (name → partitions), from the start, to `apply` for as long
    as the caller runs; `caught_up` is set once the records there were at the start are applied.
    A record `apply` cannot apply is skipped, logged and counted (SKIPPED): one bad record must not
    hold the read model back. For read models that keep no storage: after a broker outage they are
    read again from the start, and `caught_up` is clear until they are (the read model is not ready)."""
    while True:
        try:
            await _follow(topics, apply, caught_up, client_id, settings)
        except Exception:  # noqa: BLE001 - an outage must not end the read model
            caught_up.clear()
            log.exception("following topics failed; starting again", client_id=client_id)
            await asyncio.sleep(2.0)


async def _follow(topics: dict[str, int], apply: Apply, caught_up: asyncio.Event, client_id: str,
                  settings: PlatformSettings) -> None:
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers, client_id=client_id,
                                group_id=None, enable_auto_commit=False, auto_offset_reset="earliest",
                                **client_options(settings))
    await consumer.start()
    try:
        while not set(topics) <= await consumer.topics():  # a worker creates its changelogs when it starts
            await asyncio.sleep(1.0)
        partitions = [TopicPartition(name, p) for name, count in topics.items() for p in range(count)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        while True:
            if not caught_up.is_set() and all([await consumer.position(tp) >= end for tp, end in ends.items()]):
                caught_up.set()
                log.info("caught up", client_id=client_id)
            for records in (await consumer.getmany(timeout_ms=1000)).values():
                for record in records:
                    _apply(apply, record, client_id)
    finally:
        await consumer.stop()


def _apply(apply: Apply, record: ConsumerRecord, client_id: str) -> None:
    try:
        apply(record)
    except Exception as error:  # noqa: BLE001 - a record the read model cannot apply is skipped, not retried
        SKIPPED.labels(client_id, record.topic).inc()
        log.error("record skipped", client_id=client_id, topic=record.topic, partition=record.partition,
                  offset=record.offset, error=type(error).__name__)


async def stop_producer(producer: AIOKafkaProducer, timeout_s: float = 5.0) -> None:
    """Stops a producer, dropping what it could not send within the timeout. `stop()` flushes first,
    and an idempotent producer's batches never expire while the brokers are away, so without a
    limit a shutdown during an outage would hang; callers re-send anything unacknowledged."""
    try:
        async with asyncio.timeout(timeout_s):
            await producer.stop()
    except TimeoutError:
        log.warning("producer stopped without flushing", unsent="dropped; the sender re-sends them")
        if producer._sender is not None:  # the public API has no stop without a flush
            await producer._sender.close()
        await producer.client.close()
