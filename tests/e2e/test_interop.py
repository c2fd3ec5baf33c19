"""The platform's records read by standard tools, as another team's consumer would: every record on
every registry topic is a CloudEvent in the Kafka binding's structured mode (its `content-type`
header says so), read by the official CloudEvents SDK, valid against its published JSON Schema and
keyed as the AsyncAPI document says; and Kafka's own console consumer reads them from the local cache.
The records come from each way the services produce: the complaints service's outbox relay, the
escalation worker's decisions and dead letters (faust), and a client's `publish` (the roster)."""

import asyncio
import json

import orjson
import pytest
from aiokafka import AIOKafkaProducer
from cloudevents.core.bindings.kafka import KafkaMessage, from_kafka
from cloudevents.core.formats.json import JSONFormat
from jsonschema import Draft202012Validator

from services.shared.events.envelope import decode
from services.shared.generate import ASYNCAPI_PATH, CONTENT_TYPE, SCHEMAS_DIR
from services.shared.topics import ALL_TOPICS, COMPLAINTS, ESCALATIONS
from tests.support import eventually, read_records
from tests.support.complaints import add_stores, reject_returns
from tests.support.escalation import publish_roster
from tests.support.infra import REPO, own_platform

REGION, STORES = "kainuu", ["kaj-keskusta", "kaj-prisma", "kuhmo"]


@pytest.fixture(scope="module")
def platform(infra_dir):
    """A broker of this module's own, so that every record on it is one of this module's."""
    with own_platform(infra_dir / "kafka-interop") as platform:
        yield platform


def _schemas() -> dict[str, Draft202012Validator]:
    validators = {}
    for path in (REPO / SCHEMAS_DIR).glob("*.json"):
        schema = json.loads(path.read_text())
        Draft202012Validator.check_schema(schema)
        validators[path.stem] = Draft202012Validator(schema)
    return validators


async def test_every_record_is_a_structured_cloudevent_valid_against_its_schema_and_keyed_as_documented(
    api, worker, platform
):
    await add_stores(api, REGION, STORES)
    await publish_roster(platform, STORES[0], REGION, [("emp-4001", "associate")])
    filed = [(await api.file(store=store)).json()["id"] for store in STORES]
    await reject_returns(api, REGION, STORES[0], 1)
    poison = AIOKafkaProducer(bootstrap_servers=platform.kafka_bootstrap_servers)
    await poison.start()
    try:  # a record that is no event: the worker dead-letters it
        await poison.send_and_wait(COMPLAINTS.name, b"{not json", key=STORES[0].encode())
    finally:
        await poison.stop()

    async def decided() -> bool:
        decisions = {json.loads(r.value)["subject"] for r in await read_records(platform.kafka_bootstrap_servers,
                                                                                 ESCALATIONS.name, ESCALATIONS.partitions)}
        letters = await read_records(platform.kafka_bootstrap_servers, COMPLAINTS.dlq.name, 1)
        return set(filed) <= decisions and bool(letters)

    await eventually(decided, timeout_s=120, what="the worker's decisions and its dead letter")

    validators, read, kinds = _schemas(), 0, set()
    asyncapi = json.loads((REPO / ASYNCAPI_PATH).read_text())
    for topic in ALL_TOPICS:
        channel = asyncapi["channels"][topic.name]
        for record in await read_records(platform.kafka_bootstrap_servers, topic.name, topic.partitions):
            if record.value.startswith(b"{not json"):
                continue  # the poison record above, written by no service
            read += 1
            headers = dict(record.headers)
            assert headers.get("content-type") == CONTENT_TYPE.encode(), (topic.name, record.headers)
            event = from_kafka(KafkaMessage(headers=headers, key=record.key, value=record.value), JSONFormat())
            document = orjson.loads(record.value)
            assert (event.get_specversion(), event.get_type(), event.get_id(), event.get_source()) == (
                "1.0", document["type"], document["id"], document["source"])
            errors = [error.message for error in validators[document["type"]].iter_errors(document)]
            assert not errors, (topic.name, document["type"], errors)
            documented = {asyncapi["components"]["messages"][name]["name"] for name in channel["messages"]}
            assert document["type"] in documented, (topic.name, document["type"])
            assert record.key == topic.key(decode(record.value, topic.event_classes).data), (topic.name, record.key)
            kinds.add(document["type"])
    assert {"retail.complaint.filed.v1", "retail.escalation.routed.v1", "retail.return.rejected.v1",
            "retail.roster.published.v1", "retail.deadletter.recorded.v1"} <= kinds, kinds
    assert read >= len(filed) * 2

    # Kafka's own console consumer, from the local cache, prints the header and the key of each record
    # (the poison record has none).
    console = await asyncio.create_subprocess_exec(
        str(REPO / "deploy" / "local" / "kafka.sh"), "tool", "console-consumer",
        "--bootstrap-server", platform.kafka_bootstrap_servers, "--topic", COMPLAINTS.name, "--from-beginning",
        "--max-messages", str(len(filed) + 1), "--timeout-ms", "60000",
        "--property", "print.headers=true", "--property", "print.key=true",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(console.communicate(), timeout=120)
    lines = [line for line in out.decode().splitlines() if line.strip()]
    assert console.returncode == 0 and len(lines) == len(filed) + 1, (out.decode(), err.decode()[-2000:])
    for line in lines:
        header, key, value = line.split("\t", 2)
        if value.startswith("{not json"):
            continue
        assert header == f"content-type:{CONTENT_TYPE}" and key in STORES, line
        assert orjson.loads(value)["type"].startswith("retail.complaint."), line
