"""The front line's pages (and anyone's who works complaints): their queue and their site's open
complaints, filing a complaint with each field's problem named on the form, and a complaint's
timeline — filing, who was paged or told and how, acknowledgement, notes, resolution — with its actions."""

from uuid import UUID

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.shared.events import complaints as c
from services.webapp.web import App, Person, field_errors

router = APIRouter(include_in_schema=False)
FORM_FIELDS = ("store_id", "name", "email", "phone", "channel", "category", "severity", "mood", "description")


@router.get("/queue")
async def queue(request: Request, session: Person, web: App) -> HTMLResponse:
    limit = web.settings.page_size
    mine = await web.api("complaints", "GET", "/v1/complaints", session, params={"assignee": "me", "limit": limit})
    site = None
    if session.store_id:
        site = await web.api("complaints", "GET", "/v1/complaints", session,
                             params={"store_id": session.store_id, "status": "open", "limit": limit})
    return web.page(request, "queue.html", session=session, mine=mine.json()["items"],
                    site=site.json()["items"] if site is not None else None)


@router.get("/complaints/new")
async def new_complaint(request: Request, session: Person, web: App) -> HTMLResponse:
    return web.page(request, "file.html", session=session, values={}, errors={})


@router.post("/complaints")
async def file_complaint(request: Request, session: Person, web: App) -> Response:
    form = await request.form()
    web.checked(session, form.get("csrf"))
    values = {name: str(form.get(name, "")).strip() for name in FORM_FIELDS}
    body = {
        "store_id": session.store_id or values["store_id"],
        "customer": {name: values[name] for name in ("name", "email", "phone") if values[name]},
        "channel": values["channel"] or "in_store", "category": values["category"], "severity": values["severity"],
        "mood": values["mood"], "description": values["description"],
    }
    response = await web.api("complaints", "POST", "/v1/complaints", session, json=body)
    if response.status_code == 201:
        return RedirectResponse(f"/complaints/{response.json()['id']}", status_code=303)
    return web.page(request, "file.html", 422, session=session, values=values, errors=field_errors(request, response))


@router.get("/complaints/{complaint_id}")
async def complaint(request: Request, complaint_id: UUID, session: Person, web: App) -> HTMLResponse:
    shown = await web.api("complaints", "GET", f"/v1/complaints/{complaint_id}", session)
    if shown.status_code != 200:
        return web.page(request, "message.html", shown.status_code, session=session, title_key="complaint.missing.title",
                        text_key="complaint.missing.text")
    return web.page(request, "complaint.html", session=session, complaint=shown.json(),
                    deliveries=await _deliveries(web, session, complaint_id), errors={})


@router.post("/complaints/{complaint_id}/{action}")
async def act(request: Request, complaint_id: UUID, action: str, session: Person, web: App) -> Response:
    form = await request.form()
    web.checked(session, form.get("csrf"))
    if action == "acknowledge":
        body = None
    elif action == "notes":
        body = {"text": str(form.get("text", "")).strip()}
    elif action == "resolve":
        body = {"technique": form.get("technique"), "outcome": form.get("outcome"),
                "summary": str(form.get("summary", "")).strip(),
                "steps": {step: form.get(f"step_{step}") == "on" for step in c.Technique}}
    else:
        return web.page(request, "message.html", 404, session=session, title_key="complaint.missing.title",
                        text_key="complaint.missing.text")
    answer = await web.api("complaints", "POST", f"/v1/complaints/{complaint_id}/{action}", session, json=body)
    if answer.status_code in (200, 201):
        return RedirectResponse(f"/complaints/{complaint_id}", status_code=303)
    shown = await web.api("complaints", "GET", f"/v1/complaints/{complaint_id}", session)
    return web.page(request, "complaint.html", answer.status_code, session=session, complaint=shown.json(),
                    deliveries=None, errors=field_errors(request, answer))


async def _deliveries(web, session, complaint_id: UUID) -> list | None:
    """Who was told of the complaint, and how; None while the notifications service cannot say."""
    try:
        reached = await web.api("notifications", "GET", "/v1/deliveries", session, params={"complaint_id": str(complaint_id)})
    except httpx.HTTPError:
        return None
    return reached.json() if reached.status_code == 200 else None
