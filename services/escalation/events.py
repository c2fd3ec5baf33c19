"""What the escalation service publishes under its own name: the source of its events, the ids it
derives from their causes, and the events of its own topics (its clock and what it observes).

Every event the service publishes has an id derived from what caused it, so a replay after a crash
republishes the same ids and consumers drop the copies."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.shared.events.complaints import Category
from services.shared.events.envelope import Envelope, Event, RegionEvent, wrap
from services.shared.events.fields import MAX_COUNT, MAX_ITEMS, StoreId, Timestamp
from services.shared.events.returns import PolicyRule
from services.shared.topics import Topic

SOURCE = "/services/escalation"
DERIVED = uuid.UUID("0b9a3a55-5c8e-4a8e-9a53-0e0a4f3c7d11")


def derived_id(*parts: object) -> uuid.UUID:
    return uuid.uuid5(DERIVED, ":".join(str(part) for part in parts))


@dataclass(frozen=True)
class Outgoing:
    """An event to publish, under the id derived from its cause, at the time of that cause."""

    topic: Topic
    event: Event
    id: uuid.UUID
    time: datetime

    def envelope(self) -> Envelope:
        subject = str(getattr(self.event, "complaint_id", "")) or None
        return wrap(self.event, source=SOURCE, time=self.time, subject=subject, id=self.id)


class Tick(Event):
    """The time on the worker's clock, sent to every partition: SLA deadlines are checked against it."""

    event_type: ClassVar[str] = "retail.escalation.tick.v1"
    partition: int = Field(ge=0, le=MAX_COUNT)
    now: Timestamp


class Observed(RegionEvent):
    """One complaint, or one policy rule that rejected a return, seen at a store."""

    event_type: ClassVar[str] = "retail.escalation.observed.v1"
    store_id: StoreId
    category: Category
    policy_rule: PolicyRule | None = None
    sample_id: uuid.UUID = Field(description="The complaint, or for a policy rule the return, it came from.")
    at: Timestamp

    @property
    def signature(self) -> str:
        return f"{self.region_id}|{self.category}|{self.policy_rule or ''}"


class Observation(BaseModel):
    """One observation under the id derived from its cause, by which the detector counts it once."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    id: uuid.UUID
    observed: Observed


class Observations(RegionEvent):
    """A region's observations from one batch of the worker's inputs, sent as one record: the
    detector reads one record a region and batch rather than one an observation."""

    event_type: ClassVar[str] = "retail.escalation.observations.v1"
    observations: tuple[Observation, ...] = Field(min_length=1, max_length=MAX_ITEMS)

    @model_validator(mode="after")
    def _of_its_region(self) -> "Observations":
        # The record is keyed, and its observations counted, by its region's partition.
        if any(each.observed.region_id != self.region_id for each in self.observations):
            raise ValueError("an observation of another region")
        return self
