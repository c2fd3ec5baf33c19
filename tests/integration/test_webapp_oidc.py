"""A chain's people sign in to the staff web app with its identity provider (OpenID Connect,
authorization code with PKCE): the local provider (a real HTTP server) signs them in, the app keeps its
access token as their session, and the real complaints API (in-process, production settings) accepts
it when their queue loads. A state not this browser's, a code used twice, an ID token of another
sign-in and a token naming no role of ours sign no one in; the provider's key rotation does not
matter. The provider's refresh token renews its five-minute access token for a working day, rotated at
each refresh; a refresh the provider refuses, or whose tokens do not pass, ends the session; signing out
revokes the refresh token and ends the session at the provider too."""

import asyncio
import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from services.shared.jwks import SigningKeys
from services.shared.settings import PlatformSettings
from services.webapp.app import build_app
from services.webapp.settings import WebappSettings
from tests.support.complaints import Api, start_api
from tests.support.identity_provider import (
    AUDIENCE,
    AUTHORIZE_PATH,
    CLIENT_ID,
    CLIENT_SECRET,
    LOGOUT_PATH,
    TOKEN_PATH,
    IdentityProvider,
    new_key,
    serving,
)

WEBAPP = "http://webapp.test"
CALLBACK = f"{WEBAPP}/signin/callback"
REFRESH_MIN_S = 60
ROLE_MAP = {"retail-associates": "associate", "retail-store-managers": "store_manager"}
ASSOCIATE = {"sub": "emp-1042", "groups": ["everyone", "retail-associates"], "retail_region": "uusimaa",
             "retail_site": "hel-kamppi"}


class Clock:
    """The monotonic clock of both key caches, moved by the test instead of waited for."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class WallClock:
    """The web app's clock: now, or later when the test says so."""

    def __init__(self) -> None:
        self.ahead = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.ahead


@pytest.fixture(scope="module")
def provider() -> Iterator[IdentityProvider]:
    with serving(IdentityProvider(redirect_uris={CALLBACK})) as running:
        yield running


@pytest.fixture(scope="module")
def platform(provider: IdentityProvider) -> PlatformSettings:
    return PlatformSettings(
        env="production", auth_signing_key="kJ7q/Vd2+Xw9LpZ0sNfR4tYh6mBc1uGe8aQxTzWn3oHvE5yU",
        oidc_issuer=provider.issuer, oidc_audience=AUDIENCE, oidc_role_claim="groups", oidc_role_map=ROLE_MAP,
        oidc_jwks_refresh_min_s=REFRESH_MIN_S,
    )


@pytest.fixture(scope="module")
async def api(platform: PlatformSettings, tmp_path_factory) -> AsyncIterator[Api]:
    url = f"sqlite:///{tmp_path_factory.mktemp('webapp-oidc') / 'complaints.db'}"
    async for running in start_api(url, platform, relay_enabled=False, survey_delivery_enabled=False,
                                   customer_ref_key="Vq8z3LkP0xW7rT2mN5bY9cH4jF6gD1sAe0Rt"):
        yield running


@pytest.fixture
def keys_clock() -> Clock:
    return Clock()


@pytest.fixture
def wall_clock() -> WallClock:
    return WallClock()


@pytest.fixture
async def webapp(api, platform, provider, keys_clock, wall_clock) -> AsyncIterator[object]:
    """The web app as a chain runs it (production: the provider's sign-in only), over the real complaints
    API; fresh key caches for the app and the API, on a clock the test moves."""
    provider.person, provider.id_token_claims = dict(ASSOCIATE), {}
    provider.issues_refresh_tokens, provider.unpublished_key, provider.unavailable = True, None, False
    provider.refresh_tokens.clear()
    provider.refusals.clear()
    api.app.state.signing_keys = SigningKeys(platform, clock=keys_clock)
    settings = WebappSettings(
        session_key="Zr4xP9vL2qW7nB0cK5tY8hJ3mD6sF1gA", development_sign_in=False, oidc_client_id=CLIENT_ID,
        oidc_client_secret=CLIENT_SECRET, oidc_redirect_url=CALLBACK, oidc_provider_name="Keycloak",
    )
    app = build_app(settings, platform, wall_clock, transports={"complaints": httpx.ASGITransport(app=api.app)})
    app.state.signing_keys = SigningKeys(platform, clock=keys_clock)
    async with app.router.lifespan_context(app):
        yield app


