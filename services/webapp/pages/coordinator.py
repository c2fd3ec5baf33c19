"""The regional coordinators' live board: the boards API's own dashboard (one page: its markup, its
script, its words), served here to the person signed in, in their language, and told to call the board
through this app, which adds their token to each call; the page never holds it. A regional coordinator
sees their region's board; a senior manager, a Viewer of every board, the one they name."""

import json
import re
from typing import Annotated, Literal
from urllib.parse import quote
from uuid import UUID

import httpx
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response, StreamingResponse

from services.shared.events.fields import RegionId
from services.shared.principal import Role
from services.shared.web import html_page
from services.webapp import i18n
from services.webapp.session import Session
from services.webapp.web import NAV, App, Person, ScriptPerson, Web, language

router = APIRouter(include_in_schema=False)
API = "/board/api"  # where the page's script calls the board
WORDS = re.compile(r'<script type="application/json" id="words">(.*?)</script>', re.DOTALL)
NAMED = ("category", "severity", "mood", "role", "rule")  # the kinds of code the board shows, named in the words too


def region_of(session: Session, asked: str | None) -> str | None:
    """The region whose board the person sees: a regional coordinator their own, a senior manager the
    one they name; no one else any."""
    if session.role == Role.regional_coordinator:
        return session.region_id
    return asked if session.role == Role.senior_manager else None


def signed_in_dashboard(document: str, lang: str, signed_in: dict) -> str:
    """The dashboard with its words in `lang`, the names of the codes it shows, and the person signed in
    here, for its script to read."""
    found = WORDS.search(document)
    if found is None:
        raise ValueError("the boards API's dashboard has no words to translate")
    translated = i18n.catalog(lang)  # a word it lacks stays the dashboard's own (a test keeps the languages complete)
    words = {key: translated.get(key, built_in) for key, built_in in json.loads(found.group(1)).items()}
    words |= {key: name for key, name in translated.items() if key.split(".")[0] in NAMED}
    document = document[:found.start()] + _data("words", words) + "\n" + _data("signed-in", signed_in) + document[found.end():]
    return re.sub(r'<html lang="[^"]*">', f'<html lang="{lang}">', document, count=1)


def _data(name: str, value: dict) -> str:
    """A block of JSON for the page's script; a `<` in it is escaped, so that no text can end the block."""
    text = json.dumps(value, ensure_ascii=False).replace("<", "\\u003c")
    return f'<script type="application/json" id="{name}">{text}</script>'


@router.get("/board")
async def board(request: Request, session: Person, web: App, region: RegionId | None = None) -> Response:
    if session.role == Role.senior_manager and region is None:
        return RedirectResponse("/chain", status_code=303)  # where they choose a region
    shown = region_of(session, region)
    if shown is None:
        return web.page(request, "message.html", 403, session=session, title_key="board.refused.title",
                        text_key="board.refused.text")
    try:
        dashboard = await web.apis["boards"].get("/")
        dashboard.raise_for_status()
    except httpx.HTTPError:
        return web.page(request, "message.html", 503, session=session, title_key="board.unavailable.title",
                        text_key="board.unavailable.text")
    lang = language(request)
    t = i18n.translator(lang)
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    signed_in = {
        "sub": session.sub, "role": session.role, "region": shown, "csrf": session.csrf(web.key), "api": API,
        "who": f"{session.sub} · {t('role.' + session.role)}",
        "pages": [{"href": href, "text": t(key), "current": "page" if href == "/board" else None}
                  for href, key in (*NAV.get(session.role, ()), ("/me/notifications", "me.link"))],
        "languages": [{"href": f"/lang/{code}?next={quote(here)}", "text": t(f"lang.{code}"), "lang": code,
                       "current": "true" if code == lang else None} for code in i18n.LANGUAGES],
    }
    html = signed_in_dashboard(dashboard.text, lang, signed_in)
    return html_page(html, {"Cache-Control": "no-store"}, posts_to_self=True)  # its sign-out is this app's form


@router.get(API + "/regions/{region_id}/board/stream")
async def board_stream(region_id: RegionId, session: ScriptPerson, web: App) -> Response:
    _may_see(session, region_id)
    timeout = httpx.Timeout(web.settings.http_timeout_s, read=web.settings.board_stream_timeout_s)
    return await _relayed(web, session, "GET", f"/regions/{region_id}/board/stream", timeout=timeout)


@router.get(API + "/regions/{region_id}/board")
async def board_page(region_id: RegionId, session: ScriptPerson, web: App,
                     after: Annotated[str, Query(min_length=1, max_length=1000)]) -> Response:
    """The board's open complaints after `after`: the page asks for those beyond the first as the person opens them."""
    _may_see(session, region_id)
    return await _relayed(web, session, "GET", f"/regions/{region_id}/board", params={"after": after})


@router.post(API + "/regions/{region_id}/problems/{problem_id}/{action}")
async def act(request: Request, region_id: RegionId, problem_id: UUID, action: Literal["acknowledge", "proposal", "decision"],
              session: ScriptPerson, web: App) -> Response:
    """What the person does about a common problem; the boards API decides who may."""
    web.checked(session, request.headers.get("x-csrf"))
    _may_see(session, region_id)
    return await _relayed(web, session, "POST", f"/regions/{region_id}/problems/{problem_id}/{action}",
                          content=await request.body(), headers={"Content-Type": "application/json"})


def _may_see(session: Session, region_id: str) -> None:
    """The boards API checks the token's region too; a path naming another region goes no further than here."""
    if region_of(session, region_id) != region_id:
        raise HTTPException(403, f"not the board of region {region_id} for {session.role}")


async def _relayed(web: Web, session: Session, method: str, path: str, headers: dict[str, str] | None = None,
                   **kwargs) -> Response:
    """The boards API's answer to the call made with the person's token, passed on as it comes: a
    stream of the board's changes too, until either side ends it."""
    boards = web.apis["boards"]
    call = boards.build_request(method, path, headers={"Authorization": f"Bearer {session.token}", **(headers or {})},
                                **kwargs)
    try:
        answer = await boards.send(call, stream=True)
    except httpx.TransportError:
        return JSONResponse({"detail": "the board cannot be reached; try again"}, 502)

    async def passed_on():
        try:
            async for chunk in answer.aiter_bytes():
                yield chunk
        except httpx.TransportError:
            pass  # the board went away: the page follows it again
        finally:
            await answer.aclose()

    return StreamingResponse(passed_on(), answer.status_code, media_type=answer.headers.get("content-type"),
                             headers={"Cache-Control": "no-store"})
