"""The store manager's pages: their site's board (its live complaints, the breached and paged first), the
returns waiting for their approval (approve, or decline with a reason), the pages and notices that
reached them, and the site's week — its shifts and the training its complaints call for."""

import asyncio
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.shared.events.returns import DeclineReason
from services.webapp.session import Session
from services.webapp.web import App, Person, Web, field_errors

router = APIRouter(prefix="/manager", include_in_schema=False)
LIVE = ("open", "acknowledged", "in_progress")
DONE = ("approved", "declined", "confirmed", "dismissed")  # what a redirect after a decision may say
PAGED_BATCH = 100  # complaint ids per call for the board's paged flags


@dataclass(frozen=True)
class OnTheBoard:
    complaint: dict
    breached: bool
    paged: bool | None  # None while the notifications service cannot say
    due: datetime | None  # its nearest deadline
    past: tuple[str, ...] = ()  # the deadlines passed: acknowledge_by, resolve_by


def board(complaints: list[dict], paged: set[str] | None, now: datetime) -> list[OnTheBoard]:
    """The site's live complaints as its manager sees them: breached (a deadline passed) first, then the
    paged, then by the nearest deadline, then the oldest."""
    rows = []
    for complaint in complaints:
        deadlines = {name: datetime.fromisoformat(complaint[name]) for name in ("acknowledge_by", "resolve_by")
                     if complaint.get(name)}
        past = tuple(name for name, at in deadlines.items() if at < now)
        rows.append(OnTheBoard(complaint, bool(past), None if paged is None else complaint["id"] in paged,
                               min(deadlines.values(), default=None), past))
    never = datetime.max.replace(tzinfo=UTC)
    return sorted(rows, key=lambda row: (not row.breached, not row.paged, row.due or never, row.complaint["created_at"]))


def week_of(today: date) -> date:
    """The Monday of the week `today` is in."""
    return today - timedelta(days=today.weekday())


@router.get("/board")
async def site_board(request: Request, session: Person, web: App) -> HTMLResponse:
    zone = await _zone(web, session)
    lists = await asyncio.gather(*(
        web.api("complaints", "GET", "/v1/complaints", session,
                params={"store_id": session.store_id, "status": status, "limit": web.settings.page_size})
        for status in LIVE
    ))
    complaints = [item for answer in lists if answer.status_code == 200 for item in answer.json()["items"]]
    rows = board(complaints, await _paged(web, session, [c["id"] for c in complaints]), web.clock())
    return web.page(request, "manager_board.html", session=session, rows=rows, zone=zone, local=_local(zone),
                    refused=any(answer.status_code != 200 for answer in lists))


@router.get("/returns")
async def returns_inbox(request: Request, session: Person, web: App, done: str | None = None) -> HTMLResponse:
    return await _inbox(request, session, web, done=done if done in DONE else None)


@router.post("/returns/{return_id}/{decision}")
async def decide_return(request: Request, return_id: str, decision: str, session: Person, web: App) -> Response:
    form = await request.form()
    web.checked(session, form.get("csrf"))
    if decision not in ("approve", "decline"):
        return web.page(request, "message.html", 404, session=session, title_key="manager.returns.missing",
                        text_key="complaint.missing.text")
    values = {"reason": str(form.get("reason", "")).strip(), "category": str(form.get("category", ""))}
    body = {"reason": values["reason"], "category": values["category"] or None} if decision == "decline" else None
    answer = await web.api("complaints", "POST", f"/v1/returns/{return_id}/{decision}", session, json=body)
    if answer.status_code == 200:
        return RedirectResponse(f"/manager/returns?done={decision}d", status_code=303)
    errors = field_errors(request, answer)
    return await _inbox(request, session, web, status=answer.status_code, failed=return_id, errors=errors, values=values)


@router.get("/pages")
async def my_pages(request: Request, session: Person, web: App) -> HTMLResponse:
    reached = await web.read("notifications", "/v1/deliveries", session,
                             params={"recipient": "me", "limit": web.settings.page_size})
    zone = await _zone(web, session)
    return web.page(request, "manager_pages.html", session=session, deliveries=reached, zone=zone, local=_local(zone))


@router.get("/schedule")
async def schedule(request: Request, session: Person, web: App, week: date | None = None) -> HTMLResponse:
    return await _schedule(request, session, web, week)


