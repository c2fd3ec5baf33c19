"""Consumer lag and dead-letter counts from offsets, and the collector that serves the last reading."""

from kafka.structs import TopicPartition
from prometheus_client import CollectorRegistry, generate_latest
from structlog.testing import capture_logs

from services.analytics.pipeline import DLQ_TOPICS, PipelineCollector, Reading, lag, records


def tp(topic: str, partition: int) -> TopicPartition:
    return TopicPartition(topic, partition)


def test_lag_is_the_records_from_the_committed_offset_to_the_end_summed_over_partitions():
    beginning = {tp("complaints", 0): 0, tp("complaints", 1): 0, tp("returns", 0): 0}
    end = {tp("complaints", 0): 10, tp("complaints", 1): 7, tp("returns", 0): 4}
    committed = {tp("complaints", 0): 6, tp("complaints", 1): 7, tp("returns", 0): 4}
    assert lag(committed, beginning, end) == {"complaints": 4, "returns": 0}


def test_a_partition_never_committed_on_counts_from_its_beginning():
    beginning = {tp("complaints", 0): 0, tp("complaints", 1): 3}
    end = {tp("complaints", 0): 10, tp("complaints", 1): 8}
    assert lag({tp("complaints", 0): 10}, beginning, end) == {"complaints": 5}


def test_records_removed_by_retention_are_not_lag():
    assert lag({tp("complaints", 0): 2}, {tp("complaints", 0): 50}, {tp("complaints", 0): 60}) == {"complaints": 10}


def test_only_topics_the_group_committed_on_have_lag():
    beginning = {tp("complaints", 0): 0, tp("complaints.dlq", 0): 0}
    end = {tp("complaints", 0): 5, tp("complaints.dlq", 0): 9}
    assert lag({tp("complaints", 0): 5}, beginning, end) == {"complaints": 0}


def test_records_in_a_topic_are_its_end_minus_its_beginning_offsets():
    beginning = {tp("complaints.dlq", 0): 4, tp("returns.dlq", 0): 0}
    end = {tp("complaints.dlq", 0): 7, tp("returns.dlq", 0): 0}
    assert records("complaints.dlq", beginning, end) == 3
    assert records("returns.dlq", beginning, end) == 0
    assert records("roster.dlq", beginning, end) == 0


def exposition(collector: PipelineCollector) -> list[str]:
    registry = CollectorRegistry()
    registry.register(collector)
    return [line for line in generate_latest(registry).decode().splitlines() if not line.startswith("#")]


READING = Reading(lag={("analytics", "complaints"): 12, ("escalation", "complaints"): 0},
                  dlq={topic: 3 if topic == "complaints.dlq" else 0 for topic in DLQ_TOPICS})


def test_the_last_reading_is_served_with_a_series_for_every_dlq_also_when_empty():
    collector = PipelineCollector(lambda: READING, refresh_s=15)
    assert exposition(collector) == []
    collector.refresh()
    lines = exposition(collector)
    assert 'retail_kafka_consumer_lag_messages{group="analytics",topic="complaints"} 12.0' in lines
    assert 'retail_kafka_consumer_lag_messages{group="escalation",topic="complaints"} 0.0' in lines
    assert 'retail_dlq_messages{topic="complaints.dlq"} 3.0' in lines
    assert {f'retail_dlq_messages{{topic="{topic}"}} 0.0' for topic in DLQ_TOPICS if topic != "complaints.dlq"} <= set(lines)
    assert len(lines) == 2 + len(DLQ_TOPICS)


def test_when_the_brokers_cannot_be_read_the_last_reading_stays_and_a_warning_is_logged():
    readings = iter([READING])

    def read() -> Reading:
        try:
            return next(readings)
        except StopIteration:
            raise ConnectionError("broker unreachable") from None

    collector = PipelineCollector(read, refresh_s=15)
    collector.refresh()
    before = exposition(collector)
    with capture_logs() as logs:
        collector.refresh()
    assert exposition(collector) == before
    assert [(log["log_level"], log["error"]) for log in logs] == [("warning", "ConnectionError: broker unreachable")]
