"""The staff web app: server-rendered pages over the platform's APIs, each call made with the signed-in
person's own token, so that every rule of role and scope is the API's, in one place. Plain HTML forms
(post, then redirect), no script needed; the pages' only style is the app's own stylesheet.

Pages: the sign-in (development: pick a person of the staff directory), the front line's queue (mine
and my site's open complaints), filing a complaint, and a complaint's timeline with its actions."""

import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Annotated
from uuid import UUID

import httpx
from fastapi import Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape

from services.shared.auth import mint_token
from services.shared.clock import Clock, utc_now
from services.shared.events import complaints as c
from services.shared.principal import REGION_ROLES, STORE_ROLES, Role
from services.shared.settings import Environment as RunningIn, PlatformSettings, check_production_key
from services.shared.web import create_app
from services.webapp import i18n
from services.webapp.session import COOKIE, Session
from services.webapp.settings import DEVELOPMENT_SESSION_KEY, WebappSettings

HERE = Path(__file__).parent
PAGE_POLICY = ("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; "
               "base-uri 'none'")
FRONT_LINE = frozenset({Role.associate, Role.call_centre_agent})
SERVICE_ID = "svc-webapp"
CHOICES = {"category": c.Category, "severity": c.Severity, "mood": c.Mood, "channel": c.Channel, "technique": c.Technique,
           "outcome": c.Outcome}


class SignIn(Exception):  # noqa: N818 - a redirect, not an error
    """The person has no (valid) session: to the sign-in."""


class Refused(Exception):  # noqa: N818 - shown to the person
    """A form the app refuses outright (a missing or wrong CSRF token)."""


