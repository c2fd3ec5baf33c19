"""The acknowledge link of a page or a tier raise. Opening it (GET) shows what it acknowledges and a button; the
button (POST) acknowledges. A GET changes nothing, because mail scanners and link previews open links
nobody clicked."""

import html
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from services.notifications.domain.links import LinkRefused
from services.notifications.service.acknowledgements import Acknowledgements, Outcome
from services.shared.database_app import Now
from services.shared.web import html_page

router = APIRouter(prefix="/v1/acknowledgements", tags=["acknowledgements"])
SAID = {
    Outcome.acknowledged: "Acknowledged: the complaint is yours and its SLA timer has stopped.",
    Outcome.already_acknowledged: "Someone had already acknowledged this complaint in the complaints app; nothing changed.",
}


def _acknowledgements(request: Request) -> Acknowledgements:
    return request.app.state.acknowledgements


Service = Annotated[Acknowledgements, Depends(_acknowledgements)]


@router.get("/{token}", response_class=HTMLResponse, summary="What the link acknowledges, and the button that does it")
async def show(token: str, acknowledgements: Service, now: Now) -> HTMLResponse:
    try:
        delivery = await acknowledgements.check(token, now)
    except LinkRefused as refused:
        return _page(refused.status, "Link refused", str(refused))
    form = f'<form method="post"><button type="submit">Acknowledge complaint {delivery.complaint_id}</button></form>'
    return _page(200, f"Complaint at {delivery.store_id}", f"{delivery.about}.", form)


@router.post("/{token}", response_class=HTMLResponse, summary="Acknowledge the notification's complaint, once")
async def acknowledge(token: str, acknowledgements: Service, now: Now) -> HTMLResponse:
    try:
        outcome = await acknowledgements.acknowledge(token, now)
    except LinkRefused as refused:
        return _page(refused.status, "Link refused", str(refused))
    return _page(200, "Thank you", SAID[outcome])


def _page(status: int, title: str, text: str, form: str = "") -> HTMLResponse:
    body = f"<!doctype html><title>{html.escape(title)}</title><h1>{html.escape(title)}</h1><p>{html.escape(text)}</p>{form}"
    return html_page(body, status=status, posts_to_self=True)
