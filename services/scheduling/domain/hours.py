"""A site's opening hours: the same each week, with exceptions on given days (holidays), in the
site's own time zone. Shifts are checked against the periods they make in real (UTC) time, so a
day when the clocks change is as long as it really is."""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import IntEnum
from zoneinfo import ZoneInfo

Period = tuple[datetime, datetime]  # [start, end), aware


class Weekday(IntEnum):
    mon = 0
    tue = 1
    wed = 2
    thu = 3
    fri = 4
    sat = 5
    sun = 6


@dataclass(frozen=True)
class Opening:
    """Open from `opens` to `closes` local time on one day; `closes` None is midnight at the day's end."""

    opens: time
    closes: time | None

    def period(self, day: date, zone: ZoneInfo) -> Period:
        start = datetime.combine(day, self.opens, zone)
        end = datetime.combine(day + timedelta(days=1), time(0), zone) if self.closes is None else datetime.combine(
            day, self.closes, zone
        )
        return start.astimezone(UTC), end.astimezone(UTC)


@dataclass(frozen=True)
class OpeningHours:
    weekly: dict[Weekday, tuple[Opening, ...]]
    exceptions: dict[date, tuple[Opening, ...]] = field(default_factory=dict)  # () is closed all day

    def on(self, day: date) -> tuple[Opening, ...]:
        if day in self.exceptions:
            return self.exceptions[day]
        return self.weekly.get(Weekday(day.weekday()), ())


def open_periods(hours: OpeningHours, zone: ZoneInfo, start: datetime, end: datetime) -> list[Period]:
    """The site's open periods that touch [start, end), in UTC; periods that meet (a 24-hour site's
    days, one day closing at midnight and the next opening at once) are one period."""
    first = start.astimezone(zone).date() - timedelta(days=1)
    last = end.astimezone(zone).date() + timedelta(days=1)
    periods: list[Period] = []
    day = first
    while day <= last:
        periods.extend(opening.period(day, zone) for opening in hours.on(day))
        day += timedelta(days=1)
    merged: list[Period] = []
    for begins, ends in sorted(periods):
        if merged and begins <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], ends))
        else:
            merged.append((begins, ends))
    return [(begins, ends) for begins, ends in merged if begins < end and ends > start]


def is_open_throughout(hours: OpeningHours, zone: ZoneInfo, start: datetime, end: datetime) -> bool:
    return any(begins <= start and end <= ends for begins, ends in open_periods(hours, zone, start, end))


def week_of(moment: datetime, zone: ZoneInfo) -> date:
    """The Monday of the site's local week that `moment` falls in."""
    day = moment.astimezone(zone).date()
    return day - timedelta(days=day.weekday())


def week_end(week_start: date, zone: ZoneInfo) -> datetime:
    """When the local week that starts on `week_start` ends, in UTC."""
    return datetime.combine(week_start + timedelta(days=7), time(0), zone).astimezone(UTC)
