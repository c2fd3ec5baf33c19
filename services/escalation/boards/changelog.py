"""Follows the worker's cases changelog into the boards' read model, from the offsets stored with it,
many records to a transaction."""

import asyncio

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from services.escalation.boards.board import Boards
from services.escalation.boards.store import cases as store
from services.escalation.topics import CASES_CHANGELOG, TABLES
from services.shared.kafka import SKIPPED, client_options
from services.shared.settings import PlatformSettings

log = structlog.get_logger()
CLIENT_ID = "escalation-boards-cases"


async def follow_cases(boards: Boards, caught_up: asyncio.Event, batch_records: int, settings: PlatformSettings) -> None:
    """Applies the changelog for as long as the caller runs; `caught_up` is set once the records there
    were at the start are applied, and cleared while an outage is waited out."""
    while True:
        try:
            await _follow(boards, caught_up, batch_records, settings)
        except Exception:  # noqa: BLE001 - an outage must not end the read model
            caught_up.clear()
            log.exception("following the cases changelog failed; starting again from the stored offsets")
            await asyncio.sleep(2.0)


async def _follow(boards: Boards, caught_up: asyncio.Event, batch_records: int, settings: PlatformSettings) -> None:
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers, client_id=CLIENT_ID, group_id=None,
                                enable_auto_commit=False, auto_offset_reset="earliest", **client_options(settings))
    await consumer.start()
    try:
        while CASES_CHANGELOG not in await consumer.topics():  # the worker creates its changelogs when it starts
            await asyncio.sleep(1.0)
        partitions = [TopicPartition(CASES_CHANGELOG, p) for p in range(TABLES["cases"])]
        consumer.assign(partitions)
        for partition, offset in (await store.start(boards.sessions, range(TABLES["cases"]))).items():
            consumer.seek(TopicPartition(CASES_CHANGELOG, partition), offset)
        ends = await consumer.end_offsets(partitions)
        while True:
            if not caught_up.is_set() and all([await consumer.position(tp) >= end for tp, end in ends.items()]):
                caught_up.set()
                log.info("caught up", client_id=CLIENT_ID)
            batch = await consumer.getmany(timeout_ms=1000, max_records=batch_records)
            if records := [record for each in batch.values() for record in each]:
                await boards.apply_cases([change for record in records if (change := _change(record))],
                                         {tp.partition: each[-1].offset + 1 for tp, each in batch.items() if each})
    finally:
        await consumer.stop()


def _change(record: ConsumerRecord) -> store.Change | None:
    try:
        return store.change(record.partition, record.offset, record.key, record.value)
    except Exception as error:  # noqa: BLE001 - a record the read model cannot apply is skipped, not retried
        SKIPPED.labels(CLIENT_ID, record.topic).inc()
        log.error("record skipped", client_id=CLIENT_ID, topic=record.topic, partition=record.partition,
                  offset=record.offset, error=type(error).__name__)
        return None
