"""When complaints call for training, and of what kind: register training for a site whose
billing/register complaints rise above its usual rate, de-escalation role-play where angry or hostile
customers' complaints were escalated, and a briefing at every site of a region with a common problem.
Complaints are counted in windows of the site's local calendar that start on Mondays, so that a cause
("this site, this window") has one stable key however often its events are replayed."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from services.shared.events.complaints import Category, Mood
from services.shared.events.envelope import Event
from services.shared.events.escalations import EscalationPaged, EscalationRaised, EscalationRouted
from services.shared.events.fields import Tier
from services.shared.events.scheduling import TrainingKind
from services.shared.principal import Role

HOSTILE_MOODS = frozenset({Mood.angry, Mood.hostile})
REGISTER_CATEGORY = Category.billing_transaction
_MONDAY = date(2000, 1, 3)
# A person decides: the site's manager, or a senior manager. The region's coordinators follow what
# their sites are proposed; services (notifications) read them to deliver them.
DECIDERS = frozenset({Role.store_manager, Role.senior_manager})
READERS = DECIDERS | {Role.coordinator, Role.regional_coordinator, Role.service}
_BRIEFING = {
    Category.billing_transaction: TrainingKind.register,
    Category.return_refund_exchange: TrainingKind.returns,
    Category.promotion_pricing: TrainingKind.promotions_briefing,
}


class ProposalStatus(StrEnum):
    proposed = "proposed"
    confirmed = "confirmed"
    dismissed = "dismissed"


@dataclass(frozen=True)
class RateRule:
    """Register training is called for when a window holds at least `min_count` billing/register
    complaints and more than `rise_factor` times the site's usual count: the average of the
    `baseline_windows` windows before it."""

    window_days: int
    rise_factor: float
    min_count: int
    baseline_windows: int


@dataclass(frozen=True)
class Window:
    first_day: date  # local
    days: int

    def period(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """[start, end) in UTC; as long as the local days really are."""
        start = datetime.combine(self.first_day, time(0), zone)
        end = datetime.combine(self.first_day + timedelta(days=self.days), time(0), zone)
        return start.astimezone(UTC), end.astimezone(UTC)

    def before(self, windows: int) -> "Window":
        """The `windows` windows just before this one, as one span."""
        return Window(self.first_day - timedelta(days=windows * self.days), windows * self.days)


def window_of(moment: datetime, zone: ZoneInfo, days: int) -> Window:
    day = moment.astimezone(zone).date()
    return Window(_MONDAY + timedelta(days=(day - _MONDAY).days // days * days), days)


def cause_ref(site_id: str, window: Window) -> str:
    return f"{site_id}/{window.first_day.isoformat()}"


def above_usual_rate(count: int, baseline_count: int, rule: RateRule) -> bool:
    """`baseline_count`: the complaints of the `rule.baseline_windows` windows before, together."""
    return count >= rule.min_count and count > rule.rise_factor * baseline_count / rule.baseline_windows


def is_escalation(event: Event) -> bool:
    """A complaint escalated: routed above the front line, paged or raised a tier."""
    if isinstance(event, EscalationRouted):
        return event.assignee.tier is not Tier.associate
    return isinstance(event, EscalationPaged | EscalationRaised)


def briefing_for(category: Category) -> TrainingKind:
    """The briefing a common problem calls for; problems with the service itself call for handling
    the customer well, which the role-play trains."""
    return _BRIEFING.get(category, TrainingKind.de_escalation_role_play)


@dataclass(frozen=True)
class ShiftSpan:
    staff_id: str
    starts_at: datetime
    ends_at: datetime


def staff_on_shift(shifts: list[ShiftSpan], moments: list[datetime]) -> list[str]:
    """Who was on shift at any of the moments, by staff id."""
    return sorted({s.staff_id for s in shifts if any(s.starts_at <= moment < s.ends_at for moment in moments)})