def build_app(settings: WebappSettings, platform: PlatformSettings, clock: Clock = utc_now, *,
              transports: dict[str, httpx.AsyncBaseTransport] | None = None) -> FastAPI:
    """The app; `transports` replace the network to the other services' APIs (tests run them in-process)."""
    if platform.env is RunningIn.production:
        check_production_key("WEBAPP_SESSION_KEY", settings.session_key, DEVELOPMENT_SESSION_KEY)
        if settings.development_sign_in:
            raise ValueError("WEBAPP_DEVELOPMENT_SIGN_IN must be false in production")
    key = settings.session_key.get_secret_value().encode()
    transports = transports or {}
    apis: dict[str, httpx.AsyncClient] = {}

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        for name, url in (("complaints", settings.complaints_url), ("scheduling", settings.scheduling_url),
                          ("notifications", settings.notifications_url)):
            apis[name] = httpx.AsyncClient(base_url=url, transport=transports.get(name), timeout=settings.http_timeout_s)
        try:
            yield
        finally:
            for client in apis.values():
                await client.aclose()

    app = create_app(service="webapp", platform=platform, checks={}, lifespan=lifespan,
                     description="The staff web app.", version="0.1.0")
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    templates = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]))

    def language(request: Request) -> str:
        return i18n.chosen(request.cookies.get("lang"), request.headers.get("accept-language"))

    def page(request: Request, name: str, status: int = 200, session: Session | None = None, **context) -> HTMLResponse:
        lang = language(request)
        html = templates.get_template(name).render(
            t=i18n.translator(lang), lang=lang, session=session, csrf=session.csrf(key) if session else "",
            choices=CHOICES, path=request.url.path, **context,
        )
        return HTMLResponse(html, status_code=status, headers={"Content-Security-Policy": PAGE_POLICY,
                                                                "Cache-Control": "no-store"})

    def signed_in(request: Request) -> Session:
        session = Session.decode(request.cookies.get(COOKIE), key, clock())
        if session is None:
            raise SignIn()
        return session

    Person = Annotated[Session, Depends(signed_in)]

    def checked(session: Session, csrf: str) -> None:
        if csrf != session.csrf(key):
            raise Refused()

    async def api(name: str, method: str, path: str, session: Session, **kwargs) -> httpx.Response:
        headers = {"Authorization": f"Bearer {session.token}", "Accept-Language": "en"}
        response = await apis[name].request(method, path, headers=headers, **kwargs)
        if response.status_code == 401:
            raise SignIn()
        return response

    @app.exception_handler(SignIn)
    async def to_sign_in(_request: Request, _error: SignIn) -> Response:
        response = RedirectResponse("/signin", status_code=303)
        response.delete_cookie(COOKIE)
        return response

    @app.exception_handler(Refused)
    async def refused(request: Request, _error: Refused) -> Response:
        return page(request, "message.html", 403, title_key="refused.title", text_key="refused.text")

    @app.get("/", include_in_schema=False)
    async def home(session: Person) -> Response:
        return RedirectResponse("/queue", status_code=303)

    @app.get("/lang/{code}", include_in_schema=False)
    async def choose_language(code: str, request: Request) -> Response:
        back = request.headers.get("referer") or "/"
        response = RedirectResponse(back if back.startswith(str(request.base_url)) else "/", status_code=303)
        if code in i18n.LANGUAGES:
            response.set_cookie("lang", code, max_age=365 * 24 * 3600, httponly=True, samesite="lax",
                                secure=settings.secure_cookies)
        return response

    @app.get("/signin", include_in_schema=False)
    async def sign_in_page(request: Request) -> HTMLResponse:
        if not settings.development_sign_in:
            return page(request, "message.html", 404, title_key="signin.title", text_key="signin.none")
        return page(request, "signin.html", people=await _people(apis["scheduling"], platform, clock))

    @app.post("/signin", include_in_schema=False)
    async def sign_in(request: Request, staff_id: Annotated[str, Form(max_length=63)]) -> Response:
        if not settings.development_sign_in:
            return page(request, "message.html", 404, title_key="signin.title", text_key="signin.none")
        person = next((p for p in await _people(apis["scheduling"], platform, clock) if p["staff_id"] == staff_id), None)
        if person is None:
            return page(request, "signin.html", 422, people=await _people(apis["scheduling"], platform, clock),
                        error="signin.unknown")
        role, now = Role(person["role"]), clock()
        store_id = person["home_site_id"] if role in STORE_ROLES else None
        region_id = person["region_id"] if role in STORE_ROLES | REGION_ROLES else None
        expires_at = now + timedelta(hours=settings.session_hours)
        scope = {k: v for k, v in (("store_id", store_id), ("region_id", region_id)) if v}
        token = mint_token(platform, sub=staff_id, role=role, now=now, ttl=timedelta(hours=settings.session_hours), **scope)
        session = Session(token, staff_id, role, store_id, region_id, expires_at)
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(COOKIE, session.encode(key), max_age=settings.session_hours * 3600, httponly=True,
                            samesite="lax", secure=settings.secure_cookies, path="/")
        return response

    @app.post("/signout", include_in_schema=False)
    async def sign_out(session: Person, csrf: Annotated[str, Form()]) -> Response:
        checked(session, csrf)
        response = RedirectResponse("/signin", status_code=303)
        response.delete_cookie(COOKIE)
        return response

    @app.get("/queue", include_in_schema=False)
    async def queue(request: Request, session: Person) -> HTMLResponse:
        mine = await api("complaints", "GET", "/v1/complaints", session,
                         params={"assignee": "me", "limit": settings.page_size})
        site = None
        if session.store_id:
            site = await api("complaints", "GET", "/v1/complaints", session,
                             params={"store_id": session.store_id, "status": "open", "limit": settings.page_size})
        return page(request, "queue.html", session=session, mine=mine.json()["items"],
                    site=site.json()["items"] if site is not None else None)

    @app.get("/complaints/new", include_in_schema=False)
    async def new_complaint(request: Request, session: Person) -> HTMLResponse:
        return page(request, "file.html", session=session, values={}, errors={})

    @app.post("/complaints", include_in_schema=False)
    async def file_complaint(request: Request, session: Person) -> Response:
        form = await request.form()
        checked(session, str(form.get("csrf", "")))
        values = {name: str(form.get(name, "")).strip() for name in (
            "store_id", "name", "email", "phone", "channel", "category", "severity", "mood", "description")}
        store = session.store_id or values["store_id"]
        customer = {k: values[k] for k in ("name", "email", "phone") if values[k]}
        body = {"store_id": store, "customer": customer, "channel": values["channel"] or "in_store",
                "category": values["category"], "severity": values["severity"], "mood": values["mood"],
                "description": values["description"]}
        response = await api("complaints", "POST", "/v1/complaints", session, json=body)
        if response.status_code == 201:
            return RedirectResponse(f"/complaints/{response.json()['id']}", status_code=303)
        errors = _field_errors(response, i18n.translator(language(request)))
        return page(request, "file.html", 422, session=session, values=values, errors=errors)

    @app.get("/complaints/{complaint_id}", include_in_schema=False)
    async def complaint(request: Request, complaint_id: UUID, session: Person) -> HTMLResponse:
        shown = await api("complaints", "GET", f"/v1/complaints/{complaint_id}", session)
        if shown.status_code != 200:
            return page(request, "message.html", shown.status_code, session=session, title_key="complaint.missing.title",
                        text_key="complaint.missing.text")
        try:
            reached = await api("notifications", "GET", "/v1/deliveries", session, params={"complaint_id": str(complaint_id)})
            deliveries = reached.json() if reached.status_code == 200 else None
        except httpx.HTTPError:
            deliveries = None  # the timeline without who was told: the notifications service is away
        return page(request, "complaint.html", session=session, complaint=shown.json(), deliveries=deliveries,
                    errors={})

    @app.post("/complaints/{complaint_id}/{action}", include_in_schema=False)
    async def act(request: Request, complaint_id: UUID, action: str, session: Person) -> Response:
        form = await request.form()
        checked(session, str(form.get("csrf", "")))
        if action == "acknowledge":
            body = None
        elif action == "notes":
            body = {"text": str(form.get("text", "")).strip()}
        elif action == "resolve":
            steps = {step: form.get(f"step_{step}") == "on" for step in c.Technique}
            body = {"technique": form.get("technique"), "outcome": form.get("outcome"),
                    "summary": str(form.get("summary", "")).strip(), "steps": steps}
        else:
            return page(request, "message.html", 404, session=session, title_key="complaint.missing.title",
                        text_key="complaint.missing.text")
        answer = await api("complaints", "POST", f"/v1/complaints/{complaint_id}/{action}", session, json=body)
        if answer.status_code in (200, 201):
            return RedirectResponse(f"/complaints/{complaint_id}", status_code=303)
        shown = await api("complaints", "GET", f"/v1/complaints/{complaint_id}", session)
        errors = _field_errors(answer, i18n.translator(language(request)))
        return page(request, "complaint.html", answer.status_code, session=session, complaint=shown.json(), deliveries=None,
                    errors=errors)

    return app


