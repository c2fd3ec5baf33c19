"""Signing in and out, and the language. For the local run, a development sign-in picks a person of the
staff directory and mints their token with the platform's development key; a real chain's people sign
in with its identity provider (see the README's Security)."""

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.shared.auth import mint_token
from services.shared.principal import REGION_ROLES, STORE_ROLES, Role
from services.webapp import i18n
from services.webapp.session import COOKIE, Session
from services.webapp.web import App, Person, Web

router = APIRouter(include_in_schema=False)
SERVICE_ID = "svc-webapp"


@router.get("/lang/{code}")
async def choose_language(code: str, request: Request, web: App) -> Response:
    back = request.headers.get("referer") or "/"
    response = RedirectResponse(back if back.startswith(str(request.base_url)) else "/", status_code=303)
    if code in i18n.LANGUAGES:
        response.set_cookie("lang", code, max_age=365 * 24 * 3600, httponly=True, samesite="lax",
                            secure=web.settings.secure_cookies)
    return response


@router.get("/signin")
async def sign_in_page(request: Request, web: App) -> HTMLResponse:
    if not web.settings.development_sign_in:
        return web.page(request, "message.html", 404, title_key="signin.title", text_key="signin.none")
    return web.page(request, "signin.html", people=await _people(web))


@router.post("/signin")
async def sign_in(request: Request, web: App, staff_id: Annotated[str, Form(max_length=63)]) -> Response:
    if not web.settings.development_sign_in:
        return web.page(request, "message.html", 404, title_key="signin.title", text_key="signin.none")
    people = await _people(web)
    person = next((p for p in people if p["staff_id"] == staff_id), None)
    if person is None:
        return web.page(request, "signin.html", 422, people=people, error="signin.unknown")
    role, now, hours = Role(person["role"]), web.clock(), web.settings.session_hours
    store_id = person["home_site_id"] if role in STORE_ROLES else None
    region_id = person["region_id"] if role in STORE_ROLES | REGION_ROLES else None
    scope = {name: value for name, value in (("store_id", store_id), ("region_id", region_id)) if value}
    token = mint_token(web.platform, sub=staff_id, role=role, now=now, ttl=timedelta(hours=hours), **scope)
    session = Session(token, staff_id, role, store_id, region_id, now + timedelta(hours=hours))
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(COOKIE, session.encode(web.key), max_age=hours * 3600, httponly=True, samesite="lax",
                        secure=web.settings.secure_cookies, path="/")
    return response


@router.post("/signout")
async def sign_out(session: Person, web: App, csrf: Annotated[str, Form()]) -> Response:
    web.checked(session, csrf)
    response = RedirectResponse("/signin", status_code=303)
    response.delete_cookie(COOKIE)
    return response


async def _people(web: Web) -> list[dict]:
    """The staff directory, for the development sign-in to pick from."""
    token = mint_token(web.platform, sub=SERVICE_ID, role=Role.service, now=web.clock(), ttl=timedelta(minutes=1))
    response = await web.apis["scheduling"].get("/v1/staff", headers={"Authorization": f"Bearer {token}"})
    response.raise_for_status()
    return sorted(response.json(), key=lambda person: (person["role"], person["staff_id"]))


