"""A 3-node KRaft cluster from deploy/local/kafka.sh: replicated topics that survive losing a broker."""

import os
import signal
from pathlib import Path
from uuid import uuid4

import pytest
from kafka.admin import KafkaAdminClient

from services.shared.events.envelope import Envelope
from services.shared.kafka import ensure_topics, make_producer, publish
from services.shared.settings import PlatformSettings
from services.shared.topics import COMPLAINTS
from tests.support import consuming, eventually, recorder
from tests.support.builders import filed
from tests.support.infra import free_port, script


@pytest.fixture(scope="module")
def cluster(infra_dir: Path):
    directory = infra_dir / "kafka-cluster"
    bootstrap = script("kafka.sh", "start", "--dir", str(directory), "--port", str(free_port(consecutive=3)), "--nodes", "3")
    yield directory, PlatformSettings(kafka_bootstrap_servers=bootstrap, kafka_replication_factor=3)
    script("kafka.sh", "stop", "--dir", str(directory))


async def test_three_brokers_replicate_and_keep_serving_when_one_stops(cluster):
    directory, settings = cluster
    assert len(settings.kafka_bootstrap_servers.split(",")) == 3
    ensure_topics(settings, [COMPLAINTS, COMPLAINTS.dlq])
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    try:
        (described,) = admin.describe_topics([COMPLAINTS.name])
    finally:
        admin.close()
    assert all(len(partition["replica_nodes"]) == 3 for partition in described["partitions"])

    os.kill(int((directory / "node-3.pid").read_text()), signal.SIGTERM)
    producer = make_producer(settings, client_id="cluster-test")
    await producer.start()
    try:
        sent = filed()
        await publish(producer, COMPLAINTS, [sent], settings)  # acks=all: needs 2 of 3 in sync
        received, handler = recorder()
        async with consuming(COMPLAINTS, handler, group_id=f"test-{uuid4()}", settings=settings, producer=producer):
            await eventually(lambda: _contains(received, sent), timeout_s=60, what="the event from the cluster")
    finally:
        await producer.stop()


async def _contains(received: list[Envelope], sent: Envelope) -> bool:
    return sent in received