async def _people(scheduling: httpx.AsyncClient, platform: PlatformSettings, clock: Clock) -> list[dict]:
    """The staff directory, for the development sign-in to pick from."""
    token = mint_token(platform, sub=SERVICE_ID, role=Role.service, now=clock(), ttl=timedelta(minutes=1))
    response = await scheduling.get("/v1/staff", headers={"Authorization": f"Bearer {token}"})
    response.raise_for_status()
    return sorted(response.json(), key=lambda person: (person["role"], person["staff_id"]))


ERRORS = {"missing": "error.required", "string_too_short": "error.required", "value_error": "error.invalid",
          "enum": "error.choose", "string_too_long": "error.too_long", "string_pattern_mismatch": "error.invalid"}


def _field_errors(response: httpx.Response, t) -> dict[str, str]:
    """The API's answer as messages per form field (the last part of each error's location), in the
    person's language where the kind of error is a common one; an error about no field in particular
    under "form"."""
    try:
        detail = response.json().get("detail")
    except ValueError:
        return {"form": f"HTTP {response.status_code}"}
    if isinstance(detail, list):
        errors = {}
        for error in detail:
            location = [str(part) for part in error.get("loc", []) if part != "body"]
            said = t(ERRORS[error.get("type")]) if error.get("type") in ERRORS else error.get("msg", "invalid")
            errors.setdefault(location[-1] if location else "form", said)
        return errors
    return {"form": str(detail)}
