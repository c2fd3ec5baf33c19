"""What the analytics worker reads, keeps and publishes: its source topics, its tables and their
changelogs (the reports API follows the `reports` changelog), and how a loss-prevention signal's id
derives from the event that raised it, so that a replay after a crash publishes the same id again."""

from uuid import UUID, uuid5

from services.shared.topics import COMPLAINTS, COORDINATION, ESCALATIONS, RETURNS, SCHEDULING, STORE_PARTITIONS, changelog

APP_ID = "analytics"
SOURCE = "/services/analytics"
SOURCES = (COMPLAINTS, ESCALATIONS, RETURNS, SCHEDULING)  # keyed by store on the same partition count: one agent counts a store
SIGNAL_IDS = UUID("5f0c1d2e-3a4b-4c5d-8e6f-708192a3b4c5")

TOTALS_TABLE = "totals"  # each store's running totals, served to Prometheus
REPORTS_TABLE = "reports"  # the stores' windows and open signals, read by the reports API
REGIONS_TABLE = "regions"  # the regions' totals of common problems and policy proposals
TABLES = {TOTALS_TABLE: STORE_PARTITIONS, REPORTS_TABLE: STORE_PARTITIONS, REGIONS_TABLE: COORDINATION.partitions}
CHANGELOGS = {table: changelog(APP_ID, table, partitions) for table, partitions in TABLES.items()}
REPORTS_CHANGELOG = CHANGELOGS[REPORTS_TABLE].name


def signal_id(event_id: UUID, staff_id: str, metric: str) -> UUID:
    """The id of the signal about `staff_id`'s `metric` raised by the event `event_id`."""
    return uuid5(SIGNAL_IDS, f"{event_id}:{staff_id}:{metric}")