def browser(app) -> httpx.AsyncClient:
    """A browser of its own: cookies kept, redirects followed, the web app in-process and the provider over HTTP."""
    return httpx.AsyncClient(base_url=WEBAPP, mounts={WEBAPP: httpx.ASGITransport(app=app)}, follow_redirects=True)


async def back_from_provider(client: httpx.AsyncClient) -> str:
    """Starts a sign-in and goes to the provider, which sends the browser back: the URL it sends it to."""
    to_provider = await client.get("/signin/start", follow_redirects=False)
    assert to_provider.status_code == 303, to_provider.text
    at_provider = await client.get(to_provider.headers["location"], follow_redirects=False)
    assert at_provider.status_code == 302, at_provider.text
    return at_provider.headers["location"]


def signed_in(response: httpx.Response) -> bool:
    return any("retail_session" in r.cookies for r in [*response.history, response])


def ended(response: httpx.Response, client: httpx.AsyncClient) -> bool:
    """Sent to the sign-in, which says why, with the session gone."""
    return response.url == f"{WEBAPP}/signin?ended=1" and "Your session has ended" in response.text \
        and "retail_session" not in client.cookies


async def once_the_token_expires(client: httpx.AsyncClient, wall_clock: WallClock) -> httpx.Response:
    wall_clock.ahead += timedelta(minutes=5)
    return await client.get("/queue")


async def test_a_person_signs_in_at_the_provider_and_their_queue_loads(webapp, provider):
    async with browser(webapp) as client:
        page = await client.get("/signin")
        assert page.status_code == 200
        assert 'href="/signin/start"' in page.text and "Sign in with Keycloak" in page.text
        assert "staff_id" not in page.text  # no development sign-in in production
        assert "script-src" not in page.headers["Content-Security-Policy"]

        queue = await client.get("/signin/start")

        assert queue.status_code == 200, queue.text
        assert queue.url == f"{WEBAPP}/queue"  # the complaints API took the provider's token
        assert "emp-1042" in queue.text and "hel-kamppi" in queue.text
        start, authorize, callback = queue.history
        sent = parse_qs(urlsplit(start.headers["location"]).query)
        assert urlsplit(start.headers["location"]).path.endswith(AUTHORIZE_PATH)
        assert sent["code_challenge_method"] == ["S256"] and sent["client_id"] == [CLIENT_ID]
        assert sent["redirect_uri"] == [CALLBACK] and "openid" in sent["scope"][0].split()
        assert "code_verifier" not in sent
        attempt = start.headers["set-cookie"]
        assert "HttpOnly" in attempt and "samesite=lax" in attempt.lower() and "Path=/signin" in attempt
        assert authorize.status_code == 302 and authorize.headers["location"].startswith(CALLBACK)
        session = callback.headers.get_list("set-cookie")
        kept = next(cookie for cookie in session if cookie.startswith("retail_session="))
        assert "HttpOnly" in kept and "samesite=lax" in kept.lower()
        # The session lasts a working day (WEBAPP_SESSION_HOURS), its five-minute token refreshed meanwhile.
        assert 10 * 3600 - 5 <= int(re.search(r"Max-Age=(\d+)", kept).group(1)) <= 10 * 3600
        assert any(cookie.startswith('retail_signin=""') or "retail_signin=;" in cookie for cookie in session)
        assert provider.refusals == []

        filed = await client.get("/complaints/new")
        assert filed.status_code == 200 and filed.url == f"{WEBAPP}/complaints/new"


async def test_a_tampered_state_signs_no_one_in(webapp):
    async with browser(webapp) as client:
        back = await back_from_provider(client)
        query = parse_qs(urlsplit(back).query)
        tampered = f"{CALLBACK}?{urlencode({'code': query['code'][0], 'state': query['state'][0][:-2] + 'xx'})}"

        refused = await client.get(tampered)

        assert refused.status_code == 400
        assert "not started in this browser" in refused.text and not signed_in(refused)
        # The attempt is over: even the genuine answer no longer signs anyone in.
        assert (await client.get(back)).status_code == 400
        assert (await client.get("/queue")).url == f"{WEBAPP}/signin"


