"""B4's baseline (python -m bench.analytics_baseline): a plain aiokafka loop doing the analytics
worker's durable I/O and nothing else. It reads the worker's source topics in batches of up to 500
(the worker's batch), validates every record with the contracts as the worker does, writes for each
batch the records the worker was measured to write per input (count and size per topic, into
topics of its own shaped like the worker's), awaits their delivery (acks=all, idempotent producer)
and only then commits the batch's offsets. After each commit it prints `counted <n>`; it stops
after BENCH_EVENTS records.

    RETAIL_KAFKA_BOOTSTRAP_SERVERS=… BENCH_EVENTS=20000 BENCH_GROUP=… \
    BENCH_WRITES='[["bench-baseline.analytics-totals-changelog", 0.29, 2100]]' .venv/bin/python -m bench.analytics_baseline
"""

import asyncio
import itertools
import json
import os

from aiokafka import AIOKafkaConsumer, TopicPartition

from services.analytics.topics import SOURCES
from services.shared.events.envelope import decode
from services.shared.kafka import client_options, make_producer
from services.shared.settings import PlatformSettings

BATCH = 500  # the analytics worker's `batches(..., size=500)`


async def main(events: int, group: str, writes: list[tuple[str, float, int]]) -> None:
    platform = PlatformSettings()
    topics = {topic.name: topic for topic in SOURCES}
    consumer = AIOKafkaConsumer(
        *topics, bootstrap_servers=platform.kafka_bootstrap_servers, group_id=group, client_id=group,
        enable_auto_commit=False, auto_offset_reset="earliest", **client_options(platform),
    )
    producer = make_producer(platform, client_id=group)
    await consumer.start()
    await producer.start()
    owed = dict.fromkeys((topic for topic, _, _ in writes), 0.0)  # the fraction of a record carried to the next batch
    counted = 0
    try:
        while counted < events:
            batch = await consumer.getmany(timeout_ms=250, max_records=BATCH)
            records = [record for partition in batch.values() for record in partition]
            if not records:
                continue
            for record in records:
                decode(record.value, topics[record.topic].event_classes)
            sends = []
            origins = itertools.cycle(records)  # each written record goes to the partition of an input, as faust's do
            for topic, per_input, size in writes:
                owed[topic] += per_input * len(records)
                for _ in range(int(owed[topic])):
                    origin = next(origins)
                    sends.append(await producer.send(topic, b"x" * size, key=origin.key, partition=origin.partition))
                owed[topic] -= int(owed[topic])
            await asyncio.gather(*sends)
            await consumer.commit({TopicPartition(tp.topic, tp.partition): partition[-1].offset + 1
                                   for tp, partition in batch.items()})
            counted += len(records)
            print(f"counted {counted}", flush=True)
    finally:
        await producer.stop()
        await consumer.stop()


if __name__ == "__main__":
    asyncio.run(main(int(os.environ["BENCH_EVENTS"]), os.environ["BENCH_GROUP"],
                     [tuple(write) for write in json.loads(os.environ["BENCH_WRITES"])]))
