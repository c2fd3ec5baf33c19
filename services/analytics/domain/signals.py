"""Per-staff loss-prevention signals: a staff member whose policy-exception or no-receipt rate stands
out against the store's peers, by a robust z-score (distance from the peers' median in units of
their median absolute deviation), over a rolling window of days."""

import statistics
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, Field

from services.shared.events.signals import LossMetric

MAD_TO_SIGMA = 1.4826  # scales the MAD to a standard deviation for normally distributed rates
MIN_SPREAD = 0.05  # rates within a few points of the peers' median are chance, however alike the peers are


class SignalRules(BaseModel):
    window_days: int = Field(7, ge=1, le=90)
    min_requests: int = Field(5, ge=1, description="Fewest requests in the window for a rate to be judged.")
    min_peers: int = Field(3, ge=2, description="Fewest other staff members with enough requests to compare to.")
    z: float = Field(3.5, gt=0, description="Robust z-score at which a rate stands out.")


class StaffDay(BaseModel):
    requests: int = 0
    no_receipt: int = 0
    exceptions: int = 0


class Standing(BaseModel):
    """One staff member's rate that stands out, with what it was compared to."""

    staff_id: str
    metric: LossMetric
    value: float
    peer_median: float
    robust_z: float
    window_start: datetime
    window_end: datetime


def day_of(at: datetime) -> str:
    return at.astimezone(UTC).date().isoformat()


def outliers(staff: dict[str, dict[str, StaffDay]], now: datetime, rules: SignalRules) -> list[Standing]:
    """Every staff member of one store whose rate stands out in the window ending at `now`."""
    first_day = (now.astimezone(UTC) - timedelta(days=rules.window_days - 1)).date().isoformat()
    totals: dict[str, StaffDay] = {}
    for staff_id, days in staff.items():
        total = totals[staff_id] = StaffDay()
        for day, counts in days.items():
            if day >= first_day:
                total.requests += counts.requests
                total.no_receipt += counts.no_receipt
                total.exceptions += counts.exceptions
    judged = {staff_id: total for staff_id, total in totals.items() if total.requests >= rules.min_requests}
    window_start = datetime.fromisoformat(first_day).replace(tzinfo=UTC)
    found = []
    for metric, rate in ((LossMetric.policy_exception_rate, lambda t: t.exceptions / t.requests),
                         (LossMetric.no_receipt_rate, lambda t: t.no_receipt / t.requests)):
        for staff_id, total in judged.items():
            peers = [rate(other) for other_id, other in judged.items() if other_id != staff_id]
            if len(peers) < rules.min_peers:
                continue
            median = statistics.median(peers)
            spread = max(MAD_TO_SIGMA * statistics.median(abs(p - median) for p in peers), MIN_SPREAD)
            value = rate(total)
            robust_z = (value - median) / spread
            if robust_z >= rules.z:
                found.append(Standing(staff_id=staff_id, metric=metric, value=round(value, 4), peer_median=round(median, 4),
                                      robust_z=round(robust_z, 2), window_start=window_start, window_end=now))
    return found
