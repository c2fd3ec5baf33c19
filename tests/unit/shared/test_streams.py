"""A batch's staged table writes reach the table only after every send of the batch is delivered:
a worker that crashes in between finds the work not done, and does it (and publishes it) again.
A record that is not a valid event has a dead letter that always fits in a record."""

import asyncio
import base64
import hashlib
import logging
import os
from types import SimpleNamespace

import pytest
from aiokafka import ConsumerRecord
from faust.types import TP
from faust.types.tuples import ConsumerMessage

from services.shared.events.envelope import decode, encode
from services.shared.kafka import dead_letter
from services.shared.settings import PlatformSettings
from services.shared.streams import Batch, _handing_over, stream_app
from services.shared.topics import COMPLAINTS, ROSTER
from tests.support.builders import filed
from tests.support.streams import Channel

PRODUCER_LIMIT = 1024 * 1024  # aiokafka's max_request_size, and about the broker's message.max.bytes


class Event:
    """Stands for a faust event: the tables only need something to point at."""

    def __init__(self, partition: int) -> None:
        self.partition = partition


async def test_staged_writes_wait_for_the_batchs_deliveries():
    table = {b"old": b"1"}
    first, second = Event(0), Event(1)
    batch, channel = Batch([first, second]), Channel()
    staged = batch.stage(table)
    for event in batch:
        staged[b"routed-" + str(event.partition).encode()] = b"1"
        await batch.send(channel, COMPLAINTS, filed())
    del staged[b"old"]

    assert (b"routed-0" in staged, b"old" in staged, sorted(staged)) == (True, False, [b"routed-0", b"routed-1"])
    seen = []

    async def deliver() -> None:
        for delivery in channel.pending:
            seen.append(dict(table))  # what the table holds while this send is still on its way
            delivery.set_result(None)

    await asyncio.gather(batch.done(), deliver())  # done() starts first, and must wait
    assert seen == [{b"old": b"1"}, {b"old": b"1"}], "nothing is written while a send is undelivered"
    assert table == {b"routed-0": b"1", b"routed-1": b"1"}
    assert {key: event for key, (_, event) in staged.changes.items()} == {
        b"routed-0": first, b"routed-1": second, b"old": second,
    }


async def test_a_failed_delivery_writes_nothing():
    table: dict[bytes, bytes] = {}
    batch, channel = Batch([Event(0)]), Channel()
    staged = batch.stage(table)
    for _event in batch:
        staged[b"routed"] = b"1"
        await batch.send(channel, COMPLAINTS, filed())
    channel.pending[0].set_exception(ConnectionError("broker gone"))
    with pytest.raises(ConnectionError):
        await batch.done()
    assert table == {}



async def test_a_deferred_value_is_encoded_once_when_the_batch_writes_it():
    table: dict[bytes, bytes] = {}
    first, second = Event(0), Event(1)
    batch, encoded = Batch([first, second]), []

    def encode(n: int) -> bytes:
        encoded.append(n)
        return str(n).encode()

    staged = batch.stage(table)
    for n, _event in enumerate(batch):
        staged.defer(b"watch", lambda n=n: encode(n))
    assert (encoded, table) == ([], {})
    assert dict(staged.items()) == {b"watch": b"1"}
    await batch.done()
    assert table == {b"watch": b"1"}
    assert staged.changes[b"watch"][1] is second, "written to the partition of the event that last changed it"


def test_the_worker_keeps_the_configured_log_level_and_shows_no_spinner(tmp_path):
    app = stream_app("streams-test", PlatformSettings(kafka_bootstrap_servers="localhost:9092"), tmp_path)
    worker = app.conf.Worker(app, quiet=True, loglevel="warn")
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    try:
        worker.on_setup_root_logger(root, logging.WARNING)  # faust's own would set the root logger to DEBUG
        assert (worker.spinner, root.level, root.handlers) == (None, level, handlers)
    finally:
        root.setLevel(level)
        root.handlers[:] = handlers


class OtherPartitions(dict):
    """A faust table as a handler of one partition sees it: a key of another partition cannot be
    looked up by itself, only listed with its value."""

    def __getitem__(self, key: bytes) -> bytes:
        raise KeyError(key)


def test_a_staged_table_lists_every_partitions_values_with_its_own_changes():
    table = OtherPartitions({b"case-p1": b"a", b"case-p2": b"b", b"gone": b"c"})
    batch = Batch([Event(0)])
    staged = batch.stage(table)
    for _event in batch:
        staged[b"new"] = b"d"
        staged[b"case-p2"] = b"b2"
        del staged[b"gone"]
    assert dict(staged.items()) == {b"case-p1": b"a", b"case-p2": b"b2", b"new": b"d"}
    assert sorted(staged.values()) == [b"a", b"b2", b"d"]
    assert len(staged) == 3


