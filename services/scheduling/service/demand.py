"""The demand of each open hour of a site's week, learnt from its complaints and returns."""

from services.shared.events.envelope import Event

EFFECTS: dict[type[Event], object] = {}  # event class -> its effect (see services.scheduling.service.intake)
