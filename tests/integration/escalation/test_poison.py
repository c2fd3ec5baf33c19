"""Records that are not what their topic promises — malformed, oversized, far in the future, or
garbage on the worker's own changelog — on a broker of this module's own, since strict readers
elsewhere would read the poison: each goes to its DLQ or is skipped, and routing, the boards and the
SLA timers go on."""

import hashlib
import os
from datetime import timedelta

import orjson
import pytest

from services.escalation.topics import CASES_CHANGELOG
from services.shared.events.envelope import encode
from services.shared.kafka import make_producer
from services.shared.topics import COMPLAINTS, ESCALATIONS, ROSTER
from tests.support import eventually, read_topic
from tests.support.builders import filed
from tests.support.escalation import publish_roster, tick
from tests.support.infra import own_platform

STORE, REGION = "hel-kamppi", "uusimaa"


@pytest.fixture(scope="module")
def platform(infra_dir):
    with own_platform(infra_dir / "kafka-escalation-poison") as platform:
        yield platform


async def send_raw(platform, topic: str, value: bytes, key: bytes | None = STORE.encode(), partition: int | None = None):
    producer = make_producer(platform, client_id="test-poison")
    await producer.start()
    try:
        return await producer.send_and_wait(topic, value, key=key, partition=partition)
    finally:
        await producer.stop()


def routed_ids(envelopes: list) -> set[str]:
    return {str(e.data.complaint_id) for e in envelopes if e.type == "retail.escalation.routed.v1"}


async def routed(platform, complaint_ids: list[str]) -> list:
    return await read_topic(platform.kafka_bootstrap_servers, ESCALATIONS, lambda es: set(complaint_ids) <= routed_ids(es),
                            timeout_s=90)


async def dead_letter(platform, poison):
    def of_poison(envelopes: list) -> list:
        return [e.data for e in envelopes if e.data.consumer == "escalation"
                and (e.data.partition, e.data.offset) == (poison.partition, poison.offset)]

    return of_poison(await read_topic(platform.kafka_bootstrap_servers, COMPLAINTS.dlq, of_poison, timeout_s=90))[0]


async def file_some(api, count: int, label: str) -> list[str]:
    return [(await api.file(store=STORE, customer={"email": f"{label}-{i}@example.com"})).json()["id"] for i in range(count)]


async def test_a_poison_complaint_goes_to_the_dlq_and_the_worker_keeps_routing(api, platform, worker):
    poison = await send_raw(platform, COMPLAINTS.name, b'{"type": "retail.complaint.filed.v1"}')
    assert "data: Field required" in (await dead_letter(platform, poison)).reason
    await routed(platform, await file_some(api, 1, "after-poison"))
    assert worker.process.process.poll() is None


async def test_a_record_near_the_size_limit_is_dead_lettered_with_its_size_and_hash_and_the_complaints_after_it_are_routed(
    api, platform, worker
):
    raw = os.urandom(900 * 1024)  # its base64 copy alone would be over the producer's 1 MiB limit
    poison = await send_raw(platform, COMPLAINTS.name, raw)
    await routed(platform, await file_some(api, 5, "after-oversized"))
    letter = await dead_letter(platform, poison)
    assert (letter.value_size, letter.value_sha256, letter.value_truncated) == (len(raw), hashlib.sha256(raw).hexdigest(), True)


async def test_complaints_filed_far_ahead_stop_nothing(api, platform, worker):
    """Year 9999 is past the contract's times: dead-lettered. The last moment the contract allows is
    routed, its deadlines past it or not."""
    beyond, last_moment = filed(STORE), filed(STORE)
    poison = await send_raw(platform, COMPLAINTS.name, far_ahead(beyond, "9999-12-31T23:59:59Z"))
    await send_raw(platform, COMPLAINTS.name, far_ahead(last_moment, "2099-12-31T23:59:59Z"))
    await routed(platform, [str(last_moment.data.complaint_id), *await file_some(api, 5, "after-far-future")])
    assert "time" in (await dead_letter(platform, poison)).reason


def far_ahead(envelope, at: str) -> bytes:
    document = orjson.loads(encode(envelope))
    document["time"] = document["data"]["filed_at"] = at
    return orjson.dumps(document)


async def test_garbage_on_the_cases_changelog_is_skipped_by_the_boards_and_a_worker_restored_from_it_checks_deadlines(
    api, platform, worker, boards, tmp_path
):
    await publish_roster(platform, STORE, REGION, [("emp-1042", "associate"), ("crd-0001", "coordinator")])
    await eventually(lambda: worker.has_read(ROSTER), timeout_s=90, what="the worker to read the roster")
    for partition in range(COMPLAINTS.partitions):
        await send_raw(platform, CASES_CHANGELOG, os.urandom(64), key=os.urandom(16), partition=partition)
    [complaint] = await file_some(api, 1, "after-garbage")
    [decision] = [e.data for e in await routed(platform, [complaint]) if str(e.data.complaint_id) == complaint
                  and e.type == "retail.escalation.routed.v1"]

    async def on_board() -> bool:
        return any(c["complaint_id"] == complaint for c in (await boards.board(REGION)).json()["complaints"])

    await eventually(on_board, timeout_s=60, what="the complaint on the board past the garbage")
    await eventually(lambda: worker.has_read(COMPLAINTS), timeout_s=60, what="the worker to commit the complaint")

    worker.kill()
    worker.data_dir = str(tmp_path / "empty-disk")  # the cases come back from their changelog, garbage and all
    worker.start()
    await tick(platform, decision.acknowledge_by + timedelta(seconds=1))

    def breached(envelopes: list) -> bool:
        return any(e.type == "retail.escalation.breached.v1" and str(e.data.complaint_id) == complaint for e in envelopes)

    try:
        await read_topic(platform.kafka_bootstrap_servers, ESCALATIONS, breached, timeout_s=120)
    except AssertionError as error:
        raise AssertionError(f"{error}; the restarted worker's log ends:\n{worker.last_words()}") from None
