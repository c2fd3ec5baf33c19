"""The chain's identity provider as the app's sign-in sees it (OpenID Connect, authorization code with
PKCE): its endpoints, from the issuer's discovery document; the request that sends a person there; and
the exchange of the code it sends back for their tokens. The ID token must be the provider's, for this
app and this sign-in; the access token, which the APIs verify themselves, must name a person of ours
(services.shared.auth), and becomes the session. A refresh token, when the provider gives one, renews
the access token, checked the same way, until the session ends (WEBAPP_SESSION_HOURS), and is revoked
when the person signs out."""

import hmac
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode, urljoin

import httpx
import structlog
from fastapi import FastAPI

from services.shared.auth import AuthError, principal_from_claims, provider_claims, signing_keys
from services.shared.jwks import (
    KeysUnavailable,
    NotADocument,
    SigningKeys,
    discover,
    endpoint,
)
from services.shared.principal import Principal
from services.shared.settings import PlatformSettings
from services.webapp.session import Session, SignInAttempt
from services.webapp.settings import WebappSettings

log = structlog.get_logger()


class SignInFailed(Exception):
    """No one is signed in: `key` names the words that say why, `reason` the detail (in English, as the
    provider or the token check said it)."""

    def __init__(self, key: str, reason: str = "") -> None:
        super().__init__(f"{key}: {reason}")
        self.key, self.reason = key, reason


@dataclass(frozen=True)
class Endpoints:
    authorization: str
    token: str
    end_session: str | None
    revocation: str | None


