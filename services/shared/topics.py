"""The topic registry: the one source for creating topics and for which events each may carry."""

from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

from services.shared.events import complaints, coordination, deadletter, escalations, returns, roster, scheduling, signals
from services.shared.events.envelope import Event

DAY_MS = 24 * 60 * 60 * 1000


@dataclass(frozen=True)
class Topic:
    name: str
    description: str
    partitions: int
    key_field: str
    cleanup_policy: Literal["delete", "compact"]
    retention_ms: int  # -1 keeps records forever
    events: tuple[type[Event], ...] = field(repr=False)

    @cached_property
    def event_classes(self) -> dict[str, type[Event]]:
        return {event.event_type: event for event in self.events}

    def key(self, event: Event) -> bytes | None:
        value = getattr(event, self.key_field)
        return None if value is None else str(value).encode()

    @cached_property
    def dlq(self) -> "Topic":
        return Topic(
            name=f"{self.name}.dlq",
            description=f"Records of `{self.name}` that could not be processed, with the reason.",
            partitions=1,
            key_field="key",
            cleanup_policy="delete",
            retention_ms=30 * DAY_MS,
            events=deadletter.EVENTS,
        )


def changelog(app_id: str, table: str, partitions: int) -> Topic:
    """faust's changelog of a stream worker's table (faust names them <app id>-<table>-changelog), to
    create before the worker starts: created by faust while the worker joins its group, a changelog
    can be taken for one with 0 partitions until the next metadata refresh, and every write to the
    table fails."""
    return Topic(f"{app_id}-{table}-changelog", f"The {app_id} worker's {table} table.", partitions, "", "compact", -1, ())


# Store-keyed topics share one partition count so that one store's complaints, returns,
# escalations and roster land on the same partition number and their state is co-partitioned.
STORE_PARTITIONS = 12


def by_store(name: str, events: tuple[type[Event], ...], description: str, retention_days: int = 90) -> Topic:
    return Topic(name, description, STORE_PARTITIONS, "store_id", "delete", retention_days * DAY_MS, events)


COMPLAINTS = by_store(
    "complaints", complaints.EVENTS,
    "A complaint's lifecycle, CSAT answers and erasures, published by the complaints service.",
)
RETURNS = by_store(
    "returns", returns.EVENTS,
    "Returns, refunds and exchanges and their policy decisions, published by the complaints service.",
)
ESCALATIONS = by_store(
    "escalations", escalations.EVENTS,
    "Routing decisions, pages and SLA tier moves, published by the escalation service.",
)
SCHEDULING = by_store(
    "scheduling", scheduling.EVENTS,
    "Shifts, training sessions and coaching notes, published by the scheduling service.",
)
SIGNALS = by_store(
    "analytics.signals", signals.EVENTS,
    "Loss-prevention signals about staff members, published by the analytics service.", 365,
)
ROSTER = Topic(
    "roster", "The latest on-duty roster of each store (compacted), published by the scheduling service.",
    STORE_PARTITIONS, "store_id", "compact", -1, roster.EVENTS,
)
COORDINATION = Topic(
    "coordination", "Common problems and policy proposals per region, published by the escalation service.",
    6, "region_id", "delete", 365 * DAY_MS, coordination.EVENTS,
)

TOPICS: tuple[Topic, ...] = (COMPLAINTS, RETURNS, ESCALATIONS, COORDINATION, ROSTER, SCHEDULING, SIGNALS)
ALL_TOPICS: tuple[Topic, ...] = TOPICS + tuple(topic.dlq for topic in TOPICS)
