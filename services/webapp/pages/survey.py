"""The customer's satisfaction survey, opened from the link sent when their complaint was resolved: no
sign-in, the link's one-time token is the key. Its score (1–5) and an optional comment go to the
complaints service, which takes one answer per survey before it expires."""

import re
from typing import Annotated

import httpx
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from services.webapp.web import App, Web, field_errors

router = APIRouter(include_in_schema=False)
TOKEN = re.compile(r"[A-Za-z0-9_-]{20,100}")  # as the complaints service issues them
SCORES = range(1, 6)
COMMENT_MAX = 2000
# What a survey that cannot be answered says, by the complaints service's answer.
REFUSED = {404: "survey.unknown", 409: "survey.answered", 410: "survey.expired"}


@router.get("/survey/{token}")
async def survey(request: Request, token: str, web: App) -> HTMLResponse:
    answer = await _ask(web, "GET", token)
    if answer is None or answer.status_code != 200:
        return _refused(request, web, answer)
    return web.page(request, "survey.html", survey=answer.json(), values={}, errors={})


@router.post("/survey/{token}")
async def answer_survey(
    request: Request, token: str, web: App,
    score: Annotated[str, Form(max_length=2)] = "", comment: Annotated[str, Form(max_length=COMMENT_MAX * 2)] = "",
) -> HTMLResponse:
    values = {"score": score, "comment": comment.strip()}
    body = {"score": int(score) if score.isdigit() else None, "comment": values["comment"] or None}
    answer = await _ask(web, "POST", token, json=body)
    if answer is not None and answer.status_code == 204:
        return web.page(request, "survey.html", done=True)
    if answer is not None and answer.status_code == 422:
        shown = await _ask(web, "GET", token)
        if shown is not None and shown.status_code == 200:
            return web.page(request, "survey.html", 422, survey=shown.json(), values=values,
                            errors=field_errors(request, answer))
        answer = shown
    return _refused(request, web, answer)


async def _ask(web: Web, method: str, token: str, **kwargs) -> httpx.Response | None:
    """The complaints service's answer about the survey; None while it cannot be reached."""
    if not TOKEN.fullmatch(token):
        return httpx.Response(404)
    try:
        return await web.api("complaints", method, f"/v1/csat/{token}", None, **kwargs)
    except httpx.HTTPError:
        return None


def _refused(request: Request, web: Web, answer: httpx.Response | None) -> HTMLResponse:
    key = REFUSED.get(answer.status_code) if answer is not None else None
    return web.page(request, "survey.html", answer.status_code if key else 503, refused=key or "survey.unavailable")