class Provider:
    def __init__(self, settings: WebappSettings, platform: PlatformSettings, keys: SigningKeys) -> None:
        assert settings.oidc_client_id and settings.oidc_redirect_url and platform.oidc_issuer
        self.settings, self.platform, self.keys = settings, platform, keys
        self.client_id, self.redirect_url = settings.oidc_client_id, settings.oidc_redirect_url
        self._endpoints: Endpoints | None = None  # found once: a provider's endpoints do not move

    async def endpoints(self) -> Endpoints:
        if self._endpoints is None:
            try:
                async with httpx.AsyncClient(timeout=self.platform.oidc_timeout_s) as client:
                    document = await discover(client, self.platform.oidc_issuer)
                optional = {name: url if isinstance(url := document.get(f"{name}_endpoint"), str) else None
                            for name in ("end_session", "revocation")}
                self._endpoints = Endpoints(endpoint(document, "authorization_endpoint"), endpoint(document, "token_endpoint"),
                                            **optional)
            except (httpx.HTTPError, ValueError, NotADocument) as error:
                raise SignInFailed("signin.failed.unavailable", str(error)) from None
        return self._endpoints

    async def authorization_url(self, attempt: SignInAttempt) -> str:
        """Where the person signs in, sent back to the app with a code for this attempt."""
        query = {
            **self.settings.oidc_authorize_params, "response_type": "code", "client_id": self.client_id,
            "redirect_uri": self.redirect_url, "scope": " ".join(self.settings.oidc_scopes), "state": attempt.state,
            "nonce": attempt.nonce, "code_challenge": attempt.challenge, "code_challenge_method": "S256",
        }
        return _with_query((await self.endpoints()).authorization, query)

    async def sign_in(self, code: str, attempt: SignInAttempt, now: datetime) -> Session:
        """The session of the person the provider signed in, for the code it sent back."""
        tokens = await self._tokens({"grant_type": "authorization_code", "code": code, "redirect_uri": self.redirect_url,
                                     "code_verifier": attempt.verifier})
        if not isinstance(tokens.get("id_token"), str):
            raise SignInFailed("signin.failed.provider", "the provider's answer lacks the ID token")
        person = await self._person(tokens, attempt)
        refresh_token = tokens.get("refresh_token")
        ends_at = now + timedelta(hours=self.settings.session_hours) if refresh_token else person.expires_at
        return Session(tokens["access_token"], person.sub, person.role, person.store_id, person.region_id,
                       person.expires_at, ends_at, at_provider=True, refresh_token=refresh_token)

    async def refresh(self, session: Session) -> Session:
        """The session with the provider's new tokens, for the same person; the provider may rotate the
        refresh token (RFC 6749, section 6) and need not send a new ID token (OpenID Connect Core 1.0, 12.2)."""
        assert session.refresh_token is not None
        tokens = await self._tokens({"grant_type": "refresh_token", "refresh_token": session.refresh_token})
        person = await self._person(tokens)
        if person.sub != session.sub:
            raise SignInFailed("signin.failed.token", "the refreshed token names another person")
        return replace(session, token=tokens["access_token"], role=person.role, store_id=person.store_id,
                       region_id=person.region_id, expires_at=person.expires_at,
                       refresh_token=tokens.get("refresh_token") or session.refresh_token)

    async def revoke(self, session: Session) -> None:
        """Best effort: the provider forgets the session's refresh token (RFC 7009), so that it renews
        nothing once the person has signed out."""
        if session.refresh_token is None:
            return
        try:
            revocation = (await self.endpoints()).revocation
            if revocation is not None:
                response = await self._post(revocation, {"token": session.refresh_token, "token_type_hint": "refresh_token"})
                response.raise_for_status()
        except (SignInFailed, httpx.HTTPError) as error:
            log.warning("refresh_token_not_revoked", error=type(error).__name__)

    async def sign_out_url(self) -> str | None:
        """Where the provider ends the person's session there too, then sends them to this app's sign-in."""
        try:
            end_session = (await self.endpoints()).end_session
        except SignInFailed:
            return None
        if end_session is None:
            return None
        back = urljoin(self.redirect_url, "/signin")
        return _with_query(end_session, {"client_id": self.client_id, "post_logout_redirect_uri": back})

    async def _person(self, tokens: dict[str, str], attempt: SignInAttempt | None = None) -> Principal:
        """Who the access token names, once it and the ID token (when sent) are checked; `attempt` is
        the sign-in an ID token must answer, None for a refresh."""
        try:
            if "id_token" in tokens:
                identity = await provider_claims(tokens["id_token"], self.platform, self.keys, audience=self.client_id)
                _check_identity(identity, attempt, self.client_id)
            return principal_from_claims(await provider_claims(tokens["access_token"], self.platform, self.keys),
                                         self.platform)
        except AuthError as error:
            raise SignInFailed("signin.failed.token", str(error)) from None
        except KeysUnavailable:
            raise SignInFailed("signin.failed.unavailable", "the identity provider's keys cannot be fetched") from None

    async def _tokens(self, form: dict[str, str]) -> dict[str, str]:
        """The token endpoint's answer to a grant."""
        try:
            response = await self._post((await self.endpoints()).token, form)
        except httpx.HTTPError as error:
            raise SignInFailed("signin.failed.unavailable", str(error)) from None
        try:
            answer = response.json()
        except ValueError:
            raise SignInFailed("signin.failed.unavailable", f"the token endpoint answered HTTP {response.status_code}") from None
        if response.status_code != 200 or not isinstance(answer, dict):
            said = answer if isinstance(answer, dict) else {}
            detail = " ".join(str(said[name]) for name in ("error", "error_description") if said.get(name))
            raise SignInFailed("signin.failed.provider", detail or f"HTTP {response.status_code}")
        if not isinstance(answer.get("access_token"), str):
            raise SignInFailed("signin.failed.provider", "the provider's answer lacks the access token")
        if str(answer.get("token_type", "")).lower() != "bearer":
            raise SignInFailed("signin.failed.provider", f"token type {answer.get('token_type')!r} is not Bearer")
        return answer

    async def _post(self, url: str, form: dict[str, str]) -> httpx.Response:
        """A form to one of the provider's endpoints, from this client: with its secret when it has one."""
        auth = None
        if self.settings.oidc_client_secret is None:
            form = {**form, "client_id": self.client_id}
        else:  # client_secret_basic: both parts form-encoded first (RFC 6749, section 2.3.1)
            auth = httpx.BasicAuth(quote(self.client_id, safe=""),
                                   quote(self.settings.oidc_client_secret.get_secret_value(), safe=""))
        async with httpx.AsyncClient(timeout=self.platform.oidc_timeout_s) as client:
            return await client.post(url, data=form, auth=auth, headers={"Accept": "application/json"})


def provider_of(app: FastAPI) -> Provider | None:
    """The app's client of the identity provider, when it is one (WEBAPP_OIDC_CLIENT_ID); made on first use."""
    settings: WebappSettings = app.state.web.settings
    if settings.oidc_client_id is None:
        return None
    if getattr(app.state, "provider", None) is None:
        keys = signing_keys(app)
        if keys is None:
            raise RuntimeError("WEBAPP_OIDC_CLIENT_ID needs RETAIL_OIDC_ISSUER, the identity provider's issuer")
        app.state.provider = Provider(settings, app.state.platform, keys)
    return app.state.provider


def _check_identity(claims: dict[str, Any], attempt: SignInAttempt | None, client_id: str) -> None:
    """What OpenID Connect Core 1.0 (3.1.3.7) asks of an ID token beyond its signature, issuer, audience
    and expiry: that it answers this sign-in (its nonce; a refreshed one answers none, 12.2), and was issued
    to this app when it names others too."""
    nonce = claims.get("nonce")
    if attempt is not None and (not isinstance(nonce, str) or not hmac.compare_digest(nonce, attempt.nonce)):
        raise AuthError("the ID token is not for this sign-in (its nonce differs)")
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") != client_id:
        raise AuthError(f"the ID token was issued to {claims.get('azp')!r}, not to {client_id}")


def _with_query(url: str, query: dict[str, str]) -> str:
    return f"{url}{'&' if '?' in url else '?'}{urlencode(query)}"
