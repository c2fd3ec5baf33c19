"""faust-streaming set up the same way for every stream processor (escalation, analytics)."""

import logging
from pathlib import Path

import faust

from services.shared.events.envelope import Envelope, encode
from services.shared.settings import PlatformSettings
from services.shared.topics import Topic


def stream_app(service: str, platform: PlatformSettings, datadir: Path, **options: object) -> faust.App:
    """Call after `configure_logging`."""
    return faust.App(
        service,
        broker=[f"kafka://{server}" for server in platform.kafka_bootstrap_servers.split(",")],
        store="rocksdb://",
        datadir=str(datadir),
        # At least once, with every effect idempotent on the event id: faust's exactly_once has open
        # bugs (duplicates #517, rebalance crashes #323, start-up crash #440, sends outside the
        # transaction #177).
        processing_guarantee="at_least_once",
        topic_replication_factor=platform.kafka_replication_factor,
        producer_acks=-1,
        consumer_auto_offset_reset="earliest",
        key_serializer="raw",
        value_serializer="raw",
        # faust's own web server lists table contents under /table: keep it off; we serve our own API.
        web_enabled=False,
        # The worker replaces the logging set-up when it starts: keep ours (JSON, no personal data).
        loghandlers=list(logging.getLogger().handlers),
        logging_config={"version": 1, "disable_existing_loggers": False, "root": {"level": platform.log_level}},
        **options,
    )


def source(app: faust.App, topic: Topic) -> faust.TopicT:
    """A registry topic as raw bytes: values are validated with the contracts, failures dead-lettered
    (a deserialiser error inside faust could kill the consumer silently, faust #175)."""
    return app.topic(topic.name, partitions=topic.partitions, key_type=bytes, value_type=bytes)


async def send(channel: faust.TopicT, topic: Topic, envelope: Envelope) -> None:
    """Publishes and waits for the broker's acknowledgement, so an offset is committed only after
    what the event caused has been published."""
    delivered = await channel.send(key=topic.key(envelope.data), value=encode(envelope))
    await delivered
