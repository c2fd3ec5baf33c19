"""Pipeline health for ops: how far behind each of the platform's consumer groups is, and how many
records wait in each dead-letter queue.

kafka-python blocks, and /metrics is answered on faust's event loop: so a task of the worker reads
the brokers in a thread every `refresh_s` and a scrape gets the last reading. While the brokers are
unreachable the last reading stays and each failed refresh logs a warning. Every replica of the
worker exports the same cluster-wide numbers: queries take `max by` over the replicas."""

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import faust
import structlog
from kafka.admin import KafkaAdminClient, OffsetSpec
from kafka.structs import TopicPartition
from prometheus_client.core import GaugeMetricFamily, Metric
from pydantic import Field
from pydantic_settings import BaseSettings

from services.shared.kafka import client_options
from services.shared.settings import PlatformSettings, settings_config
from services.shared.topics import TOPICS

log = structlog.get_logger()
LAG = "retail_kafka_consumer_lag_messages"
DLQ = "retail_dlq_messages"
DLQ_TOPICS = tuple(topic.dlq.name for topic in TOPICS)


class PipelineSettings(BaseSettings):
    model_config = settings_config("ANALYTICS_PIPELINE_")

    groups: list[str] = Field(
        ["analytics", "escalation"],
        description="The platform's consumer groups whose lag is exported (a JSON list); those not on the brokers "
        "yet are left out.",
    )
    refresh_s: float = Field(15.0, gt=0, description="Seconds between two readings of consumer lag and dead-letter queues.")
    timeout_s: float = Field(5.0, gt=0, description="Longest a reading waits to reach the brokers, and for each request.")


@dataclass(frozen=True)
class Reading:
    lag: dict[tuple[str, str], int]  # (group, topic) → messages the group has still to read
    dlq: dict[str, int]  # dead-letter topic → records in it


def lag(committed: Mapping[TopicPartition, int], beginning: Mapping[TopicPartition, int],
        end: Mapping[TopicPartition, int]) -> dict[str, int]:
    """A group's lag on each topic it committed offsets on: per partition, the records from its
    committed offset to the end. A partition it never committed on counts from the beginning (where
    our consumers start), and records removed by retention are no longer to be read."""
    topics = {tp.topic for tp in committed}
    by_topic = dict.fromkeys(sorted(topics), 0)
    for tp, last in end.items():
        if tp.topic in topics:
            by_topic[tp.topic] += max(0, last - max(committed.get(tp, 0), beginning[tp]))
    return by_topic


def records(topic: str, beginning: Mapping[TopicPartition, int], end: Mapping[TopicPartition, int]) -> int:
    """Records in the topic now (0 for a topic that does not exist)."""
    return sum(last - beginning[tp] for tp, last in end.items() if tp.topic == topic)


class Brokers:
    """Reads the pipeline from the brokers with one admin client, made again after a failure."""

    def __init__(self, platform: PlatformSettings, settings: PipelineSettings) -> None:
        self.platform, self.settings = platform, settings
        self._admin: KafkaAdminClient | None = None

    def read(self) -> Reading:
        try:
            return self._read(self._connect())
        except Exception:
            if self._admin is not None:
                self._admin.close()
                self._admin = None
            raise

    def _connect(self) -> KafkaAdminClient:
        if self._admin is None:
            timeout_ms = int(self.settings.timeout_s * 1000)
            self._admin = KafkaAdminClient(bootstrap_servers=self.platform.kafka_bootstrap_servers,
                                           client_id="analytics-pipeline", request_timeout_ms=timeout_ms,
                                           bootstrap_timeout_ms=timeout_ms, **client_options(self.platform))
        return self._admin

    def _read(self, admin: KafkaAdminClient) -> Reading:
        on_brokers = {group["group_id"] for group in admin.list_groups()}
        groups = [group for group in self.settings.groups if group in on_brokers]
        committed = {
            group: {tp: offset.offset for tp, offset in offsets.items() if offset.offset >= 0}
            for group, offsets in (admin.list_group_offsets(groups) if groups else {}).items()
        }
        topics = sorted({tp.topic for offsets in committed.values() for tp in offsets} | set(DLQ_TOPICS))
        partitions = [TopicPartition(topic["name"], partition["partition_index"])
                      for topic in admin.describe_topics(topics) if topic["error_code"] == 0
                      for partition in topic["partitions"]]
        beginning, end = _offsets(admin, partitions, OffsetSpec.EARLIEST), _offsets(admin, partitions, OffsetSpec.LATEST)
        return Reading(
            lag={(group, topic): n for group, offsets in committed.items()
                 for topic, n in lag(offsets, beginning, end).items()},
            dlq={topic: records(topic, beginning, end) for topic in DLQ_TOPICS},
        )


def _offsets(admin: KafkaAdminClient, partitions: list[TopicPartition], spec: OffsetSpec) -> dict[TopicPartition, int]:
    return {tp: found.offset for tp, found in admin.list_partition_offsets(dict.fromkeys(partitions, spec)).items()}


class PipelineCollector:
    """Serves the last reading on /metrics; `refresh_forever` takes a new one every `refresh_s`."""

    def __init__(self, read: Callable[[], Reading], refresh_s: float) -> None:
        self.read, self.refresh_s = read, refresh_s
        self.reading: Reading | None = None

    def refresh(self) -> None:
        try:
            self.reading = self.read()
        except Exception as error:  # noqa: BLE001 - whatever failed, the last reading is served; the log says what
            log.warning("pipeline metrics not refreshed: serving the last reading", error=f"{type(error).__name__}: {error}")

    async def refresh_forever(self) -> None:
        while True:
            await asyncio.to_thread(self.refresh)
            await asyncio.sleep(self.refresh_s)

    def collect(self) -> list[Metric]:
        lag_family = GaugeMetricFamily(LAG, "Records a consumer group has still to read: per partition, from its "
                                       "committed offset to the end offset.", labels=["group", "topic"])
        dlq_family = GaugeMetricFamily(DLQ, "Records in a dead-letter queue now (end minus beginning offset).",
                                       labels=["topic"])
        if (reading := self.reading) is not None:
            for (group, topic), n in sorted(reading.lag.items()):
                lag_family.add_metric([group, topic], n)
            for topic, n in sorted(reading.dlq.items()):
                dlq_family.add_metric([topic], n)
        return [lag_family, dlq_family]


def watch_pipeline(app: faust.App, platform: PlatformSettings) -> PipelineCollector:
    """The collector to register for /metrics, refreshed by a task of the app."""
    settings = PipelineSettings()
    collector = PipelineCollector(Brokers(platform, settings).read, settings.refresh_s)
    app.task(collector.refresh_forever)
    return collector
