"""A person's own notification preferences (every role): the order their work channels are tried in,
and their quiet hours, in which nothing but a page reaches them. Kept by the notifications service
(`/v1/preferences/me`); the work addresses they go to are the staff directory's."""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.webapp import i18n
from services.webapp.web import App, Person, field_errors, language

router = APIRouter(prefix="/me", include_in_schema=False)
CHANNELS = ("email", "sms", "webhook")  # the delivery channels, as the notifications service names them
Choice = Annotated[str, Form(max_length=20)]


@router.get("/notifications")
async def preferences(request: Request, session: Person, web: App, saved: bool = False) -> HTMLResponse:
    kept = await web.read("notifications", "/v1/preferences/me", session)
    if kept is None:
        return web.page(request, "message.html", 503, session=session, title_key="me.unavailable.title",
                        text_key="me.unavailable.text")
    return web.page(request, "me_notifications.html", session=session, values=_values(kept),
                    contact=await _contact(web, session), saved=saved, errors={})


@router.post("/notifications")
async def save(
    request: Request, session: Person, web: App, csrf: Annotated[str, Form(max_length=200)] = "",
    first: Choice = "", second: Choice = "", third: Choice = "", quiet: Choice = "", start: Choice = "", end: Choice = "",
    time_zone: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    web.checked(session, csrf)
    values = {"channels": [first, second, third], "quiet": quiet == "on", "start": start, "end": end, "time_zone": time_zone}
    body = {"channels": [channel for channel in values["channels"] if channel],
            "quiet_hours": {"start": start, "end": end} if values["quiet"] else None, "time_zone": time_zone.strip()}
    if len(set(body["channels"])) != len(body["channels"]):  # said in the person's words, not the API's
        errors = {"channels": i18n.translator(language(request))("me.twice")}
    else:
        answer = await web.api("notifications", "PUT", "/v1/preferences/me", session, json=body)
        if answer.status_code == 200:
            return RedirectResponse("/me/notifications?saved=true", status_code=303)
        errors = field_errors(request, answer)
    return web.page(request, "me_notifications.html", 422, session=session, values=values,
                    contact=await _contact(web, session), saved=False, errors=errors)


def _values(kept: dict) -> dict:
    quiet = kept.get("quiet_hours")
    return {"channels": kept["channels"] + [""] * (len(CHANNELS) - len(kept["channels"])), "quiet": quiet is not None,
            "start": quiet["start"][:5] if quiet else "22:00", "end": quiet["end"][:5] if quiet else "07:00",
            "time_zone": kept["time_zone"]}


async def _contact(web, session) -> dict | None:
    """The person's work addresses in the staff directory; None while it cannot say."""
    found = await web.read("scheduling", f"/v1/staff/{session.sub}", session)
    return None if found is None else found.get("contact") or {}
