"""Signing in and out, and the language. A chain's people sign in with its identity provider (OpenID
Connect, authorization code with PKCE: /signin/start sends them there, /signin/callback takes them back
and keeps the provider's access token, which the APIs verify, as their session, renewed with its refresh
token: see services.webapp.provider). For the local run, a
development sign-in picks a person of the staff directory and mints their token with the platform's
development key (see the README's Security)."""

import hmac
from datetime import timedelta
from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.shared.auth import mint_token
from services.shared.principal import REGION_ROLES, STORE_ROLES, Role
from services.webapp import i18n
from services.webapp.provider import Provider, SignInFailed, provider_of
from services.webapp.session import ATTEMPT_COOKIE, ATTEMPT_PATH, COOKIE, Session, SignInAttempt
from services.webapp.web import App, Person, Web, home

router = APIRouter(include_in_schema=False)
log = structlog.get_logger()
SERVICE_ID = "svc-webapp"
# A sign-in that went wrong: the state not this browser's is a bad request; the rest, no one signed in.
FAILURE_STATUS = {"signin.failed.state": 400, "signin.failed.provider": 401, "signin.failed.token": 401,
                  "signin.failed.unavailable": 503}


def _provider(request: Request) -> Provider | None:
    return provider_of(request.app)


AtProvider = Annotated[Provider | None, Depends(_provider)]


@router.get("/lang/{code}")
async def choose_language(code: str, web: App, back: Annotated[str, Query(alias="next", max_length=500)] = "/") -> Response:
    """Sets the language and goes back to the page it was chosen on (a path of this app, nothing else:
    pages send no Referer, and a link elsewhere would make this an open redirect)."""
    local = back.startswith("/") and not back.startswith("//") and "\\" not in back
    response = RedirectResponse(back if local else "/", status_code=303)
    if code in i18n.LANGUAGES:
        response.set_cookie("lang", code, max_age=365 * 24 * 3600, httponly=True, samesite="lax",
                            secure=web.settings.secure_cookies)
    return response


@router.get("/signin")
async def sign_in_page(request: Request, web: App, provider: AtProvider, ended: bool = False) -> HTMLResponse:
    """`ended`: sent here because their session ended before they signed out."""
    return await _sign_in_page(request, web, provider, failure="signin.ended" if ended else None)


@router.get("/signin/start")
async def start_at_provider(request: Request, web: App, provider: AtProvider) -> Response:
    if provider is None:
        return web.page(request, "message.html", 404, title_key="signin.title", text_key="signin.none")
    minutes = web.settings.oidc_sign_in_minutes
    attempt = SignInAttempt.start(web.clock(), timedelta(minutes=minutes))
    try:
        url = await provider.authorization_url(attempt)
    except SignInFailed as failure:
        return await _failed(request, web, provider, failure)
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(ATTEMPT_COOKIE, attempt.encode(web.key), max_age=minutes * 60, httponly=True, samesite="lax",
                        secure=web.settings.secure_cookies, path=ATTEMPT_PATH)
    return response


@router.get("/signin/callback")
async def back_from_provider(request: Request, web: App, provider: AtProvider, state: str | None = None,
                             code: str | None = None, error: str | None = None) -> Response:
    if provider is None:
        return web.page(request, "message.html", 404, title_key="signin.title", text_key="signin.none")
    attempt = SignInAttempt.decode(request.cookies.get(ATTEMPT_COOKIE), web.key, web.clock())
    try:
        if attempt is None or state is None or not hmac.compare_digest(state.encode(), attempt.state.encode()):
            raise SignInFailed("signin.failed.state", "the state is not that of this browser's sign-in")
        if error is not None or not code:
            raise SignInFailed("signin.failed.provider", error or "the provider sent no code")
        session = await provider.sign_in(code, attempt, web.clock())
    except SignInFailed as failure:
        return await _failed(request, web, provider, failure)
    log.info("signed_in", sub=session.sub, role=session.role, ends_at=session.ends_at.isoformat(),
             refreshable=session.refresh_token is not None)
    response = RedirectResponse(home(session.role), status_code=303)
    web.keep(response, session)
    response.delete_cookie(ATTEMPT_COOKIE, path=ATTEMPT_PATH)
    return response


@router.post("/signin")
async def sign_in(request: Request, web: App, provider: AtProvider, staff_id: Annotated[str, Form(max_length=63)]) -> Response:
    if not web.settings.development_sign_in:
        return web.page(request, "message.html", 404, title_key="signin.title", text_key="signin.none")
    people = await _people(web)
    person = next((p for p in people if p["staff_id"] == staff_id), None)
    if person is None:
        return await _sign_in_page(request, web, provider, 422, people=people, error="signin.unknown")
    role, now, hours = Role(person["role"]), web.clock(), web.settings.session_hours
    store_id = person["home_site_id"] if role in STORE_ROLES else None
    region_id = person["region_id"] if role in STORE_ROLES | REGION_ROLES else None
    scope = {name: value for name, value in (("store_id", store_id), ("region_id", region_id)) if value}
    token = mint_token(web.platform, sub=staff_id, role=role, now=now, ttl=timedelta(hours=hours), **scope)
    ends_at = now + timedelta(hours=hours)
    session = Session(token, staff_id, role, store_id, region_id, ends_at, ends_at)
    response = RedirectResponse("/", status_code=303)
    web.keep(response, session)
    return response


@router.post("/signout")
async def sign_out(request: Request, session: Person, web: App, provider: AtProvider,
                   csrf: Annotated[str, Form()]) -> Response:
    web.checked(session, csrf)
    if provider is not None:
        await provider.revoke(session)
    away = await provider.sign_out_url() if provider is not None and session.at_provider else None
    response = web.page(request, "signed_out.html", away=away) if away else RedirectResponse("/signin", status_code=303)
    response.delete_cookie(COOKIE)
    return response


async def _sign_in_page(request: Request, web: Web, provider: Provider | None, status: int = 200,
                        people: list[dict] | None = None, **context) -> HTMLResponse:
    """The ways to sign in this app offers: the provider's button, the development picker, or none."""
    if provider is None and not web.settings.development_sign_in:
        return web.page(request, "message.html", 404, title_key="signin.title", text_key="signin.none")
    if web.settings.development_sign_in and people is None:
        people = await _people(web)
    return web.page(request, "signin.html", status, provider=provider is not None,
                    provider_name=web.settings.oidc_provider_name, people=people, **context)


async def _failed(request: Request, web: Web, provider: Provider | None, failure: SignInFailed) -> HTMLResponse:
    """The sign-in page, saying why no one was signed in; the attempt is over either way."""
    log.warning("sign_in_refused", failure=failure.key, reason=failure.reason[:300])
    response = await _sign_in_page(request, web, provider, FAILURE_STATUS[failure.key], failure=failure.key,
                                   reason=failure.reason)
    response.delete_cookie(ATTEMPT_COOKIE, path=ATTEMPT_PATH)
    return response


async def _people(web: Web) -> list[dict]:
    """The staff directory, for the development sign-in to pick from."""
    token = mint_token(web.platform, sub=SERVICE_ID, role=Role.service, now=web.clock(), ttl=timedelta(minutes=1))
    response = await web.apis["scheduling"].get("/v1/staff", headers={"Authorization": f"Bearer {token}"})
    response.raise_for_status()
    return sorted(response.json(), key=lambda person: (person["role"], person["staff_id"]))
