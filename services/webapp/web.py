"""What every page of the app shares: rendering a template in the person's language under the app's
policy, the signed-in person (their session), the CSRF check of a form, and calling another
service's API as that person."""

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import httpx
import structlog
from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from services.shared.clock import Clock
from services.shared.events import complaints as c
from services.shared.settings import PlatformSettings
from services.webapp import i18n
from services.webapp.provider import SignInFailed, provider_of
from services.webapp.session import COOKIE, Session
from services.webapp.settings import WebappSettings

log = structlog.get_logger()
HERE = Path(__file__).parent
PAGE_POLICY = ("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; "
               "base-uri 'none'")
CHOICES = {"category": c.Category, "severity": c.Severity, "mood": c.Mood, "channel": c.Channel, "technique": c.Technique,
           "outcome": c.Outcome}
# The API's errors of a common kind, said in the person's language.
ERRORS = {"missing": "error.required", "string_too_short": "error.required", "value_error": "error.invalid",
          "enum": "error.choose", "int_type": "error.choose", "string_too_long": "error.too_long",
          "string_pattern_mismatch": "error.invalid"}


# Each role's pages in the header, in order (a path and its words' key), and where a sign-in lands.
FRONT_LINE_NAV = (("/queue", "nav.queue"), ("/complaints/new", "nav.file"))
NAV: dict[str, tuple[tuple[str, str], ...]] = {
    "associate": FRONT_LINE_NAV, "call_centre_agent": FRONT_LINE_NAV, "coordinator": FRONT_LINE_NAV,
    "store_manager": (("/manager/board", "manager.nav.board"), ("/manager/returns", "manager.nav.returns"),
                      ("/manager/pages", "manager.nav.pages"), ("/manager/schedule", "manager.nav.schedule"), FRONT_LINE_NAV[0]),
    "regional_coordinator": (("/board", "board.nav"), *FRONT_LINE_NAV),
    "senior_manager": (("/chain", "nav.chain"), ("/proposals", "nav.proposals"), ("/policy", "nav.policy")),
}


def home(role: str) -> str:
    return NAV.get(role, FRONT_LINE_NAV)[0][0]


class SignIn(Exception):  # noqa: N818 - a redirect, not an error
    """The person has no (valid) session: to the sign-in, which says that their session has `ended` when
    it was cut short."""

    def __init__(self, ended: bool = False) -> None:
        super().__init__()
        self.ended = ended


class Refused(Exception):  # noqa: N818 - shown to the person
    """A form the app refuses outright (a missing or wrong CSRF token)."""


@dataclass
class Web:
    settings: WebappSettings
    platform: PlatformSettings
    clock: Clock
    apis: dict[str, httpx.AsyncClient] = field(default_factory=dict)
    templates: Environment = field(default_factory=lambda: Environment(
        loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"])))

    @property
    def key(self) -> bytes:
        return self.settings.session_key.get_secret_value().encode()

    def page(self, request: Request, name: str, status: int = 200, session: Session | None = None, **context) -> HTMLResponse:
        lang = language(request)
        html = self.templates.get_template(name).render(
            t=i18n.translator(lang), lang=lang, session=session, csrf=session.csrf(self.key) if session else "",
            choices=CHOICES, path=request.url.path,
            here=request.url.path + (f"?{request.url.query}" if request.url.query else ""), nav=NAV.get(session.role, ()) if session else (), **context,
        )
        return HTMLResponse(html, status_code=status, headers={"Content-Security-Policy": PAGE_POLICY,
                                                                "Cache-Control": "no-store"})

    def keep(self, response: Response, session: Session) -> None:
        """The session in the browser's cookie until it ends."""
        lasting = max(int((session.ends_at - self.clock()).total_seconds()), 0)
        response.set_cookie(COOKIE, session.encode(self.key), max_age=lasting, httponly=True, samesite="lax",
                            secure=self.settings.secure_cookies, path="/")

    def checked(self, session: Session, csrf: object) -> None:
        if csrf != session.csrf(self.key):
            raise Refused()

    async def read(self, name: str, path: str, session: Session | None, **kwargs):
        """The service's answer to a GET, decoded; None while it cannot say (unreachable, or any answer but
        200), for a page that shows what it can without it."""
        try:
            answer = await self.api(name, "GET", path, session, **kwargs)
        except httpx.HTTPError:
            return None
        return answer.json() if answer.status_code == 200 else None

    async def api(self, name: str, method: str, path: str, session: Session | None, **kwargs) -> httpx.Response:
        """The service's answer to the person's request (anyone's, without a session: a customer's); their
        session is over if the service says so."""
        headers = {"Accept-Language": "en"} | ({"Authorization": f"Bearer {session.token}"} if session else {})
        response = await self.apis[name].request(method, path, headers=headers, **kwargs)
        if response.status_code == 401:
            raise SignIn()
        return response


def language(request: Request) -> str:
    return i18n.chosen(request.cookies.get("lang"), request.headers.get("accept-language"))


def field_errors(request: Request, response: httpx.Response) -> dict[str, str]:
    """The API's answer as messages per form field (the last part of each error's location), in the
    person's language where the kind of error is a common one; an error about no field in particular
    under "form"."""
    t = i18n.translator(language(request))
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


def _web(request: Request) -> Web:
    return request.app.state.web


async def _signed_in(request: Request) -> Session:
    """The signed-in person, their token refreshed first when it is about to expire; the response then
    takes the renewed session back to the browser (`renewed`, see app.py)."""
    web = _web(request)
    now = web.clock()
    session = Session.decode(request.cookies.get(COOKIE), web.key, now)
    if session is None:
        raise SignIn()
    if session.due(now, timedelta(seconds=web.settings.oidc_refresh_skew_s)):
        request.state.renewed = session = await _refreshed(request, session)
    return session


async def _refreshed(request: Request, session: Session) -> Session:
    provider = provider_of(request.app)
    if provider is None:  # the app is no longer the provider's client
        raise SignIn(ended=True)
    try:
        return await provider.refresh(session)
    except SignInFailed as failure:
        log.warning("session_not_refreshed", failure=failure.key, reason=failure.reason[:300])
        raise SignIn(ended=True) from None


async def _signed_in_for_script(request: Request) -> Session:
    """The signed-in person, for a page's script: answered 401 when there is none, it goes to the sign-in itself."""
    try:
        return await _signed_in(request)
    except SignIn:
        raise HTTPException(401, "signed out") from None


App = Annotated[Web, Depends(_web)]
Person = Annotated[Session, Depends(_signed_in)]
ScriptPerson = Annotated[Session, Depends(_signed_in_for_script)]