async def test_a_code_used_once_signs_no_one_in_again(webapp, provider):
    async with browser(webapp) as client:
        back = await back_from_provider(client)
        attempt = client.cookies["retail_signin"]
        first = await client.get(back)
        assert first.url == f"{WEBAPP}/queue"

    async with browser(webapp) as replaying:
        # Without this browser's attempt, the state is not theirs.
        assert (await replaying.get(back)).status_code == 400
        # With the attempt's cookie too, the provider exchanges a code only once.
        replaying.cookies.set("retail_signin", attempt, domain="webapp.test", path="/signin")
        replayed = await replaying.get(back)
        assert replayed.status_code == 401 and "invalid_grant" in replayed.text and not signed_in(replayed)
        assert provider.refusals[-1] == "invalid_grant"


async def test_an_id_token_of_another_sign_in_is_refused(webapp, provider):
    provider.id_token_claims = {"nonce": "the-nonce-of-another-sign-in"}
    async with browser(webapp) as client:
        refused = await client.get("/signin/start")
        assert refused.status_code == 401 and refused.url.path == "/signin/callback"
        assert "its nonce differs" in refused.text and not signed_in(refused)
        assert "could not be accepted" in refused.text


async def test_an_id_token_for_another_client_is_refused(webapp, provider):
    provider.id_token_claims = {"aud": "another-app"}
    async with browser(webapp) as client:
        refused = await client.get("/signin/start")
        assert refused.status_code == 401 and f"not meant for {CLIENT_ID}" in refused.text and not signed_in(refused)


async def test_a_person_the_platform_cannot_place_is_not_signed_in(webapp, provider):
    provider.person = {**ASSOCIATE, "groups": ["everyone"]}
    async with browser(webapp) as client:
        refused = await client.get("/signin/start")
        assert refused.status_code == 401 and not signed_in(refused)
        assert "the token&#39;s &#39;groups&#39; claim names no role of this platform" in refused.text


async def test_the_provider_declining_signs_no_one_in(webapp, provider):
    provider.person = None
    async with browser(webapp) as client:
        refused = await client.get("/signin/start", headers={"Accept-Language": "fi"})
        assert refused.status_code == 401 and "access_denied" in refused.text and not signed_in(refused)
        assert "Tunnistuspalvelu ei kirjannut sinua sisään" in refused.text


async def test_sign_ins_continue_when_the_provider_rotates_its_key(webapp, provider, keys_clock):
    async with browser(webapp) as before:
        assert (await before.get("/signin/start")).url == f"{WEBAPP}/queue"

        provider.rotate()
        keys_clock.now += REFRESH_MIN_S  # some time after the last fetch, as any real rotation is
        async with browser(webapp) as after:
            queue = await after.get("/signin/start")
            assert queue.status_code == 200 and queue.url == f"{WEBAPP}/queue", queue.text

        # The old key is no longer published, so the session it signed is over.
        assert (await before.get("/queue")).url == f"{WEBAPP}/signin"


async def test_a_person_works_a_whole_shift_on_refreshed_tokens(webapp, provider, wall_clock):
    async with browser(webapp) as client:
        assert (await client.get("/signin/start")).url == f"{WEBAPP}/queue"
        exchanges = provider.requests[TOKEN_PATH]

        for hour in range(1, 9):
            wall_clock.ahead = timedelta(hours=hour)  # each token long expired, by the app's clock
            queue = await client.get("/queue")
            assert queue.url == f"{WEBAPP}/queue" and "emp-1042" in queue.text, queue.text
            assert "retail_session" in queue.cookies  # the renewed session, back to the browser

        # Eight refreshes, each with the refresh token the one before rotated in.
        assert provider.requests[TOKEN_PATH] == exchanges + 8
        assert provider.refusals == [] and len(provider.refresh_tokens) == 1


async def test_no_refresh_outlasts_the_working_day(webapp, provider, wall_clock):
    async with browser(webapp) as client:
        assert (await client.get("/signin/start")).url == f"{WEBAPP}/queue"
        wall_clock.ahead = timedelta(hours=10) - timedelta(minutes=1)
        assert (await client.get("/queue")).url == f"{WEBAPP}/queue"
        exchanges = provider.requests[TOKEN_PATH]

        wall_clock.ahead = timedelta(hours=10)
        assert (await client.get("/queue")).url == f"{WEBAPP}/signin"
        assert provider.requests[TOKEN_PATH] == exchanges


