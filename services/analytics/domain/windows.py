"""Tumbling windows of a store's counts: one per hour (UTC hours) and one per day (the chain's local
days), each keyed by region, store and start, so that a report for any range of whole hours or
days adds up the windows inside it.

An event is counted into the windows of the time it happened; a shift's staffed time into the
windows the shift overlaps, each its share, and taken out again when the shift moves or is
cancelled. Like the running totals, a window remembers the last offset it counted of each topic (a
store's events come from one partition of each), so a replay never counts an event twice."""

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field

from services.analytics.domain.staffing import Shift, ShiftChange
from services.analytics.domain.totals import METRICS, Change, Histogram
from services.shared.events.signals import LossPreventionSignal


class Granularity(StrEnum):
    hour = "hour"
    day = "day"


class Window(BaseModel):
    """A store's counts in one hour or day. Counter and histogram keys are the metric and its label
    values besides region and store, joined by '|' (see `series_key`)."""

    counters: dict[str, float] = Field(default_factory=dict)
    histograms: dict[str, Histogram] = Field(default_factory=dict)
    staffed_seconds: int = 0  # of the store's shifts in the window, as they stand
    offsets: dict[str, int] = Field(default_factory=dict)

    def record(self, changes: Iterable[Change], position: tuple[str, int], staffed_seconds: int = 0) -> bool:
        """Adds an event's changes and what it changed of the staffed time; False (and nothing changed)
        when this window counted it before."""
        topic, offset = position
        if offset <= self.offsets.get(topic, -1):
            return False
        self.offsets[topic] = offset
        if staffed_seconds:
            self.staffed_seconds += staffed_seconds
        for change in changes:
            key = series_key(change.metric, change.labels)
            if change.observed:
                buckets = METRICS[change.metric].buckets
                if (histogram := self.histograms.get(key)) is None:
                    histogram = self.histograms[key] = Histogram.empty(buckets)
                histogram.add(change.amount, buckets)
            else:
                self.counters[key] = self.counters.get(key, 0.0) + change.amount
        return True


PLACE = ("region", "store")  # in a window's key, not in its series' keys


def series_key(metric: str, labels: dict[str, str]) -> str:
    return "|".join([metric, *(value for name, value in labels.items() if name not in PLACE)])


def parse_key(key: str) -> tuple[str, dict[str, str]]:
    """The metric and its labels (besides region and store) of a window's counter or histogram key."""
    metric, *values = key.split("|")
    return metric, dict(zip([name for name in METRICS[metric].labels if name not in PLACE], values, strict=True))


