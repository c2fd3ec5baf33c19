"""What a notification says: what happened and where, why it reaches the person, and, when it asks to be
acknowledged, the link that acknowledges it. Only ids and the event's non-personal text (an
escalation's reason, a proposal's title, a training's kind and time): a complaint's text, a proposal's
argument and anyone's name or contact stay in the services that own them."""

from datetime import UTC, datetime
from enum import StrEnum
from uuid import UUID

from services.shared.delivery.channels import Message

SHORT = 160  # one text message; the acknowledge link comes after it


class Kind(StrEnum):
    page = "page"  # an immediate call to the person on duty (EscalationPaged)
    tier_raise = "tier_raise"  # a complaint raised to the person's tier by its SLA (EscalationRaised)
    assignment = "assignment"  # a complaint routed to the person (EscalationRouted)
    policy_proposed = "policy_proposed"  # PolicyProposed, to senior management
    policy_decided = "policy_decided"  # PolicyDecided, to the region's regional coordinators
    training_proposed = "training_proposed"  # TrainingProposed, to the site's store manager on duty
    training_scheduled = "training_scheduled"  # TrainingScheduled, to the trainer and each trainee
    training_cancelled = "training_cancelled"  # TrainingCancelled, to each trainee


ACKNOWLEDGED = frozenset({Kind.page, Kind.tier_raise, Kind.assignment})  # carry an acknowledge link
URGENT = frozenset({Kind.page})  # ignore the person's quiet hours
REGIONAL = frozenset({Kind.policy_proposed, Kind.policy_decided})  # about a region, not one store

# The gist (subject and text message) and what happened (the body's first paragraph). Fields: store,
# region, about, at.
GISTS = {
    Kind.page: "Page: complaint at {store} needs you now ({about})",
    Kind.tier_raise: "Complaint at {store} raised to you ({about})",
    Kind.assignment: "Complaint at {store} assigned to you ({about})",
    Kind.policy_proposed: "Policy proposal from region {region}: {about}",
    Kind.policy_decided: "Policy decision for region {region}: {about}",
    Kind.training_proposed: "Training proposed for {store}: {about}",
    Kind.training_scheduled: "Training at {store}: {about}",
    Kind.training_cancelled: "Training cancelled at {store}: {about}",
}
WHAT_HAPPENED = {
    Kind.page: "A complaint at {store} (region {region}) was escalated to you at {at}: {about}.",
    Kind.tier_raise: "A complaint at {store} (region {region}) was raised to you at {at}: {about}.",
    Kind.assignment: "A complaint at {store} (region {region}) was routed to you at {at}: {about}.",
    Kind.policy_proposed: "A regional coordinator of region {region} proposed a policy change at {at}: {about}.\n"
    "Read the proposal and its evidence, and accept or reject it, on the region's board.",
    Kind.policy_decided: "Senior management decided on a policy proposal of region {region} at {at}: {about}.\n"
    "Read the decision on the region's board.",
    Kind.training_proposed: "Complaints at {store} (region {region}) call for training: {about}.\n"
    "Confirm or dismiss it among the site's training proposals (proposed at {at}).",
    Kind.training_scheduled: "You are on a training session at {store} (region {region}): {about}.",
    Kind.training_cancelled: "A training session at {store} (region {region}) you were enrolled in was cancelled "
    "at {at}: {about}.",
}
# A page not acknowledged in time is sent again: first to the same person, then up the tiers.
REMINDER = (
    "Reminder: page for complaint at {store} not acknowledged yet ({about})",
    (
        "Reminder: a complaint at {store} (region {region}) was escalated to you at {at} and is not acknowledged "
        "yet: {about}."
    ),
)
NEXT_TIER = (
    "Page: complaint at {store} comes to you, not acknowledged below ({about})",
    (
        "A complaint at {store} (region {region}) was escalated at {at}: {about}.\n"
        "The person on duty at the tier below yours did not acknowledge it; it comes to you."
    ),
)


def utc(moment: datetime) -> str:
    """A time as every message shows it, such as 2026-11-23 09:15 UTC."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def message(kind: Kind, *, store_id: str | None, region_id: str, complaint_id: UUID | None, about: str, at: datetime,
            acknowledge_url: str | None, expires_at: datetime | None, step: int = 0) -> Message:
    """The message of a notice. `step` > 0 is a follow-up of an unacknowledged page: 1 reminds the
    person, 2 and more tell the next tier up that it comes to them. Raises ValueError for a call that
    cannot make a sound message (an acknowledged kind without its link, a link on any other kind)."""
    _check(kind, store_id, complaint_id, acknowledge_url, expires_at, step)
    gist, what_happened = (GISTS[kind], WHAT_HAPPENED[kind]) if step == 0 else REMINDER if step == 1 else NEXT_TIER
    fields = {"store": store_id, "region": region_id, "at": utc(at)}
    subject = _fit(gist, about, fields)
    body = what_happened.format(about=about, **fields) + "\n"
    if complaint_id is not None:
        body += f"Complaint: {complaint_id}\n"
    if acknowledge_url is None:
        return Message(subject=subject, body=body, short=subject)
    body += (
        f"\nAcknowledge it (this stops its SLA timer):\n{acknowledge_url}\n\n"
        f"The link works once, until {utc(expires_at)}.\n"
    )
    return Message(subject=subject, body=body, short=f"{subject} {acknowledge_url}")


def _check(kind: Kind, store_id: str | None, complaint_id: UUID | None, acknowledge_url: str | None,
           expires_at: datetime | None, step: int) -> None:
    if kind in ACKNOWLEDGED and None in (complaint_id, acknowledge_url, expires_at):
        raise ValueError(f"a {kind} message needs its complaint id, acknowledge link and the link's expiry")
    if kind not in ACKNOWLEDGED and (acknowledge_url is not None or expires_at is not None):
        raise ValueError(f"a {kind} message carries no acknowledge link")
    if kind not in REGIONAL and store_id is None:
        raise ValueError(f"a {kind} message needs its store id")
    if step < 0:
        raise ValueError(f"step {step}: a message is the first (0) or a follow-up (1 and up)")
    if step > 0 and kind != Kind.page:
        raise ValueError(f"a {kind} message has no follow-ups: only a page has")


def _fit(template: str, about: str, fields: dict) -> str:
    """The template with `about`, shortened (with an ellipsis) so that the whole fits a text message
    when it can."""
    text = template.format(about=about, **fields)
    if len(text) <= SHORT:
        return text
    room = max(0, SHORT - len(template.format(about="", **fields)) - 1)
    return template.format(about=about[:room].rstrip() + "…", **fields)
