"""Training programmes and sessions: enrolment, attendance, completion (which adds the skill), onboarding of new hires, promotion briefings and de-escalation role-play from the site's own resolved complaints."""

from services.shared.events.envelope import Event

EFFECTS: dict[type[Event], object] = {}  # event class -> its effect (see services.scheduling.service.intake)