def start_of(at: datetime, granularity: Granularity, zone: ZoneInfo) -> datetime:
    """The start of the hour (UTC) or local day that `at` falls in, in UTC."""
    if granularity is Granularity.hour:
        return _hour(int(at.timestamp() // 3600))
    # Asked twice for every event counted: worked out once per quarter hour (UTC), since time zones'
    # offsets, and the changes of them, are whole quarter hours, so a local day starts on one.
    return _local_day(int(at.timestamp() // 900), zone)


@lru_cache(maxsize=4096)
def _hour(hours: int) -> datetime:
    return datetime.fromtimestamp(hours * 3600, UTC)


@lru_cache(maxsize=4096)
def _local_day(quarters: int, zone: ZoneInfo) -> datetime:
    return midnight(datetime.fromtimestamp(quarters * 900, zone).date(), zone)


def midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)


def next_start(start: datetime, granularity: Granularity, zone: ZoneInfo) -> datetime:
    if granularity is Granularity.hour:
        return start + timedelta(hours=1)
    return midnight(start.astimezone(zone).date() + timedelta(days=1), zone)  # 23 or 25 hours on a DST change


@lru_cache(maxsize=4096)  # a store's windows of the hour and day, asked for at every event
def window_key(region: str, store: str, granularity: Granularity, start: datetime) -> bytes:
    return f"{region}|{store}|{granularity}|{start_text(start)}".encode()


def start_text(start: datetime) -> str:
    """A window's start in its key: in UTC, so that keys sort as their starts do."""
    return f"{start.astimezone(UTC):%Y-%m-%dT%H:%MZ}"


def parse_window_key(key: bytes) -> tuple[str, str, Granularity, datetime]:
    region, store, granularity, start = key.decode().split("|")
    return region, store, Granularity(granularity), datetime.strptime(start, "%Y-%m-%dT%H:%M%z")


def starts(first: datetime, end: datetime, granularity: Granularity, zone: ZoneInfo) -> list[datetime]:
    """The starts of the windows from the one `first` falls in, up to (not including) `end`."""
    found, start = [], start_of(first, granularity, zone)
    while start < end:
        found.append(start)
        start = next_start(start, granularity, zone)
    return found


def overlaps(shift: Shift, granularity: Granularity, zone: ZoneInfo) -> dict[datetime, int]:
    """The whole seconds of the shift in each window it overlaps, by the window's start."""
    found = {}
    for start in starts(shift.starts_at, shift.ends_at, granularity, zone):
        end = next_start(start, granularity, zone)
        found[start] = int((min(shift.ends_at, end) - max(shift.starts_at, start)).total_seconds())
    return found


def restaffed_seconds(changes: Iterable[ShiftChange], granularity: Granularity, zone: ZoneInfo) -> dict[datetime, int]:
    """What the shifts' changes add to the staffed seconds of each window (less where a shift left), by
    the window's start; windows whose staffed time stays as it was are left out."""
    found: dict[datetime, int] = defaultdict(int)
    for before, after in changes:
        for shift, sign in ((before, -1), (after, 1)):
            for start, seconds in (overlaps(shift, granularity, zone) if shift else {}).items():
                found[start] += sign * seconds
    return {start: seconds for start, seconds in found.items() if seconds}


@lru_cache(maxsize=4096)
def _oldest(latest: datetime, kept: timedelta, granularity: Granularity, zone: ZoneInfo) -> datetime:
    # Asked for each event's windows with the store's latest time, which changes far less often.
    return start_of(latest - kept, granularity, zone)


class WindowRules(BaseModel):
    zone: str = "Europe/Helsinki"
    hour_windows_kept: timedelta = timedelta(days=14)
    day_windows_kept: timedelta = timedelta(days=400)

    @property
    def timezone(self) -> ZoneInfo:
        return ZoneInfo(self.zone)

    def kept(self, granularity: Granularity) -> timedelta:
        return self.hour_windows_kept if granularity is Granularity.hour else self.day_windows_kept

    def oldest(self, latest: datetime, granularity: Granularity) -> datetime:
        """The start of a store's oldest window kept, when its latest event happened at `latest`."""
        return _oldest(latest, self.kept(granularity), granularity, self.timezone)

    def expired(self, previous: datetime | None, latest: datetime, granularity: Granularity) -> list[datetime]:
        """The starts of the windows that were kept when the store's latest event was at `previous`
        and are not any more. No window starts after `previous`, so however far `latest` jumps, this
        is at most the windows kept at one time."""
        found: list[datetime] = []
        if previous is None:
            return found
        start, end = self.oldest(previous, granularity), self.oldest(latest, granularity)
        while start < end and start <= previous:
            found.append(start)
            start = next_start(start, granularity, self.timezone)
        return found


class OpenSignals(BaseModel):
    """A store's loss-prevention signals whose staff member still stands out."""

    signals: list[LossPreventionSignal] = Field(default_factory=list)


def signals_key(region: str, store: str) -> bytes:
    return f"{region}|{store}|signals".encode()


class RangeError(ValueError):
    """A report's range that the windows cannot answer; `field` names the query parameter at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def windows_for(first: datetime, end: datetime, now: datetime, rules: WindowRules) -> tuple[Granularity, list[datetime]]:
    """The windows that add up to exactly [first, end): the local days when both are local midnights,
    otherwise the hours (kept for a shorter time)."""
    if end <= first:
        raise RangeError("to", "must be after from")
    zone = rules.timezone
    # A range is no longer than its windows are kept, so that the work a report asks for is bounded.
    if all(start_of(at, Granularity.day, zone) == at for at in (first, end)):
        if first < now - rules.day_windows_kept:
            raise RangeError("from", f"daily windows are kept for {rules.day_windows_kept.days} days")
        if end - first > rules.day_windows_kept:
            raise RangeError("to", f"a report covers at most {rules.day_windows_kept.days} days")
        return Granularity.day, starts(first, end, Granularity.day, zone)
    for field, at in (("from", first), ("to", end)):
        if start_of(at, Granularity.hour, zone) != at:
            raise RangeError(field, f"a report covers whole hours, or whole days from midnight in {rules.zone}")
    if first < now - rules.hour_windows_kept:
        raise RangeError("from", f"hourly windows are kept for {rules.hour_windows_kept.days} days; "
                                 f"for older ranges ask for whole days from midnight in {rules.zone}")
    if end - first > rules.hour_windows_kept:
        raise RangeError("to", f"a report by the hour covers at most {rules.hour_windows_kept.days} days; "
                               f"for longer ranges ask for whole days from midnight in {rules.zone}")
    return Granularity.hour, starts(first, end, Granularity.hour, zone)
