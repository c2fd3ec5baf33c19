"""A person's preferences applied to a delivery: the order their channels are tried in, and whether
their quiet hours hold it back (a page never waits)."""

from collections.abc import Mapping, Sequence
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from services.shared.delivery.channels import Channel, Route

DEFAULT_CHANNELS = (Channel.email, Channel.webhook, Channel.sms)


def routes(preferred: Sequence[Channel], addresses: Mapping[Channel, str]) -> list[Route]:
    """The person's channels that have an address, in their order, then any others they have in the
    default order: a channel left out of the preference is still a last resort for a page."""
    order = [*preferred, *(channel for channel in DEFAULT_CHANNELS if channel not in preferred)]
    return [Route(channel, addresses[channel]) for channel in order if channel in addresses]


def quiet_until(now: datetime, quiet_from: time | None, quiet_until: time | None, time_zone: str) -> datetime | None:
    """When the quiet hours `now` falls in end (an aware datetime), or None outside them. Hours that
    pass midnight (22:00–07:00) end the next morning; equal ends mean no quiet hours."""
    if quiet_from is None or quiet_until is None or quiet_from == quiet_until:
        return None
    local = now.astimezone(ZoneInfo(time_zone))
    clock = local.time().replace(tzinfo=None)
    if quiet_from < quiet_until:
        inside = quiet_from <= clock < quiet_until
        ends_tomorrow = False
    else:
        inside = clock >= quiet_from or clock < quiet_until
        ends_tomorrow = clock >= quiet_from
    if not inside:
        return None
    day = local.date() + timedelta(days=1 if ends_tomorrow else 0)
    return datetime.combine(day, quiet_until, tzinfo=ZoneInfo(time_zone))
