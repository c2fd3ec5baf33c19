"""The demand of each open hour of a site's week from the complaints and returns counted in it.

An hour's load is its events averaged over the last complete weeks (a week without any counts as
none). The hour needs the base staffing plus one more person for each full `events_per_person` of
load, and an hour given more people whose load is at least `busy_factor` times the site's usual (the
average load of the week's open hours) is busy: it also needs a de-escalation-trained person.
"""

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

Slot = tuple[int, int]  # (day, local hour), day 0 = Monday


@dataclass(frozen=True)
class DemandRule:
    weeks: int
    base_people: int
    events_per_person: float
    busy_factor: float


@dataclass(frozen=True)
class HourDemand:
    load: float  # complaints and returns in the hour, on average
    people: int
    busy: bool


def history(week: date, this_week: date, weeks: int) -> list[date]:
    """The complete weeks a week's demand is averaged over, latest first: the `weeks` before it, or
    before the current one for a week to come."""
    last = min(week, this_week) - timedelta(weeks=1)
    return [last - timedelta(weeks=back) for back in range(weeks)]


def demand_of(counts: Mapping[Slot, int], open_slots: Iterable[Slot], rule: DemandRule) -> dict[Slot, HourDemand]:
    """Each open slot's demand from the events counted in its hour of the week over the rule's weeks."""
    slots = list(open_slots)
    usual = sum(counts.get(slot, 0) for slot in slots) / rule.weeks / len(slots) if slots else 0.0
    found = {}
    for slot in slots:
        events = counts.get(slot, 0)
        load = events / rule.weeks
        extra = math.floor(events / (rule.weeks * rule.events_per_person))
        found[slot] = HourDemand(load, rule.base_people + extra, extra > 0 and load >= rule.busy_factor * usual)
    return found