def record(value: bytes | None, key: bytes | None = b"hel-kamppi") -> ConsumerRecord:
    return ConsumerRecord(topic=COMPLAINTS.name, partition=2, offset=41, timestamp=0, timestamp_type=0, key=key, value=value,
                          checksum=None, serialized_key_size=0, serialized_value_size=0, headers=[])


def test_the_dead_letter_of_a_record_near_the_size_limit_fits_with_the_records_size_and_hash():
    raw = os.urandom(900 * 1024)
    letter = dead_letter(record(raw, key=os.urandom(900 * 1024)), "not JSON: " + "x" * PRODUCER_LIMIT, "analytics")
    assert len(encode(letter)) < 100 * 1024, "the dead letter is far below the producer's limit"
    data = decode(encode(letter), COMPLAINTS.dlq.event_classes).data
    assert (data.value_size, data.value_sha256) == (len(raw), hashlib.sha256(raw).hexdigest())
    assert data.value_truncated and raw.startswith(base64.b64decode(data.value))
    assert data.reason.startswith("not JSON: x")


def test_a_small_record_is_copied_whole():
    letter = dead_letter(record('{"type": "ä"}'.encode()), "type: 'ä' is not an event type of this topic", "escalation").data
    assert (letter.value, letter.value_encoding, letter.value_truncated) == ('{"type": "ä"}', "utf-8", False)
    assert (letter.key, letter.value_size, letter.partition, letter.offset) == ("hel-kamppi", 14, 2, 41)
    assert dead_letter(record(None, key=None), "not JSON", "escalation").data.value is None


def test_text_cut_inside_a_character_stays_text():
    letter = dead_letter(record("ä".encode() * PRODUCER_LIMIT), "too long", "escalation").data
    assert letter.value_encoding == "utf-8" and set(letter.value) == {"ä"} and letter.value_truncated


# -- what the worker's consumer commits ----------------------------------------------------------------


@pytest.fixture
def consumer(tmp_path):
    """The worker's own consumer (not started: no broker), its seeks recorded instead of sent."""
    app = stream_app("streams-test", PlatformSettings(kafka_bootstrap_servers="localhost:9092"), tmp_path)
    app.topics.acking_topics.update({COMPLAINTS.name, ROSTER.name})  # as when agents read them
    consumer = app.consumer
    consumer.seeks = []

    async def seek(tp, offset):
        consumer.seeks.append((tp, offset))

    consumer.seek, consumer.assignment = seek, lambda: {TP(COMPLAINTS.name, p) for p in range(COMPLAINTS.partitions)}
    return consumer


def handled(consumer, tp, offsets):
    consumer._acked[tp].extend(offsets)
    consumer._acked_index[tp].update(offsets)


async def delivered(consumer, tp, offsets):
    """The records the broker sends for `tp`, as the worker's fetcher takes them from the consumer."""
    records = [ConsumerRecord(tp.topic, tp.partition, offset, 0, 0, b"k", b"v", None, 1, 1, []) for offset in offsets]

    async def wait_next_records(timeout):
        return {tp: records}, {tp}

    consumer._wait_next_records, consumer.highwater = wait_next_records, lambda tp: 0
    return [message.offset async for _, message in consumer.getmany(timeout=1.0)]


async def test_a_partition_is_not_committed_past_a_record_never_handled_but_read_again_from_it(consumer):
    tp = TP(COMPLAINTS.name, 9)
    consumer._committed_offset[tp] = 8
    handled(consumer, tp, [9, 10, 11, 12])  # the record at 8 was dropped while partitions moved

    assert (consumer._new_offset(tp), consumer._new_offset(tp)) == (None, None)
    assert consumer.seeks == [], "not while the fetched batch is handed out"
    await delivered(consumer, tp, [])
    assert consumer.seeks == [(tp, 8)], "read again from the committed offset, once, before the next fetch"

    handled(consumer, tp, [8])  # read again and handled
    assert consumer._new_offset(tp) == 13


async def test_a_partition_without_commits_is_not_committed_past_its_first_record(consumer):
    tp = TP(COMPLAINTS.name, 11)
    consumer._starts[tp] = 0
    handled(consumer, tp, [1, 2, 3])

    assert consumer._new_offset(tp) is None
    await delivered(consumer, tp, [])
    assert consumer.seeks == [(tp, 0)]


