"""The front line's pages (and anyone's who works complaints): their queue and their site's open
complaints, a page at a time, older ones on request; filing a complaint, at a store picked from the
chain's stores when they have none of their own, with each field's problem named on the form; and a
complaint's timeline — filing, who was paged or told and how, acknowledgement, notes, resolution — with
its actions."""

import asyncio
import re
from itertools import groupby
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.shared.events import complaints as c
from services.webapp.session import Session
from services.webapp.timeline import timeline
from services.webapp.web import App, Person, Web, field_errors

router = APIRouter(include_in_schema=False)
FORM_FIELDS = ("store_id", "name", "email", "phone", "channel", "category", "severity", "mood", "description")
# A `next_cursor` of the complaints API (URL-safe base64), bounded before it is passed on.
CURSOR = re.compile(r"[A-Za-z0-9_=-]{1,200}")


@router.get("/queue")
async def queue(request: Request, session: Person, web: App, mine_after: str | None = None,
                site_after: str | None = None) -> HTMLResponse:
    """Each list a page at a time, newest first; `mine_after` and `site_after` are the cursors of the
    older pages a list's "older" link asked for."""
    lists = [("mine", {"assignee": "me"}, mine_after)]
    if session.store_id:
        lists.append(("site", {"store_id": session.store_id, "status": "open"}, site_after))
    pages = await asyncio.gather(*(_listed(web, session, filters, after) for _, filters, after in lists))
    if None in pages:
        return web.page(request, "message.html", 400, session=session, title_key="queue.cursor.title",
                        text_key="queue.cursor.text")
    shown = {name: {"items": page["items"],
                    "older": _queue_link(request, name, page["next_cursor"]) if page["next_cursor"] else None,
                    "newest": _queue_link(request, name, None) if after else None}
             for (name, _, after), page in zip(lists, pages, strict=True)}
    return web.page(request, "queue.html", session=session, mine=shown["mine"], site=shown.get("site"))


async def _listed(web: Web, session: Session, filters: dict, after: str | None) -> dict | None:
    """A page of the complaints API's list; None when `after` is not one of its cursors."""
    if after and not CURSOR.fullmatch(after):
        return None
    params = {**filters, "limit": web.settings.page_size} | ({"cursor": after} if after else {})
    answer = await web.api("complaints", "GET", "/v1/complaints", session, params=params)
    if answer.status_code == 422 and after:
        return None
    answer.raise_for_status()
    return answer.json()


def _queue_link(request: Request, name: str, cursor: str | None) -> str:
    """The queue with list `name` at `cursor` (None: its newest), the other list where it is."""
    params = {key: request.query_params[key] for key in ("mine_after", "site_after")
              if key in request.query_params and key != f"{name}_after"}
    if cursor:
        params[f"{name}_after"] = cursor
    return f"/queue?{urlencode(params)}#{name}" if params else f"/queue#{name}"


@router.get("/complaints/new")
async def new_complaint(request: Request, session: Person, web: App) -> HTMLResponse:
    return web.page(request, "file.html", session=session, values={}, errors={}, stores=await _stores(web, session))


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
    return web.page(request, "file.html", 422, session=session, values=values, errors=field_errors(request, response),
                    stores=await _stores(web, session))


@router.get("/complaints/{complaint_id}")
async def complaint(request: Request, complaint_id: UUID, session: Person, web: App) -> HTMLResponse:
    shown = await web.api("complaints", "GET", f"/v1/complaints/{complaint_id}", session)
    if shown.status_code != 200:
        return web.page(request, "message.html", shown.status_code, session=session, title_key="complaint.missing.title",
                        text_key="complaint.missing.text")
    deliveries = await _deliveries(web, session, complaint_id)
    return web.page(request, "complaint.html", session=session, complaint=shown.json(), deliveries=deliveries,
                    timeline=timeline(shown.json(), deliveries), errors={})


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
                    deliveries=None, timeline=timeline(shown.json(), None), errors=field_errors(request, answer))


async def _stores(web: Web, session: Session) -> list[tuple[str, list[dict]]] | None:
    """The stores the person may file at, by region, for those with no store of their own; None while
    the complaints service cannot list them (the form then takes the store's id as typed)."""
    if session.store_id:
        return None
    listed = await web.read("complaints", "/v1/stores", session)
    if not listed:
        return None
    stores = sorted(listed, key=lambda store: (store["region_id"], store["name"].casefold()))
    return [(region, list(members)) for region, members in groupby(stores, key=lambda store: store["region_id"])]


async def _deliveries(web, session, complaint_id: UUID) -> list | None:
    """Who was told of the complaint, and how; None while the notifications service cannot say."""
    return await web.read("notifications", "/v1/deliveries", session, params={"complaint_id": str(complaint_id)})
