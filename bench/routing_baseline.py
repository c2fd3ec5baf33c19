"""B2's baseline, its own process: a plain aiokafka loop that reads complaint.filed events in a consumer
group, validates each envelope with the contracts (services.shared.events.envelope.decode), writes for
each the records the escalation worker writes per complaint (BENCH_WRITES: [[topic, records per input,
key bytes, value bytes], ...], counted on the worker's topics) with the services' idempotent producer
(acks=all), awaits every delivery of the batch and only then commits its offsets. No routing, no
tables, no framework: the durable I/O of routing and nothing around it. Stops on SIGTERM, printing the
CPU seconds it used from its first record to its last commit ({"cpu_s": …}).

    RETAIL_KAFKA_BOOTSTRAP_SERVERS=… BENCH_GROUP=… BENCH_WRITES='[["t", 1.0, 16, 500]]' .venv/bin/python -m bench.routing_baseline
"""

import asyncio
import json
import os
import signal
import time

from aiokafka import AIOKafkaConsumer

from services.shared.events.envelope import decode
from services.shared.kafka import client_options, make_producer
from services.shared.settings import PlatformSettings
from services.shared.topics import COMPLAINTS


async def main(group: str, writes: list[tuple[str, float, int, int]]) -> None:
    platform = PlatformSettings()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    consumer = AIOKafkaConsumer(
        COMPLAINTS.name, bootstrap_servers=platform.kafka_bootstrap_servers, group_id=group, enable_auto_commit=False,
        auto_offset_reset="earliest", **client_options(platform),
    )
    producer = make_producer(platform, client_id=group)
    values = {topic: b"x" * value_bytes for topic, _, _, value_bytes in writes}
    owed = {topic: 0.0 for topic, *_ in writes}  # fractions of a record carried to the next input
    await consumer.start()
    await producer.start()
    cpu: list[float] = []  # at the first record and at each commit
    try:
        while not stop.is_set():
            fetched = await consumer.getmany(timeout_ms=100, max_records=500)
            if fetched and not cpu:
                cpu.append(time.process_time())
            sends = []
            for records in fetched.values():
                for record in records:
                    complaint_id = decode(record.value, COMPLAINTS.event_classes).data.complaint_id
                    for topic, per_input, key_bytes, _ in writes:
                        owed[topic] += per_input
                        while owed[topic] >= 1:
                            owed[topic] -= 1
                            key = (complaint_id.hex * (1 + key_bytes // 32))[:key_bytes].encode()
                            sends.append(await producer.send(topic, values[topic], key=key))
            await asyncio.gather(*sends)
            if fetched:
                await consumer.commit()
                cpu[1:] = [time.process_time()]
    finally:
        await producer.stop()
        await consumer.stop()
        print(json.dumps({"cpu_s": cpu[-1] - cpu[0] if cpu else 0.0}), flush=True)


if __name__ == "__main__":
    asyncio.run(main(os.environ["BENCH_GROUP"], json.loads(os.environ["BENCH_WRITES"])))
