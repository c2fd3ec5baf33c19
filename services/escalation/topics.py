"""The escalation worker's own topics: its clock, and what it observes for the common-problem
detector, re-keyed by region (stores of one region live on different partitions)."""

from typing import ClassVar
from uuid import UUID

from pydantic import AwareDatetime, Field

from services.shared.events.complaints import Category
from services.shared.events.envelope import Event, RegionEvent
from services.shared.events.fields import StoreId
from services.shared.events.returns import PolicyRule
from services.shared.topics import COORDINATION, DAY_MS, STORE_PARTITIONS, Topic, changelog


class Tick(Event):
    """The time on the worker's clock, sent to every partition: SLA deadlines are checked against it."""

    event_type: ClassVar[str] = "retail.escalation.tick.v1"
    partition: int = Field(ge=0)
    now: AwareDatetime


class Observed(RegionEvent):
    """One complaint, or one policy rule that rejected a return, seen at a store."""

    event_type: ClassVar[str] = "retail.escalation.observed.v1"
    store_id: StoreId
    category: Category
    policy_rule: PolicyRule | None = None
    sample_id: UUID = Field(description="The complaint, or for a policy rule the return, it came from.")
    at: AwareDatetime

    @property
    def signature(self) -> str:
        return f"{self.region_id}|{self.category}|{self.policy_rule or ''}"


CLOCK = Topic(
    "escalation.clock", "Ticks of the escalation worker's clock, one per partition.",
    STORE_PARTITIONS, "partition", "delete", DAY_MS, (Tick,),
)
OBSERVATIONS = Topic(
    "escalation.observations", "Complaints and return rejections by region, for common-problem detection.",
    COORDINATION.partitions, "region_id", "delete", 7 * DAY_MS, (Observed,),
)


TABLES = {
    "rosters": STORE_PARTITIONS, "routed": STORE_PARTITIONS, "cases": STORE_PARTITIONS,
    "watches": OBSERVATIONS.partitions,
}
CHANGELOGS = {table: changelog("escalation", table, partitions) for table, partitions in TABLES.items()}
INTERNAL_TOPICS = (CLOCK, OBSERVATIONS, CLOCK.dlq, OBSERVATIONS.dlq, *CHANGELOGS.values())
