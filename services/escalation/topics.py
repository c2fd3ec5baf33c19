"""The escalation worker's own topics and tables: its clock, what it observes for the common-problem
detector, re-keyed by region (stores of one region live on different partitions), and the
changelogs of its tables."""

from services.escalation.events import Observations, Observed, Tick
from services.shared.topics import COORDINATION, DAY_MS, STORE_PARTITIONS, Topic, changelog

APP_ID = "escalation"  # the worker's faust app id and consumer group, which its changelogs are named by
CLOCK = Topic(
    "escalation.clock", "Ticks of the escalation worker's clock, one per partition.",
    STORE_PARTITIONS, "partition", "delete", DAY_MS, (Tick,),
)
OBSERVATIONS = Topic(
    "escalation.observations", "Complaints and return rejections by region, for common-problem detection.",
    COORDINATION.partitions, "region_id", "delete", 7 * DAY_MS, (Observations, Observed),
)


TABLES = {
    "rosters": STORE_PARTITIONS, "routed": STORE_PARTITIONS, "cases": STORE_PARTITIONS,
    "watches": OBSERVATIONS.partitions,
}
CHANGELOGS = {table: changelog(APP_ID, table, partitions) for table, partitions in TABLES.items()}
CASES_CHANGELOG = CHANGELOGS["cases"].name  # the boards API reads the cases from it
INTERNAL_TOPICS = (CLOCK, OBSERVATIONS, CLOCK.dlq, OBSERVATIONS.dlq, *CHANGELOGS.values())
