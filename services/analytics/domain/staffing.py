"""Staffed time: the shifts a store's staff are scheduled for, and how many of them are on duty at a
moment. The scheduling service sends a shift again with its new times when it is edited, and
cancels it with an event of its own: the latest times count, a cancelled shift counts nothing. So
each store keeps the times its shifts count with, as long as they can still change, and every change
is handed on as a `ShiftChange` (the times before and after) for the windows the shift overlaps."""

from datetime import datetime, timedelta
from typing import NamedTuple

from pydantic import BaseModel, Field

from services.shared.events.fields import Tier
from services.shared.events.scheduling import ShiftScheduled

# Regional coordinators and senior managers are scheduled at a store but serve a whole region or chain.
STAFFING_TIERS = frozenset({Tier.associate, Tier.coordinator, Tier.store_manager})
MAX_SHIFT = timedelta(hours=24)  # the longest shift the scheduling service can be set to allow
# The scheduling service changes no shift that has ended; a day's grace for events that come late.
KEPT_AFTER_END = timedelta(days=1)


class Shift(BaseModel):
    starts_at: datetime
    ends_at: datetime


class ShiftChange(NamedTuple):
    before: Shift | None
    after: Shift | None


def counted(event: ShiftScheduled) -> Shift | None:
    """The times a scheduled shift counts with at its store: none for a role that staffs no one store,
    or for times no shift can have (a record the contract lets through, such as a year-long shift)."""
    if event.role not in STAFFING_TIERS or not event.starts_at < event.ends_at <= event.starts_at + MAX_SHIFT:
        return None
    return Shift(starts_at=event.starts_at, ends_at=event.ends_at)


class Staffing(BaseModel):
    """A store's shifts that can still change, by shift id."""

    region_id: str
    store_id: str
    shifts: dict[str, Shift] = Field(default_factory=dict)

    def change(self, shift_id: str, shift: Shift | None, latest: datetime | None) -> ShiftChange:
        """Sets the shift's times (None: it counts no more). Shifts that ended a while before the store's
        `latest` event are forgotten; the windows keep the time they counted."""
        before = self.shifts.pop(shift_id, None)
        if shift is not None:
            self.shifts[shift_id] = shift
        if latest is not None:
            for over in [key for key, kept in self.shifts.items() if kept.ends_at < latest - KEPT_AFTER_END]:
                del self.shifts[over]
        return ShiftChange(before, shift)

    def on_duty(self, now: datetime) -> int:
        return sum(1 for shift in self.shifts.values() if shift.starts_at <= now < shift.ends_at)