@router.post("/training-proposals/{proposal_id}/{decision}")
async def decide_proposal(request: Request, proposal_id: str, decision: str, session: Person, web: App) -> Response:
    form = await request.form()
    web.checked(session, form.get("csrf"))
    if decision not in ("confirm", "dismiss"):
        return web.page(request, "message.html", 404, session=session, title_key="manager.training.missing",
                        text_key="complaint.missing.text")
    reason = str(form.get("reason", "")).strip()
    answer = await web.api("scheduling", "POST", f"/v1/training-proposals/{proposal_id}/{decision}", session,
                           json={"reason": reason} if reason else None)
    if answer.status_code == 200:
        return RedirectResponse(f"/manager/schedule?done={decision}ed", status_code=303)
    return await _schedule(request, session, web, None, status=answer.status_code, failed=proposal_id,
                           errors=field_errors(request, answer))


async def _inbox(request: Request, session: Session, web: Web, *, status: int = 200, done: str | None = None,
                 failed: str | None = None, errors: dict | None = None, values: dict | None = None) -> HTMLResponse:
    answer = await web.api("complaints", "GET", "/v1/returns", session,
                           params={"store_id": session.store_id, "status": "pending_approval", "limit": web.settings.page_size})
    waiting = answer.json()["items"] if answer.status_code == 200 else None
    zone = await _zone(web, session)
    return web.page(request, "manager_returns.html", status, session=session, waiting=waiting, done=done, failed=failed,
                    errors=errors or {}, values=values or {}, reasons=list(DeclineReason), zone=zone, local=_local(zone))


async def _schedule(request: Request, session: Session, web: Web, week: date | None, *, status: int = 200,
                    failed: str | None = None, errors: dict | None = None) -> HTMLResponse:
    zone = await _zone(web, session)
    monday = week_of(week or web.clock().astimezone(zone).date())
    starts, ends = (datetime.combine(day, time(), zone) for day in (monday, monday + timedelta(days=7)))
    shifts, proposals = await asyncio.gather(
        web.api("scheduling", "GET", "/v1/shifts", session, params={
            "site_id": session.store_id, "starts_from": starts.isoformat(), "starts_before": ends.isoformat()}),
        web.api("scheduling", "GET", "/v1/training-proposals", session,
                params={"site_id": session.store_id, "status": "proposed", "limit": web.settings.page_size}),
    )
    days = [(monday + timedelta(days=n), []) for n in range(7)]
    for shift in shifts.json() if shifts.status_code == 200 else []:
        start = datetime.fromisoformat(shift["starts_at"]).astimezone(zone)
        days[(start.date() - monday).days][1].append(
            {**shift, "from": start.strftime("%H:%M"),
             "until": datetime.fromisoformat(shift["ends_at"]).astimezone(zone).strftime("%H:%M")})
    done = request.query_params.get("done")
    return web.page(request, "manager_schedule.html", status, session=session, monday=monday, days=days, zone=zone,
                    today=web.clock().astimezone(zone).date(), previous=monday - timedelta(days=7),
                    next=monday + timedelta(days=7), shifts_shown=shifts.status_code == 200,
                    proposals=proposals.json() if proposals.status_code == 200 else None, local=_local(zone),
                    done=done if done in DONE else None, failed=failed, errors=errors or {})


async def _zone(web: Web, session: Session) -> ZoneInfo:
    """The site's time zone, from the scheduling service's directory; UTC while it cannot say."""
    sites = await web.read("scheduling", "/v1/sites", session) or []
    return ZoneInfo(next((site["timezone"] for site in sites if site["site_id"] == session.store_id), "UTC"))


async def _paged(web: Web, session: Session, complaint_ids: list[str]) -> set[str] | None:
    """The complaints someone was paged about, asked for a hundred at a time (a short enough address);
    None while the notifications service cannot say."""
    batches = [complaint_ids[start:start + PAGED_BATCH] for start in range(0, len(complaint_ids), PAGED_BATCH)]
    try:
        answers = await asyncio.gather(*(
            web.api("notifications", "GET", "/v1/deliveries", session, params={"complaint_id": batch}) for batch in batches
        ))
    except httpx.HTTPError:
        return None
    if any(answer.status_code != 200 for answer in answers):
        return None
    return {delivery["complaint_id"] for answer in answers for delivery in answer.json() if delivery["kind"] == "page"}


def _local(zone: ZoneInfo):
    """An instant of the API (ISO 8601) as the site's date and time."""
    def local(instant: str | datetime | None) -> str:
        if not instant:
            return "—"
        at = instant if isinstance(instant, datetime) else datetime.fromisoformat(instant)
        return at.astimezone(zone).strftime("%Y-%m-%d %H:%M")

    return local
