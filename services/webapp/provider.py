"""The chain's identity provider as the app's sign-in sees it (OpenID Connect, authorization code with
PKCE): its endpoints, from the issuer's discovery document; the request that sends a person there; and
the exchange of the code it sends back for their tokens. The ID token must be the provider's, for this
app and this sign-in; the access token, which the APIs verify themselves, must name a person of ours
(services.shared.auth), and becomes the session."""

import hmac
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode, urljoin

import httpx

from services.shared.auth import AuthError, principal_from_claims, provider_claims
from services.shared.jwks import (
    KeysUnavailable,
    NotADocument,
    SigningKeys,
    discover,
    endpoint,
)
from services.shared.principal import Principal
from services.shared.settings import PlatformSettings
from services.webapp.session import SignInAttempt
from services.webapp.settings import WebappSettings


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
                end_session = document.get("end_session_endpoint")
                self._endpoints = Endpoints(endpoint(document, "authorization_endpoint"), endpoint(document, "token_endpoint"),
                                            end_session if isinstance(end_session, str) else None)
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

    async def sign_in(self, code: str, attempt: SignInAttempt) -> tuple[str, Principal]:
        """The person's access token and who it names, for the code the provider sent back."""
        tokens = await self._exchange(code, attempt)
        try:
            identity = await provider_claims(tokens["id_token"], self.platform, self.keys, audience=self.client_id)
            _check_identity(identity, attempt, self.client_id)
            person = principal_from_claims(await provider_claims(tokens["access_token"], self.platform, self.keys),
                                           self.platform)
        except AuthError as error:
            raise SignInFailed("signin.failed.token", str(error)) from None
        except KeysUnavailable:
            raise SignInFailed("signin.failed.unavailable", "the identity provider's keys cannot be fetched") from None
        return tokens["access_token"], person

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

    async def _exchange(self, code: str, attempt: SignInAttempt) -> dict[str, str]:
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": self.redirect_url,
                "code_verifier": attempt.verifier}
        auth = None
        if self.settings.oidc_client_secret is None:
            form["client_id"] = self.client_id
        else:  # client_secret_basic: both parts form-encoded first (RFC 6749, section 2.3.1)
            auth = httpx.BasicAuth(quote(self.client_id, safe=""),
                                   quote(self.settings.oidc_client_secret.get_secret_value(), safe=""))
        try:
            async with httpx.AsyncClient(timeout=self.platform.oidc_timeout_s) as client:
                response = await client.post((await self.endpoints()).token, data=form, auth=auth,
                                             headers={"Accept": "application/json"})
            answer = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise SignInFailed("signin.failed.unavailable", str(error)) from None
        if response.status_code != 200 or not isinstance(answer, dict):
            said = answer if isinstance(answer, dict) else {}
            detail = " ".join(str(said[name]) for name in ("error", "error_description") if said.get(name))
            raise SignInFailed("signin.failed.provider", detail or f"HTTP {response.status_code}")
        if not all(isinstance(answer.get(name), str) for name in ("id_token", "access_token")):
            raise SignInFailed("signin.failed.provider", "the provider's answer lacks the ID token or the access token")
        if str(answer.get("token_type", "")).lower() != "bearer":
            raise SignInFailed("signin.failed.provider", f"token type {answer.get('token_type')!r} is not Bearer")
        return answer


def _check_identity(claims: dict[str, Any], attempt: SignInAttempt, client_id: str) -> None:
    """What OpenID Connect Core 1.0 (3.1.3.7) asks of an ID token beyond its signature, issuer, audience
    and expiry: that it answers this sign-in (its nonce), and was issued to this app when it names others too."""
    nonce = claims.get("nonce")
    if not isinstance(nonce, str) or not hmac.compare_digest(nonce, attempt.nonce):
        raise AuthError("the ID token is not for this sign-in (its nonce differs)")
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") != client_id:
        raise AuthError(f"the ID token was issued to {claims.get('azp')!r}, not to {client_id}")


def _with_query(url: str, query: dict[str, str]) -> str:
    return f"{url}{'&' if '?' in url else '?'}{urlencode(query)}"
