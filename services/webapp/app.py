"""The staff web app: server-rendered pages over the platform's APIs, each call made with the signed-in
person's own token, so that every rule of role and scope is the API's, in one place. Plain HTML forms
(post, then redirect), no script needed; the pages' only style is the app's own stylesheet."""

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from services.shared.clock import Clock, utc_now
from services.shared.settings import Environment, PlatformSettings, check_production_key
from services.shared.web import create_app
from services.webapp.pages import coordinator, front_line, manager, me, senior, signin, survey
from services.webapp.session import COOKIE
from services.webapp.settings import DEVELOPMENT_SESSION_KEY, WebappSettings
from services.webapp.web import HERE, Person, Refused, SignIn, Web, home

VERSION = "0.1.0"


def build_app(settings: WebappSettings, platform: PlatformSettings, clock: Clock = utc_now, *,
              transports: dict[str, httpx.AsyncBaseTransport] | None = None) -> FastAPI:
    """The app; `transports` replace the network to the other services' APIs (tests run them in-process)."""
    if platform.env is Environment.production:
        check_production_key("WEBAPP_SESSION_KEY", settings.session_key, DEVELOPMENT_SESSION_KEY)
        if settings.development_sign_in:
            raise ValueError("WEBAPP_DEVELOPMENT_SIGN_IN must be false in production")
    if settings.oidc_client_id and not platform.oidc_issuer:
        raise ValueError("WEBAPP_OIDC_CLIENT_ID needs RETAIL_OIDC_ISSUER: the provider people sign in with")
    web, transports = Web(settings, platform, clock), transports or {}

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        for name, url in (("complaints", settings.complaints_url), ("scheduling", settings.scheduling_url),
                          ("notifications", settings.notifications_url), ("boards", settings.boards_url)):
            web.apis[name] = httpx.AsyncClient(base_url=url, transport=transports.get(name), timeout=settings.http_timeout_s)
        try:
            yield
        finally:
            for client in web.apis.values():
                await client.aclose()

    app = create_app(service="webapp", platform=platform, checks={}, lifespan=lifespan, description="The staff web app.",
                     version=VERSION)
    app.state.web = web
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for pages in (signin, front_line, senior, manager, coordinator, survey, me):
        app.include_router(pages.router)

    @app.exception_handler(SignIn)
    async def to_sign_in(_request: Request, error: SignIn) -> Response:
        response = RedirectResponse("/signin?ended=1" if error.ended else "/signin", status_code=303)
        response.delete_cookie(COOKIE)
        return response

    @app.middleware("http")
    async def keep_renewed_session(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        """A session whose token was refreshed on the way goes back to the browser, unless the answer ends it."""
        response = await call_next(request)
        renewed = getattr(request.state, "renewed", None)
        if renewed is not None and not any(cookie.startswith(f"{COOKIE}=") for cookie in response.headers.getlist("set-cookie")):
            web.keep(response, renewed)
        return response

    @app.exception_handler(Refused)
    async def refused(request: Request, _error: Refused) -> Response:
        return web.page(request, "message.html", 403, title_key="refused.title", text_key="refused.text")

    @app.get("/", include_in_schema=False)
    async def start(session: Person) -> Response:
        return RedirectResponse(home(session.role), status_code=303)

    return app
