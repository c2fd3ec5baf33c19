"""A complaint as the escalation service follows it: who has it, its deadlines (the SLA timer), its
breaches and pages. The worker keeps one case per complaint until a while after its resolution
(closing it changes nothing: it can still be reopened), for as long as ESCALATION_RESOLVED_KEPT_DAYS
says; the regional boards are built from the cases."""

from datetime import datetime, timedelta
from typing import Self
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from services.escalation.domain.routing import RoutingDecision
from services.escalation.domain.rules import Rules, later
from services.escalation.domain.sla import Breach, Timer
from services.shared.events.complaints import Category, Channel, ComplaintFiled, Mood, Severity
from services.shared.events.escalations import Assignee, DeadlineKind
from services.shared.events.fields import Tier


class BreachMark(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: DeadlineKind
    tier: Tier
    deadline: datetime
    at: datetime


class PageMark(BaseModel):
    model_config = ConfigDict(frozen=True)

    recipient: Assignee
    reason: str
    at: datetime


class Deadlines(BaseModel):
    """What the clock needs of a case, read from its JSON without the rest of it (a third of the time)."""

    acknowledge_by: datetime | None
    resolve_by: datetime
    resolved_at: datetime | None = None
    partition: int

    def next_due(self, kept: timedelta) -> datetime:
        return next_due(self, kept)


class Case(BaseModel):
    model_config = ConfigDict(frozen=True)

    complaint_id: UUID
    store_id: str
    region_id: str
    category: Category
    severity: Severity
    mood: Mood
    channel: Channel
    filed_at: datetime
    assignee: Assignee
    reason: str
    acknowledge_by: datetime | None
    resolve_by: datetime
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None
    staff_involved: str | None = None  # never shown on a board: only kept so it is never the assignee
    breaches: tuple[BreachMark, ...] = ()
    pages: tuple[PageMark, ...] = ()
    # The complaints topic partition the case lives on: a clock tick of that partition checks it.
    partition: int

    @classmethod
    def opened(cls, filed: ComplaintFiled, decision: RoutingDecision, partition: int, now: datetime) -> Self:
        return cls(
            complaint_id=filed.complaint_id, store_id=filed.store_id, region_id=filed.region_id,
            category=filed.category, severity=filed.severity, mood=filed.mood, channel=filed.channel,
            filed_at=filed.filed_at, assignee=decision.assignee, reason=decision.reason,
            acknowledge_by=decision.acknowledge_by, resolve_by=decision.resolve_by,
            staff_involved=filed.staff_involved, partition=partition,
            pages=() if decision.page is None else (PageMark(recipient=decision.page, reason=decision.page_reason or "", at=now),),
        )

    @property
    def open(self) -> bool:
        return self.resolved_at is None

    @property
    def timer(self) -> Timer:
        return Timer(self.assignee, self.acknowledge_by, self.resolve_by, self.staff_involved)

    def acknowledged(self, at: datetime) -> Self:
        if self.acknowledged_at is not None:
            return self
        return self.model_copy(update={"acknowledged_at": at, "acknowledge_by": None})

    def assigned(self, assignee: Assignee, at: datetime) -> Self:
        """Assigned by hand: to that person at that tier, acknowledged (as the complaints service takes
        an assignment to be), its resolve deadline kept. A raise made after the assignment stands, as
        it does in the complaints service: the later move wins."""
        if any(mark.at > at for mark in self.breaches):
            return self
        return self.acknowledged(at).model_copy(update={"assignee": assignee, "reason": f"assigned to {assignee.tier}"})

    def resolved(self, at: datetime) -> Self:
        return self.model_copy(update={"resolved_at": at})

    def reopened(self, rules: Rules, at: datetime) -> Self:
        """Open again at its tier, with that tier's deadlines from now."""
        acknowledge_by, resolve_by = rules.sla[self.assignee.tier].deadlines(at)
        return self.model_copy(
            update={"resolved_at": None, "acknowledged_at": None, "acknowledge_by": acknowledge_by, "resolve_by": resolve_by}
        )

    def breached(self, breach: Breach, at: datetime) -> Self:
        mark = BreachMark(kind=breach.kind, tier=breach.from_tier, deadline=breach.deadline, at=at)
        return self.model_copy(
            update={
                "assignee": breach.timer.assignee, "acknowledge_by": breach.timer.acknowledge_by,
                "resolve_by": breach.timer.resolve_by, "reason": breach.reason, "breaches": (*self.breaches, mark),
            }
        )

    def next_due(self, kept: timedelta) -> datetime:
        return next_due(self, kept)

    def expired(self, now: datetime, kept: timedelta) -> bool:
        return self.resolved_at is not None and now - self.resolved_at > kept


def next_due(case: Case | Deadlines, kept: timedelta) -> datetime:
    """When the clock next matters to a case: its nearest deadline, or when it expires (a resolved case
    is kept for `kept`, for a reopening)."""
    if case.resolved_at is not None:
        return later(case.resolved_at, kept)
    return min(case.acknowledge_by or case.resolve_by, case.resolve_by)