async def test_records_the_broker_no_longer_has_at_the_committed_offset_are_committed_past(consumer):
    tp = TP(ROSTER.name, 3)
    consumer._committed_offset[tp] = consumer._seeked[tp] = 8  # as after reading from the committed offset
    assert await delivered(consumer, tp, [11, 12]) == [11, 12]  # 8 to 10 compacted away
    handled(consumer, tp, [11, 12])

    assert (consumer._new_offset(tp), consumer.seeks) == (13, [])


async def test_records_between_two_read_one_after_the_other_count_as_handled_only_when_acknowledged(consumer):
    tp = TP(COMPLAINTS.name, 4)
    consumer._committed_offset[tp] = 40
    # faust's read offset was put back by a seek while a fetch was handed out: it took 43 and 44, never
    # handled, for offsets the fetch skipped
    await consumer._add_gap(tp, 43, 44)
    handled(consumer, tp, [40, 41, 42, *range(45, 60)])

    assert consumer._new_offset(tp) == 43
    consumer._committed_offset[tp] = 43
    assert consumer._new_offset(tp) is None
    await delivered(consumer, tp, [])
    assert consumer.seeks == [(tp, 43)]


async def test_a_partition_never_committed_or_committed_before_retention_deleted_its_records_is_read_from_its_first(consumer):
    read, deleted, changelog = TP(COMPLAINTS.name, 1), TP(COMPLAINTS.name, 2), TP("streams-test-totals-changelog", 1)
    beginnings = []

    async def seek_to_beginning(*partitions):
        beginnings.extend(partitions)

    async def seek_to_committed():
        return {read: None, deleted: 5, changelog: None}

    async def earliest_offsets(*partitions):
        return {tp: {read: 0, deleted: 10, changelog: 0}[tp] for tp in partitions}

    consumer._thread = SimpleNamespace(seek_to_committed=seek_to_committed, seek_to_beginning=seek_to_beginning,
                                       earliest_offsets=earliest_offsets)
    await consumer.perform_seek()
    assert beginnings == [read], "aiokafka does not seek a partition never committed; recovery places a changelog's"
    handled(consumer, deleted, [10, 11])
    assert (consumer._new_offset(deleted), consumer.seeks) == (12, [])


async def test_no_record_is_handed_out_while_partitions_are_sent_back_to_their_committed_offsets(consumer):
    flowing = []

    async def seek_to_committed():
        flowing.append(consumer.flow_active)
        return {}

    consumer._thread = SimpleNamespace(seek_to_committed=seek_to_committed)
    consumer.resume_flow()  # as faust leaves it after a rebalance that restored no table
    await consumer.perform_seek()
    assert (flowing, consumer.flow_active) == ([False], True)


def test_a_record_the_stream_skipped_is_not_acknowledged(consumer):
    skipped = ConsumerMessage(COMPLAINTS.name, 9, 8, 0.0, 0, None, b"k", b"v", None)

    assert consumer.ack(skipped) is False
    assert consumer._acked[skipped.tp] == []


async def test_a_record_with_room_on_its_streams_queue_is_handed_over_without_a_task(consumer):
    queue = asyncio.Queue(maxsize=1)
    hand_over = _handing_over(queue.put)

    handed = hand_over("first")

    assert queue.get_nowait() == "first", "on the queue before the fetcher's task yields"
    started = len(asyncio.all_tasks())
    await consumer.wait_first(handed, consumer.suspend_flow.wait())
    assert len(asyncio.all_tasks()) == started


async def test_a_record_waiting_for_room_is_handed_over_when_the_stream_takes_one_or_dropped_when_the_flow_stops():
    queue = asyncio.Queue(maxsize=1)
    hand_over = _handing_over(queue.put)
    hand_over("first")

    rest = asyncio.ensure_future(hand_over("second"))  # as faust awaits it, raced against the flow's suspension
    await asyncio.sleep(0)
    assert not rest.done()
    assert queue.get_nowait() == "first"
    await asyncio.wait_for(rest, timeout=10)
    assert queue.get_nowait() == "second"

    hand_over("third")
    waiting = asyncio.ensure_future(hand_over("fourth"))
    await asyncio.sleep(0)
    waiting.cancel()  # the flow was suspended for a rebalance: faust cancels the hand-over
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert queue.get_nowait() == "third"
    assert queue.empty(), "the cancelled record is not put later: faust reads it again"
