"""The CSAT survey link sent to a customer on resolution: where it goes, what it says, and when there is
nothing to send any more. Pure: the contact and the survey are read by `service.surveys` at each attempt."""

from datetime import date, datetime
from urllib.parse import quote

from services.shared.delivery.channels import Channel, Message, Route


def survey_routes(email: str | None, phone: str | None) -> list[Route]:
    """E-mail when the customer gave one, with SMS as the failover when they gave a phone too; SMS when
    they gave only a phone; nowhere when the contact is gone (erased)."""
    routes = []
    if email:
        routes.append(Route(Channel.email, email))
    if phone:
        routes.append(Route(Channel.sms, phone))
    return routes


def survey_ended(answered_at: datetime | None, expires_at: datetime, now: datetime) -> str | None:
    """Why a link would be of no use any more (the survey answered, or expired), or None."""
    if answered_at is not None:
        return "the survey was answered"
    if now > expires_at:
        return "the survey expired"
    return None


def survey_link(survey_url: str, token: str) -> str:
    return f"{survey_url.rstrip('/')}/{quote(token, safe='')}"


def survey_message(link: str, store_name: str, answer_by: date) -> Message:
    """The message names the store and the last day to answer (in the store's time zone), never the
    customer or the complaint."""
    return Message(
        subject=f"How did we do? Your feedback on your visit to {store_name}",
        body=(
            f"Thank you for telling us what went wrong at {store_name}. We have dealt with it, and we would like to "
            "know how we did.\n\n"
            f"Answer one short question here (until {answer_by.isoformat()}):\n{link}\n\n"
            "The link works once and only for you; please do not forward it."
        ),
        short=f"{store_name}: how did we do with your complaint? Tell us by {answer_by.isoformat()}: {link}",
    )
