"""Satisfaction, loss-prevention and staffing summaries of a set of windows (the stores and the time
range of a report). Rates are None when there is nothing to divide by."""

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime

from pydantic import BaseModel

from services.analytics.domain.totals import CSAT_BUCKETS, METRICS, Histogram
from services.analytics.domain.training import TrainingStatus
from services.analytics.domain.windows import Window, parse_key


class Duration(BaseModel):
    """How long it took; the percentiles are the upper bound of the histogram bucket they fall in
    (None beyond the last bucket)."""

    count: int
    mean_seconds: float | None
    p50_within_seconds: float | None
    p90_within_seconds: float | None


class Csat(BaseModel):
    surveys_issued: int
    answers: int
    response_rate: float | None
    mean: float | None
    distribution: dict[str, int]  # score "1" to "5" → answers


class Satisfaction(BaseModel):
    complaints_filed: int
    by_category: dict[str, int]
    by_channel: dict[str, int]
    by_severity: dict[str, int]
    by_mood: dict[str, int]
    acknowledged: int
    resolved: int
    first_contact_resolution_rate: float | None
    reopened: int
    reopen_rate: float | None  # reopened / resolved
    resolution_steps: dict[str, int]  # resolutions that recorded taking each step of the technique
    reopened_by_resolution_step: dict[str, int]  # reopenings whose last resolution had taken each step
    csat: Csat
    time_to_acknowledge: Duration
    time_to_resolve: Duration
    routed_by_tier: dict[str, int]
    escalation_rate_by_tier: dict[str, float]  # complaints routed to the tier / complaints filed
    raised_by_tier: dict[str, int]
    sla_breaches_by_tier: dict[str, int]
    sla_breach_rate: float | None  # missed deadlines / routing decisions
    pages: int


class LossPrevention(BaseModel):
    return_requests: int
    by_kind: dict[str, int]
    by_tender: dict[str, int]
    without_receipt: int
    no_receipt_share: float | None
    decisions: dict[str, int]  # approved, exception, rejected, declined
    value_euros: float  # given back, approved or by exception
    value_euros_by_tender: dict[str, float]
    policy_exceptions: int
    policy_exception_rate: float | None  # exceptions / requests
    policy_exception_value_euros: float
    exceptions_by_rule: dict[str, int]
    rejections_by_rule: dict[str, int]
    declines_by_reason: dict[str, int]  # requests over the approval amount a store manager declined
    signals_raised: dict[str, int]  # by metric
    signals_by_training: dict[str, int]  # by whether the staff member had completed the relevant training


class Staffed(BaseModel):
    """Complaints filed (whatever the channel) against the hours the store's staff were scheduled."""

    complaints_filed: int
    staffed_hours: float
    complaints_per_staffed_hour: float | None


class StaffedWindow(Staffed):
    start: datetime


class StoreStaffed(Staffed):
    store_id: str
    windows: list[StaffedWindow]  # those with complaints or staffed time, in order


class Staffing(Staffed):
    """All the stores together, and each store by window."""

    stores: list[StoreStaffed]


class Sums:
    """The windows' counters and histograms added up, by metric and labels."""

    def __init__(self, windows: Iterable[Window]) -> None:
        self.counters: dict[str, float] = defaultdict(float)
        self.histograms: dict[str, Histogram] = {}
        self.staffed_seconds = 0
        for window in windows:
            self.staffed_seconds += window.staffed_seconds
            for key, value in window.counters.items():
                self.counters[key] += value
            for key, histogram in window.histograms.items():
                total = self.histograms.setdefault(key, Histogram(buckets=[0] * len(histogram.buckets)))
                total.buckets = [a + b for a, b in zip(total.buckets, histogram.buckets, strict=True)]
                total.sum += histogram.sum
                total.count += histogram.count

    def total(self, metric: str, **match: str) -> float:
        return sum(self.by(metric, None, **match).values())

    def by(self, metric: str, label: str | None, **match: str) -> dict[str, float]:
        found: dict[str, float] = defaultdict(float)
        for key, value in self.counters.items():
            name, labels = parse_key(key)
            if name == metric and all(labels[k] == v for k, v in match.items()):
                found[labels[label] if label else ""] += value
        return dict(sorted(found.items()))

    def histogram(self, metric: str) -> Histogram:
        """All the metric's histograms added up (they have no labels besides region and store)."""
        return self.histograms.get(metric, Histogram.empty(METRICS[metric].buckets))