async def test_a_refresh_token_the_provider_has_revoked_ends_the_session(webapp, provider, wall_clock):
    async with browser(webapp) as client:
        assert (await client.get("/signin/start")).url == f"{WEBAPP}/queue"
        provider.refresh_tokens.clear()

        page = await once_the_token_expires(client, wall_clock)

        assert page.status_code == 200 and ended(page, client) and provider.refusals == ["invalid_grant"]
        assert (await client.get("/queue")).url == f"{WEBAPP}/signin"


async def test_a_person_whose_role_the_platform_no_longer_knows_is_signed_out_at_the_refresh(webapp, provider, wall_clock):
    async with browser(webapp) as client:
        assert (await client.get("/signin/start")).url == f"{WEBAPP}/queue"
        provider.person = {**ASSOCIATE, "groups": ["everyone"]}
        assert ended(await once_the_token_expires(client, wall_clock), client)


async def test_refreshed_tokens_signed_with_a_key_the_provider_does_not_publish_end_the_session(webapp, provider,
                                                                                                  wall_clock):
    async with browser(webapp) as client:
        assert (await client.get("/signin/start")).url == f"{WEBAPP}/queue"
        provider.unpublished_key = new_key()
        assert ended(await once_the_token_expires(client, wall_clock), client)


async def test_a_provider_that_cannot_refresh_ends_the_session(webapp, provider, wall_clock):
    async with browser(webapp) as client:
        assert (await client.get("/signin/start")).url == f"{WEBAPP}/queue"
        provider.unavailable = True
        assert ended(await once_the_token_expires(client, wall_clock), client)


async def test_two_tabs_refreshing_at_once_get_a_page_or_the_sign_in_never_an_error(webapp, provider, wall_clock):
    """The provider here honours a refresh token once: the tab that comes second is sent to sign in again.
    (Providers that allow a rotated token a moment's reuse serve both.)"""
    async with browser(webapp) as client:
        assert (await client.get("/signin/start")).url == f"{WEBAPP}/queue"
        wall_clock.ahead = timedelta(minutes=5)
        async with browser(webapp) as first, browser(webapp) as second:
            for tab in (first, second):
                tab.cookies.set("retail_session", client.cookies["retail_session"], domain="webapp.test")
            pages = await asyncio.gather(first.get("/queue"), second.get("/queue"))
        assert [page.status_code for page in pages] == [200, 200]
        assert sorted(page.url.path for page in pages) == ["/queue", "/signin"]


async def test_without_a_refresh_token_the_session_ends_with_the_providers_token(webapp, provider, wall_clock):
    provider.issues_refresh_tokens = False
    async with browser(webapp) as client:
        queue = await client.get("/signin/start")
        assert queue.url == f"{WEBAPP}/queue"
        kept = next(c for c in queue.history[-1].headers.get_list("set-cookie") if c.startswith("retail_session="))
        assert 0 < int(re.search(r"Max-Age=(\d+)", kept).group(1)) <= 300
        wall_clock.ahead = timedelta(minutes=5)
        assert (await client.get("/queue")).url == f"{WEBAPP}/signin"


async def test_signing_out_ends_the_session_here_and_at_the_provider(webapp, provider, wall_clock):
    async with browser(webapp) as client:
        queue = await client.get("/signin/start")
        csrf = re.search(r'name="csrf" value="([^"]+)"', queue.text).group(1)

        wall_clock.ahead = timedelta(hours=1)  # from a page shown before the token was refreshed
        out = await client.post("/signout", data={"csrf": csrf})

        # A page that moves on to the provider: a browser holds a form's redirect to another origin.
        assert out.status_code == 200 and "retail_session" not in client.cookies
        assert provider.refresh_tokens == {}  # the one the refresh rotated in, revoked
        refresh = re.search(r'<meta http-equiv="refresh" content="0;url=([^"]+)">', out.text).group(1).replace("&amp;", "&")
        away = urlsplit(refresh)
        assert f"{away.scheme}://{away.netloc}{away.path}" == provider.issuer + LOGOUT_PATH
        assert parse_qs(away.query) == {"client_id": [CLIENT_ID], "post_logout_redirect_uri": [f"{WEBAPP}/signin"]}
        landed = await client.get(refresh)
        assert landed.url == f"{WEBAPP}/signin" and "Sign in with Keycloak" in landed.text
        assert (await client.get("/queue")).url == f"{WEBAPP}/signin"
