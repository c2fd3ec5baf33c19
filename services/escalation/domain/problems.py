"""Common problems: one kind of complaint (or, for returns, one policy rule rejecting them) rising at
several stores of a region at once, each against its own recent history."""

from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from services.escalation.events import Observed
from services.shared.events.coordination import Evidence, StoreCount

HOUR = timedelta(hours=1)
RECENT_IDS = 2000  # replays after a restart are at most a few seconds of events
SAMPLES_PER_STORE = 5


class ProblemRules(BaseModel):
    """When a kind of complaint counts as a common problem of a region."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    stores: Annotated[StrictInt, Field(ge=2, description="Stores that must see the rise at once.")] = 3
    window_hours: Annotated[StrictInt, Field(ge=1, le=24 * 14)] = 24
    baseline_days: Annotated[StrictInt, Field(ge=1, le=90)] = 28
    min_count: Annotated[StrictInt, Field(ge=1, description="Fewest in the window for a store to count.")] = 3
    rise_factor: Annotated[float, Field(ge=1.0, description="Times the store's usual count for a window.")] = 2.0


class Watch(BaseModel):
    """What the detector remembers of one region and kind: hourly counts per store, a few samples,
    recent observation ids (so a replay counts nothing twice) and whether a problem is active."""

    counts: dict[str, dict[int, int]] = Field(default_factory=dict)  # store → hour (epoch hours) → count
    samples: dict[str, list[tuple[int, str]]] = Field(default_factory=dict)  # store → [(hour, id)]
    recent_ids: list[str] = Field(default_factory=list)
    active: bool = False

    @cached_property
    def recent(self) -> set[str]:
        """The recent ids as a set, to look an id up without scanning 2,000 of them. Not a field: not
        stored, nor compared; `observe` hands it on to the watch it returns."""
        return set(self.recent_ids)


def observe(watch: Watch, seen_id: str, seen: Observed, rules: ProblemRules) -> tuple[Watch, Evidence | None]:
    """The watch with the observation counted, and the evidence when a problem starts with it.
    A problem is reported once; it can be reported again only after it has died down."""
    recent = watch.recent
    if seen_id in recent:
        return watch, None
    now = _hour(seen.at)
    window_start = now - rules.window_hours + 1
    baseline_start = window_start - rules.baseline_days * 24
    counts = {
        store: {hour: n for hour, n in hours.items() if hour >= baseline_start}
        for store, hours in watch.counts.items()
    }
    store_counts = counts.setdefault(seen.store_id, {})
    store_counts[now] = store_counts.get(now, 0) + 1
    samples = {store: [s for s in kept if s[0] >= window_start] for store, kept in watch.samples.items()}
    samples[seen.store_id] = [*samples.get(seen.store_id, []), (now, str(seen.sample_id))][-SAMPLES_PER_STORE:]

    rising = []
    for store, hours in counts.items():
        in_window = sum(n for hour, n in hours.items() if hour >= window_start)
        baseline = sum(n for hour, n in hours.items() if hour < window_start) * rules.window_hours / (rules.baseline_days * 24)
        if in_window >= rules.min_count and in_window >= rules.rise_factor * baseline:
            rising.append(StoreCount(store_id=store, count=in_window, baseline=round(baseline, 3)))
    # Built from the watch already validated and the validated observation: not validated again
    # (with its recent ids, that was most of an observation's cost).
    updated = Watch.model_construct(
        counts={store: hours for store, hours in counts.items() if hours},
        samples={store: kept for store, kept in samples.items() if kept},
        recent_ids=[*watch.recent_ids, seen_id][-RECENT_IDS:],
        active=len(rising) >= rules.stores,
    )
    if len(recent) == len(watch.recent_ids):  # no id twice in the list: its set can follow it
        del watch.__dict__["recent"]  # the watch given builds its own again if it is asked
        recent.add(seen_id)
        recent.difference_update(watch.recent_ids[: max(0, len(watch.recent_ids) + 1 - RECENT_IDS)])
        updated.__dict__["recent"] = recent
    if not updated.active or watch.active:
        return updated, None
    rising.sort(key=lambda count: (-count.count, count.store_id))
    sample_ids = [sample for count in rising for _, sample in samples.get(count.store_id, [])][:20]
    evidence = Evidence(
        category=seen.category,
        policy_rule=seen.policy_rule,
        window_start=_time(window_start),
        window_end=_time(now + 1),
        stores=rising,
        **{"sample_return_ids" if seen.policy_rule else "sample_complaint_ids": sample_ids},
    )
    return updated, evidence


def _hour(at: datetime) -> int:
    return int(at.timestamp() // 3600)


def _time(hour: int) -> datetime:
    return datetime.fromtimestamp(hour * 3600, UTC)