def satisfaction(sums: Sums) -> Satisfaction:
    filed = sums.total("retail_complaints_filed")
    resolved = sums.total("retail_complaints_resolved")
    reopened = sums.total("retail_complaints_reopened")
    routed = sums.by("retail_escalations_routed", "tier")
    scores = sums.histogram("retail_csat_score")
    issued = sums.total("retail_csat_surveys_issued")
    return Satisfaction(
        complaints_filed=filed,
        **{f"by_{label}": _ints(sums.by("retail_complaints_filed", label)) for label in ("category", "channel", "severity", "mood")},
        acknowledged=sums.total("retail_complaints_acknowledged"),
        resolved=resolved,
        first_contact_resolution_rate=_rate(sums.total("retail_complaints_resolved", first_contact="true"), resolved),
        reopened=reopened,
        reopen_rate=_rate(reopened, resolved),
        resolution_steps=_ints(sums.by("retail_resolution_steps", "step")),
        reopened_by_resolution_step=_ints(sums.by("retail_reopened_resolution_steps", "step")),
        csat=Csat(
            surveys_issued=issued, answers=scores.count, response_rate=_rate(scores.count, issued),
            mean=_rate(scores.sum, scores.count),
            distribution={f"{bound:g}": n for bound, n in zip(CSAT_BUCKETS, scores.buckets, strict=False)},
        ),
        time_to_acknowledge=_duration(sums.histogram("retail_complaint_acknowledge_seconds"), "retail_complaint_acknowledge_seconds"),
        time_to_resolve=_duration(sums.histogram("retail_complaint_resolve_seconds"), "retail_complaint_resolve_seconds"),
        routed_by_tier=_ints(routed),
        escalation_rate_by_tier={tier: round(n / filed, 4) for tier, n in routed.items()} if filed else {},
        raised_by_tier=_ints(sums.by("retail_escalations_raised", "tier")),
        sla_breaches_by_tier=_ints(sums.by("retail_sla_breaches", "tier")),
        sla_breach_rate=_rate(sums.total("retail_sla_breaches"), sum(routed.values())),
        pages=sums.total("retail_pages"),
    )


def loss_prevention(sums: Sums) -> LossPrevention:
    requests = sums.total("retail_return_requests")
    without_receipt = sums.total("retail_return_requests", receipt="no")
    exceptions = sums.total("retail_returns", decision="exception")
    value_by_tender = sums.by("retail_returns_value_euros", "tender")
    return LossPrevention(
        return_requests=requests,
        by_kind=_ints(sums.by("retail_return_requests", "kind")),
        by_tender=_ints(sums.by("retail_return_requests", "tender")),
        without_receipt=without_receipt,
        no_receipt_share=_rate(without_receipt, requests),
        decisions=_ints(sums.by("retail_returns", "decision")),
        value_euros=round(sum(value_by_tender.values()), 2),
        value_euros_by_tender={tender: round(value, 2) for tender, value in value_by_tender.items()},
        policy_exceptions=exceptions,
        policy_exception_rate=_rate(exceptions, requests),
        policy_exception_value_euros=round(sums.total("retail_policy_exceptions_value_euros"), 2),
        exceptions_by_rule=_ints(sums.by("retail_policy_exceptions", "rule")),
        rejections_by_rule=_ints(sums.by("retail_return_rejections", "rule")),
        declines_by_reason=_ints(sums.by("retail_returns_declined", "reason")),
        signals_raised=_ints(sums.by("retail_lossprevention_signals", "metric")),
        signals_by_training={status: round(sums.total("retail_lossprevention_signals_by_training", training=status))
                             for status in TrainingStatus},
    )


def staffed(sums: Sums) -> Staffed:
    filed, hours = sums.total("retail_complaints_filed"), sums.staffed_seconds / 3600
    return Staffed(complaints_filed=filed, staffed_hours=round(hours, 4), complaints_per_staffed_hour=_rate(filed, hours))


def staffing(stores: Mapping[str, list[tuple[datetime, Window]]]) -> Staffing:
    """Complaints per staffed hour of the stores' windows (by store: each window by its start)."""
    by_store = []
    for store, found in stores.items():
        windows = [StaffedWindow(start=start, **staffed(Sums([window])).model_dump()) for start, window in found]
        windows = [window for window in windows if window.complaints_filed or window.staffed_hours]
        if windows:
            by_store.append(StoreStaffed(store_id=store, **staffed(Sums(w for _, w in found)).model_dump(), windows=windows))
    return Staffing(**staffed(Sums(w for found in stores.values() for _, w in found)).model_dump(), stores=by_store)


def _duration(histogram: Histogram, metric: str) -> Duration:
    bounds = METRICS[metric].buckets
    return Duration(
        count=histogram.count, mean_seconds=_rate(histogram.sum, histogram.count),
        p50_within_seconds=_within(histogram, bounds, 0.5), p90_within_seconds=_within(histogram, bounds, 0.9),
    )


def _within(histogram: Histogram, bounds: tuple[float, ...], quantile: float) -> float | None:
    cumulative = 0
    for bound, n in zip(bounds, histogram.buckets, strict=False):
        cumulative += n
        if histogram.count and cumulative >= quantile * histogram.count:
            return bound
    return None


def _rate(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None


def _ints(values: dict[str, float]) -> dict[str, int]:
    return {key: round(value) for key, value in values.items()}
