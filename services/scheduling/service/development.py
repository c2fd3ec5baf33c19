"""Coaching notes, each staff member's development record and their readiness for the next step."""

from services.shared.events.envelope import Event

EFFECTS: dict[type[Event], object] = {}  # event class -> its effect (see services.scheduling.service.intake)
