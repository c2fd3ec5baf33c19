"""Training proposed where complaints call for it, once per cause; the site manager confirms or dismisses it."""

from services.shared.events.envelope import Event

EFFECTS: dict[type[Event], object] = {}  # event class -> its effect (see services.scheduling.service.intake)
