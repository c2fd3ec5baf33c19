"""A locked 3-node KRaft cluster from deploy/local/kafka.sh (TLS, a user per service, ACLs): replicated
topics that survive losing a broker."""

import os
import signal
from functools import partial
from pathlib import Path

import pytest
from kafka.admin import KafkaAdminClient

from services.shared.events.envelope import Envelope
from services.shared.kafka import client_options, ensure_topics, make_producer, publish
from services.shared.topics import COMPLAINTS
from tests.support import consuming, eventually, recorder
from tests.support.builders import filed
from tests.support.infra import free_port, kafka_user, script


@pytest.fixture(scope="module")
def cluster(infra_dir: Path):
    directory = infra_dir / "kafka-cluster"
    port = str(free_port(consecutive=3))
    bootstrap = script("kafka.sh", "start", "--dir", str(directory), "--port", port, "--nodes", "3", "--secure")
    yield directory, partial(kafka_user, directory, bootstrap, kafka_replication_factor="3")
    script("kafka.sh", "stop", "--dir", str(directory))


async def test_three_brokers_replicate_and_keep_serving_when_one_stops(cluster):
    directory, user = cluster
    admin_user, complaints, analytics = user("admin"), user("complaints"), user("analytics")
    assert len(admin_user.kafka_bootstrap_servers.split(",")) == 3
    assert complaints.kafka_security_protocol == "SASL_SSL"
    ensure_topics(admin_user, [COMPLAINTS, COMPLAINTS.dlq])
    admin = KafkaAdminClient(bootstrap_servers=admin_user.kafka_bootstrap_servers, **client_options(admin_user))
    try:
        (described,) = admin.describe_topics([COMPLAINTS.name])
    finally:
        admin.close()
    assert all(len(partition["replica_nodes"]) == 3 for partition in described["partitions"])

    os.kill(int((directory / "node-3.pid").read_text()), signal.SIGTERM)
    producer = make_producer(complaints, client_id="complaints")
    await producer.start()
    try:
        sent = filed()
        await publish(producer, COMPLAINTS, [sent], complaints)  # acks=all: needs 2 of 3 in sync
    finally:
        await producer.stop()
    received, handler = recorder()
    dead_letters = make_producer(analytics, client_id="analytics")
    await dead_letters.start()
    try:
        async with consuming(COMPLAINTS, handler, group_id="analytics", settings=analytics, producer=dead_letters):
            await eventually(lambda: _contains(received, sent), timeout_s=60, what="the event from the cluster")
    finally:
        await dead_letters.stop()


async def _contains(received: list[Envelope], sent: Envelope) -> bool:
    return sent in received
