"""A store's running totals for satisfaction and loss prevention, and how each event changes them
(a region's totals of common problems and policy proposals are kept in the same shape).

One `StoreTotals` per store holds every counter and histogram of the store, the unresolved
complaints (to time acknowledgement and resolution), the shifts that can still change and each staff
member's completed training, and where its counting got to; an event
changes one store's totals, so counting it and remembering it is one write, and a replay counts
nothing twice."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, NamedTuple

from pydantic import BaseModel, Field, PrivateAttr

from services.analytics.domain import training
from services.analytics.domain.signals import SignalRules, StaffDay, Standing, day_of, outliers
from services.analytics.domain.staffing import Shift, ShiftChange, Staffing, counted
from services.shared.events import complaints as c
from services.shared.events import coordination as co
from services.shared.events import escalations as e
from services.shared.events import returns as r
from services.shared.events import scheduling as s
from services.shared.events.envelope import Envelope
from services.shared.events.fields import Money
from services.shared.events.signals import LossMetric, LossPreventionSignal

STAFF_DAYS_KEPT = timedelta(days=90)  # the longest signal window allowed
RECENT_IDS = 500  # for copies of an event published twice; a replay after a restart is caught by offset
MAX_OPEN = 1000  # unresolved complaints a store's totals time; beyond it the oldest are forgotten
MAX_RESOLVED = 1000  # resolved complaints whose resolution steps a store keeps for a reopening; beyond it the oldest go
MAX_TRAINED = 1000  # staff members whose training a store keeps; beyond it the first recorded are forgotten
DURATION_BUCKETS = (60.0, 300.0, 900.0, 1800.0, 3600.0, 4 * 3600.0, 8 * 3600.0, 24 * 3600.0, 3 * 24 * 3600.0)
CSAT_BUCKETS = (1.0, 2.0, 3.0, 4.0, 5.0)


class Metric(BaseModel):
    name: str
    kind: Literal["counter", "histogram"]
    help: str
    labels: tuple[str, ...]
    buckets: tuple[float, ...] = ()


STORE = ("region", "store")
METRICS = {
    m.name: m
    for m in (
        Metric(name="retail_complaints_filed", kind="counter", help="Complaints filed.",
               labels=(*STORE, "category", "channel", "severity", "mood")),
        Metric(name="retail_complaints_acknowledged", kind="counter", help="Complaints acknowledged.", labels=STORE),
        Metric(name="retail_complaints_resolved", kind="counter",
               help="Complaints resolved; first_contact says whether in the first interaction.",
               labels=(*STORE, "first_contact")),
        Metric(name="retail_complaints_reopened", kind="counter", help="Resolved complaints reopened.", labels=STORE),
        Metric(name="retail_resolution_steps", kind="counter",
               help="Resolutions that recorded taking the step of the technique (defuse, isolate_core_problem, "
               "address_concerns).", labels=(*STORE, "step")),
        Metric(name="retail_reopened_resolution_steps", kind="counter",
               help="Reopened complaints whose last resolution recorded taking the step of the technique.",
               labels=(*STORE, "step")),
        Metric(name="retail_complaint_acknowledge_seconds", kind="histogram",
               help="Time from filing to acknowledgement.", labels=STORE, buckets=DURATION_BUCKETS),
        Metric(name="retail_complaint_resolve_seconds", kind="histogram",
               help="Time from filing to (first) resolution.", labels=STORE, buckets=DURATION_BUCKETS),
        Metric(name="retail_csat_surveys_issued", kind="counter", help="CSAT surveys offered (one per resolution).",
               labels=STORE),
        Metric(name="retail_csat_score", kind="histogram", help="CSAT answers, 1 (worst) to 5 (best).",
               labels=STORE, buckets=CSAT_BUCKETS),
        Metric(name="retail_escalations_routed", kind="counter", help="Routing decisions by the tier routed to.",
               labels=(*STORE, "tier")),
        Metric(name="retail_escalations_raised", kind="counter", help="Escalations moved up, by the tier raised to.",
               labels=(*STORE, "tier")),
        Metric(name="retail_sla_breaches", kind="counter", help="Missed SLA deadlines by tier and deadline.",
               labels=(*STORE, "tier", "deadline")),
        Metric(name="retail_pages", kind="counter", help="Immediate pages of the on-duty manager or coordinator.",
               labels=STORE),
        Metric(name="retail_return_requests", kind="counter", help="Return, refund and exchange requests.",
               labels=(*STORE, "kind", "tender", "receipt")),
        Metric(name="retail_returns", kind="counter",
               help="Returns, refunds and exchanges decided, by decision (approved, exception, rejected, declined).",
               labels=(*STORE, "kind", "tender", "decision")),
        Metric(name="retail_returns_value_euros", kind="counter",
               help="Value of returns, refunds and exchanges given back (approved or by exception).",
               labels=(*STORE, "kind", "tender")),
        Metric(name="retail_return_rejections", kind="counter", help="Rejected requests by the policy rule broken.",
               labels=(*STORE, "rule")),
        Metric(name="retail_returns_declined", kind="counter",
               help="Requests over the approval amount declined by a store manager, by the reason's category.",
               labels=(*STORE, "reason")),
        Metric(name="retail_policy_exceptions", kind="counter",
               help="Policy exceptions granted by a manager, by the rule set aside.", labels=(*STORE, "rule")),
        Metric(name="retail_policy_exceptions_value_euros", kind="counter", help="Value given back by exception.",
               labels=STORE),
        Metric(name="retail_lossprevention_signals", kind="counter",
               help="Staff members whose rate stood out against the store's peers (who is in the events).",
               labels=(*STORE, "metric")),
        Metric(name="retail_lossprevention_signals_by_training", kind="counter",
               help="Loss-prevention signals by whether the staff member had completed the training relevant to the "
               "metric (returns) when signalled.", labels=(*STORE, "metric", "training")),
        Metric(name="retail_common_problems_detected", kind="counter",
               help="Common problems detected across a region's stores, by category.", labels=("region", "category")),
        Metric(name="retail_common_problems_acknowledged", kind="counter",
               help="Common problems acknowledged by a regional coordinator.", labels=("region",)),
        Metric(name="retail_policy_proposals", kind="counter",
               help="Policy changes proposed to senior management.", labels=("region",)),
        Metric(name="retail_policy_decisions", kind="counter",
               help="Policy proposals decided by senior management.", labels=("region", "decision")),
    )
}


class Histogram(BaseModel):
    buckets: list[int]  # per bucket, not cumulative; the last is +Inf
    sum: float = 0.0
    count: int = 0

    @classmethod
    def empty(cls, bounds: tuple[float, ...]) -> "Histogram":
        return cls(buckets=[0] * (len(bounds) + 1))

    def add(self, value: float, bounds: tuple[float, ...]) -> None:
        self.buckets[next((i for i, bound in enumerate(bounds) if value <= bound), len(bounds))] += 1
        self.sum += value
        self.count += 1


class Change(NamedTuple):
    """One change an event made to a series: an amount added, or a value observed by a histogram."""

    metric: str
    labels: dict[str, str]
    amount: float
    observed: bool = False


class Series(BaseModel):
    metric: str
    labels: dict[str, str]
    value: float = 0.0
    histogram: Histogram | None = None


@dataclass(slots=True)
class OpenComplaint:
    """Not a model: a store's totals hold a thousand, and a model's instance takes three times the
    memory. It reads and writes the same JSON."""

    filed_at: datetime
    acknowledged: bool = False


class StoreTotals(BaseModel):
    series: dict[str, Series] = Field(default_factory=dict)
    open: dict[str, OpenComplaint] = Field(default_factory=dict)  # complaint id → times
    # complaint id → the steps its last resolution took, until it is reopened (closed ones may be too)
    resolved_steps: dict[str, list[str]] = Field(default_factory=dict)
    staff: dict[str, dict[str, StaffDay]] = Field(default_factory=dict)  # staff id → day → return counts
    signalled: set[str] = Field(default_factory=set)  # "staff|metric" standing out now, reported once
    open_signals: dict[str, LossPreventionSignal] = Field(default_factory=dict)  # of those, the signal raised
    staffing: Staffing | None = None  # from the store's first shift on
    trained: dict[str, training.Completed] = Field(default_factory=dict)  # staff id → training completed
    recent_ids: list[str] = Field(default_factory=list)
    offsets: dict[str, int] = Field(default_factory=dict)  # topic → the last offset counted (a store is on one partition)
    latest: datetime | None = None  # the latest time of an event counted: how far the store's windows go
    _changes: list[Change] = PrivateAttr(default_factory=list)
    _restaffed: list[ShiftChange] = PrivateAttr(default_factory=list)
    # `recent_ids` as a set, and the list it was built from (a copy, or a list set in its place, is built again)
    _recent: tuple[list[str], set[str]] | None = PrivateAttr(default=None)

    def recently_counted(self, event_id: str) -> bool:
        """Whether the id is among `recent_ids`, without scanning the list."""
        return event_id in self._recent_set()

    def remember(self, event_id: str) -> None:
        """Adds the id to `recent_ids`, forgetting the oldest beyond `RECENT_IDS`."""
        recent, ids = self._recent_set(), self.recent_ids
        ids.append(event_id)
        recent.add(event_id)
        if len(ids) > RECENT_IDS:
            recent.difference_update(ids[:-RECENT_IDS])
            del ids[:-RECENT_IDS]
            if len(recent) != len(ids):  # an id was in the list twice: built again when next asked
                self.__pydantic_private__["_recent"] = None

    def _recent_set(self) -> set[str]:
        # Private attributes are read from `__pydantic_private__` directly: pydantic's `__getattr__` costs
        # more than the look-up it saves, once per event.
        ids, private = self.recent_ids, self.__pydantic_private__
        built = private["_recent"]
        if built is None or built[0] is not ids or len(built[1]) != len(ids):
            built = private["_recent"] = ids, set(ids)
        return built[1]

    def take_changes(self) -> list[Change]:
        """The changes to the series since the last call (for the store's windows)."""
        private = self.__pydantic_private__  # see `_recent_set`
        changes, private["_changes"] = private["_changes"], []
        return changes

    def take_restaffed(self) -> list[ShiftChange]:
        """The changes to the store's shifts since the last call (for the windows they overlap)."""
        private = self.__pydantic_private__  # see `_recent_set`
        if not (restaffed := private["_restaffed"]):
            return []
        private["_restaffed"] = []
        return restaffed

    def signals(self, region: str, store: str, now: datetime, rules: SignalRules) -> list[Standing]:
        """The staff rates that began to stand out with the latest event (each reported once, and
        again only after it stopped standing out); they are counted too."""
        standing = {f"{s.staff_id}|{s.metric}": s for s in outliers(self.staff, now, rules)}
        fresh = [s for key, s in standing.items() if key not in self.signalled]
        self.signalled = set(standing)
        for signal in fresh:
            labels = {"region": region, "store": store, "metric": signal.metric}
            self.add("retail_lossprevention_signals", labels)
            status = training.status(self.trained.get(signal.staff_id, {}), signal.metric, now)
            self.add("retail_lossprevention_signals_by_training", {**labels, "training": status})
        return fresh

    def restaff(self, region: str, store: str, shift_id: str, shift: Shift | None) -> None:
        """Sets a shift's times (None: it counts no more)."""
        staffing = self.staffing = self.staffing or Staffing(region_id=region, store_id=store)
        change = staffing.change(shift_id, shift, self.latest)
        if change.before != change.after:
            self._restaffed.append(change)

    def add(self, metric: str, labels: dict[str, str], amount: float = 1.0) -> None:
        self._series(metric, labels).value += amount
        self.__pydantic_private__["_changes"].append(Change(metric, labels, amount))

    def declare(self, metric: str, labels: dict[str, str]) -> None:
        """A series exposed at 0 until it is counted."""
        self._series(metric, labels)

    def observe(self, metric: str, labels: dict[str, str], value: float) -> None:
        series = self._series(metric, labels)
        buckets = METRICS[metric].buckets
        histogram = series.histogram = series.histogram or Histogram.empty(buckets)
        histogram.add(value, buckets)
        self.__pydantic_private__["_changes"].append(Change(metric, labels, value, observed=True))

    def _series(self, metric: str, labels: dict[str, str]) -> Series:
        expected = METRICS[metric].labels
        assert tuple(labels) == expected, f"{metric}: labels {tuple(labels)} are not {expected}"
        key = metric + "|" + "|".join(labels.values())
        if (series := self.series.get(key)) is None:  # not setdefault: a Series is built only when new
            series = self.series[key] = Series(metric=metric, labels=labels)
        return series


def count(totals: StoreTotals, envelope: Envelope, position: tuple[str, int] | None = None) -> bool:
    """Counts the event into its store's totals; False (and nothing changed) when it was counted before:
    read again after a restart (its `position`, topic and offset, is not past the last counted), or
    published twice (its id is among the recent ones)."""
    if position is not None:
        topic, offset = position
        if offset <= totals.offsets.get(topic, -1):
            return False
        totals.offsets[topic] = offset
    event_id = str(envelope.id)
    if totals.recently_counted(event_id):
        return False
    _apply(totals, envelope.data)
    totals.latest = max(totals.latest or envelope.time, envelope.time)
    totals.remember(event_id)
    return True


def _apply(totals: StoreTotals, event: object) -> None:  # noqa: C901 - one case per event type
    store = {"region": getattr(event, "region_id", ""), "store": getattr(event, "store_id", "")}
    match event:
        case c.ComplaintFiled():
            totals.add("retail_complaints_filed", {**store, "category": event.category, "channel": event.channel,
                                                   "severity": event.severity, "mood": event.mood})
            totals.open[str(event.complaint_id)] = OpenComplaint(filed_at=event.filed_at)
            _keep_latest(totals.open, MAX_OPEN)
        case c.ComplaintAcknowledged():
            totals.add("retail_complaints_acknowledged", store)
            if (known := totals.open.get(str(event.complaint_id))) and not known.acknowledged:
                known.acknowledged = True
                totals.observe("retail_complaint_acknowledge_seconds", store, _seconds(known.filed_at, event.at))
        case c.ComplaintResolved():
            totals.add("retail_complaints_resolved", {**store, "first_contact": str(event.first_contact).lower()})
            totals.add("retail_csat_surveys_issued", store)
            if known := totals.open.pop(str(event.complaint_id), None):  # timed once: a reopened one is not again
                totals.observe("retail_complaint_resolve_seconds", store, _seconds(known.filed_at, event.at))
            _resolved_with(totals, store, str(event.complaint_id), event.steps)
        case c.ComplaintReopened():
            totals.add("retail_complaints_reopened", store)
            for step in totals.resolved_steps.pop(str(event.complaint_id), []):
                totals.add("retail_reopened_resolution_steps", {**store, "step": step})
        case c.ComplaintClosed():
            totals.open.pop(str(event.complaint_id), None)
        case c.CsatSubmitted():
            totals.observe("retail_csat_score", store, float(event.score))
        case e.EscalationRouted():
            totals.add("retail_escalations_routed", {**store, "tier": event.assignee.tier})
        case e.EscalationRaised():
            totals.add("retail_escalations_raised", {**store, "tier": event.assignee.tier})
        case e.EscalationBreached():
            totals.add("retail_sla_breaches", {**store, "tier": event.tier, "deadline": event.deadline_kind})
        case e.EscalationPaged():
            totals.add("retail_pages", store)
        case r.ReturnRequested():
            receipt = "no" if event.receipt_number is None else "yes"
            totals.add("retail_return_requests", {**store, "kind": event.kind, "tender": event.tender, "receipt": receipt})
            for metric in LossMetric:  # at 0 from the first request: Prometheus sees the first signal as an increase
                totals.declare("retail_lossprevention_signals", {**store, "metric": metric})
                for status in training.TrainingStatus:
                    totals.declare("retail_lossprevention_signals_by_training", {**store, "metric": metric, "training": status})
            day = _staff_day(totals, event.requested_by, event.at)
            day.requests += 1
            day.no_receipt += int(event.receipt_number is None)
        case r.ReturnApproved():
            _decided(totals, store, event, "approved")
        case r.ReturnRejected():
            _decided(totals, store, event, "rejected")
            for rule in event.rules:
                totals.add("retail_return_rejections", {**store, "rule": rule})
        case r.ReturnDeclined():
            _decided(totals, store, event, "declined")
            totals.add("retail_returns_declined", {**store, "reason": event.reason})
        case r.ReturnExceptionGranted():
            _decided(totals, store, event, "exception")
            for rule in event.rules:
                totals.add("retail_policy_exceptions", {**store, "rule": rule})
            totals.add("retail_policy_exceptions_value_euros", store, _euros(event.amount))
            _staff_day(totals, event.requested_by, event.at).exceptions += 1
        case s.ShiftScheduled():
            totals.restaff(event.region_id, event.store_id, str(event.shift_id), counted(event))
        case s.ShiftCancelled():
            totals.restaff(event.region_id, event.store_id, str(event.shift_id), None)
        case s.TrainingCompleted():
            for staff_id in event.attended:
                training.complete(totals.trained.setdefault(staff_id, {}), event.kind, event.at)
            _keep_latest(totals.trained, MAX_TRAINED)
        case co.ProblemDetected():
            totals.add("retail_common_problems_detected", {"region": event.region_id, "category": event.evidence.category})
        case co.ProblemAcknowledged():
            totals.add("retail_common_problems_acknowledged", {"region": event.region_id})
        case co.PolicyProposed():
            totals.add("retail_policy_proposals", {"region": event.region_id})
        case co.PolicyDecided():
            totals.add("retail_policy_decisions", {"region": event.region_id, "decision": event.decision})


def _decided(totals: StoreTotals, store: dict[str, str], event: r.ReturnEvent, decision: str) -> None:
    kind, tender = event.kind, event.tender  # type: ignore[attr-defined]
    totals.add("retail_returns", {**store, "kind": kind, "tender": tender, "decision": decision})
    if decision in ("approved", "exception"):
        totals.add("retail_returns_value_euros", {**store, "kind": kind, "tender": tender}, _euros(event.amount))  # type: ignore[attr-defined]


def _resolved_with(totals: StoreTotals, store: dict[str, str], complaint_id: str, steps: c.ResolutionSteps | None) -> None:
    """Counts the steps a resolution took, and keeps them for a reopening, which counts them against
    it: how often each step was taken on complaints that came back. Every step of the technique is
    exposed from a store's first recorded steps on, so a ratio of the two has a denominator."""
    totals.resolved_steps.pop(complaint_id, None)  # kept in the order resolved: the oldest are forgotten first
    if steps is None:
        return
    taken = [str(step) for step in steps.taken()]
    for step in c.Technique:
        totals.declare("retail_resolution_steps", {**store, "step": step})
        totals.declare("retail_reopened_resolution_steps", {**store, "step": step})
    for step in taken:
        totals.add("retail_resolution_steps", {**store, "step": step})
    totals.resolved_steps[complaint_id] = taken
    _keep_latest(totals.resolved_steps, MAX_RESOLVED)


def _keep_latest(entries: dict, n: int) -> None:
    """Forgets the entries added first beyond the latest `n` (without listing them all, once an event)."""
    while len(entries) > n:
        del entries[next(iter(entries))]


def _staff_day(totals: StoreTotals, staff_id: str, at: datetime) -> StaffDay:
    days = totals.staff.setdefault(staff_id, {})
    oldest = day_of(at - STAFF_DAYS_KEPT)
    for day in [day for day in days if day < oldest]:
        del days[day]
    return days.setdefault(day_of(at), StaffDay())


def _seconds(start: datetime, end: datetime) -> float:
    return max(0.0, (end - start).total_seconds())


def _euros(amount: Money) -> float:
    return amount.minor_units / 100 if amount.currency == "EUR" else 0.0
