"""The locked broker (deploy/local/kafka.sh --secure): every service reaches Kafka over TLS as its own
user, and writes and reads only what services/cli/acls.py grants it."""

from functools import partial
from uuid import uuid4

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.errors import KafkaConnectionError, TopicAuthorizationFailedError
from kafka.admin import KafkaAdminClient, ScramMechanism, UserScramCredentialDeletion

from services.cli import acls
from services.escalation.topics import CASES_CHANGELOG, CLOCK, INTERNAL_TOPICS
from services.shared.kafka import client_options, ensure_topics, make_producer, publish, send_all, stop_producer
from services.shared.topics import ALL_TOPICS, COMPLAINTS, ESCALATIONS
from tests.support import consuming, eventually, recorder
from tests.support.builders import filed
from tests.support.infra import kafka_broker, kafka_user


@pytest.fixture(scope="module")
def user(infra_dir):
    """The settings of one user of a locked broker whose topics exist (the escalation worker's own
    topics created by the worker's user, as the worker does when it starts)."""
    directory = infra_dir / "kafka-locked"
    with kafka_broker(directory, secure=True) as bootstrap:
        as_user = partial(kafka_user, directory, bootstrap)
        ensure_topics(as_user("admin"), ALL_TOPICS)
        ensure_topics(as_user("escalation"), INTERNAL_TOPICS)
        yield as_user


async def write(settings, topic: str) -> None:
    producer = make_producer(settings, client_id=f"acl-test-{uuid4()}")
    await producer.start()
    try:
        await send_all(producer, [(topic, b"0", b"{}")], timeout_s=30)
    finally:
        await stop_producer(producer)


async def read(settings, topic: str) -> None:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=settings.kafka_bootstrap_servers, group_id=None,
                                auto_offset_reset="earliest", **client_options(settings))
    await consumer.start()
    try:
        await consumer.getmany(timeout_ms=5000)
    finally:
        await consumer.stop()


async def test_the_escalation_worker_writes_its_clock_and_its_changelogs(user):
    await write(user("escalation"), CLOCK.name)
    await write(user("escalation"), CASES_CHANGELOG)


@pytest.mark.parametrize("other", ["analytics", "complaints", "boards"])
@pytest.mark.parametrize("topic", [CLOCK.name, CASES_CHANGELOG])
async def test_no_other_service_may_write_the_escalation_clock_or_changelogs(user, other, topic):
    with pytest.raises(TopicAuthorizationFailedError):
        await write(user(other), topic)


@pytest.mark.parametrize(("service", "topic"), [
    ("reports", COMPLAINTS.name),  # the reports API follows only the analytics windows
    ("complaints", ESCALATIONS.name),
    ("analytics", CASES_CHANGELOG),  # the boards API's, not analytics'
])
async def test_a_service_cannot_read_what_it_does_not_consume(user, service, topic):
    with pytest.raises(TopicAuthorizationFailedError):
        await read(user(service), topic)


async def test_the_complaints_service_publishes_over_tls_and_analytics_reads_it(user):
    complaints, analytics = user("complaints"), user("analytics")
    assert complaints.kafka_security_protocol == "SASL_SSL" and complaints.kafka_ssl_ca_file is not None
    sent = filed()
    producer = make_producer(complaints, client_id="complaints")
    await producer.start()
    try:
        await publish(producer, COMPLAINTS, [sent], complaints)
    finally:
        await stop_producer(producer)

    received, handler = recorder()
    dead_letters = make_producer(analytics, client_id="analytics")
    await dead_letters.start()
    try:
        async with consuming(COMPLAINTS, handler, group_id="analytics", settings=analytics, producer=dead_letters):
            await eventually(lambda: _contains(received, sent), what="the complaint, read as analytics")
    finally:
        await stop_producer(dead_letters)


async def test_a_wrong_password_is_refused(user):
    producer = make_producer(user("complaints", kafka_sasl_password="not-the-password"), client_id="complaints")
    try:
        with pytest.raises(KafkaConnectionError):  # the broker ends the connection at authentication
            await producer.start()
    finally:
        await producer.stop()


async def _contains(received, sent) -> bool:
    return sent in received


async def test_a_user_the_brokers_lack_is_created_from_its_file_when_the_acls_are_applied(user, infra_dir):
    """A service added after the brokers' storage was formatted (as `make run`'s data outlives a
    version): `retail acls --users-from` creates its user, and it then reads what it consumes."""
    admin = KafkaAdminClient(bootstrap_servers=user("admin").kafka_bootstrap_servers, **client_options(user("admin")))
    try:
        admin.alter_user_scram_credentials([UserScramCredentialDeletion("scheduling_worker", ScramMechanism.SCRAM_SHA_512)])
    finally:
        admin.close()
    with pytest.raises(KafkaConnectionError):
        await read(user("scheduling_worker"), COMPLAINTS.name)
    acls.apply(user("admin"), users_from=infra_dir / "kafka-locked" / "secure")
    await read(user("scheduling_worker"), COMPLAINTS.name)
