"""The identity provider's public signing keys (its JWKS), fetched over HTTP and kept for a while.

Providers rotate keys by publishing the new one and signing with it, so a token naming a key we do
not hold fetches the keys again at once, but at most once per `oidc_jwks_refresh_min_s`: made-up key
ids in a flood of tokens then cost the provider one request a minute, not one each. The same limit
spaces the retries while the provider is unreachable, and the keys fetched last stay in use meanwhile,
so a provider's outage does not sign everyone out."""

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx
import jwt
import structlog

from services.shared.settings import PlatformSettings

log = structlog.get_logger()
DISCOVERY_PATH = "/.well-known/openid-configuration"


class UnknownKey(Exception):
    """The provider publishes no key by the id a token names."""


class NotADocument(Exception):
    """The provider answered with something other than the document asked for."""


class KeysUnavailable(Exception):
    """The provider's keys cannot be fetched, and none were fetched before."""


class SigningKeys:
    def __init__(self, settings: PlatformSettings, clock: Callable[[], float] = time.monotonic,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        assert settings.oidc_issuer is not None, "SigningKeys needs RETAIL_OIDC_ISSUER"
        self.settings, self.clock, self.transport = settings, clock, transport
        self.keys: dict[str, jwt.PyJWK] = {}
        self.fetched_at: float | None = None  # of the keys in use
        self.tried_at: float | None = None  # the last fetch, whether it worked or not
        self.jwks_url = settings.oidc_jwks_url
        self.lock = asyncio.Lock()  # requests that find the keys stale wait for one fetch

    async def get(self, kid: str) -> jwt.PyJWK:
        """The key of that id; raises `UnknownKey`, or `KeysUnavailable` before any fetch worked."""
        expired = self.fetched_at is None or self.clock() - self.fetched_at >= self.settings.oidc_jwks_ttl_s
        if expired or kid not in self.keys:
            await self._refresh()
        if self.fetched_at is None:
            raise KeysUnavailable()
        if kid in self.keys:
            return self.keys[kid]
        raise UnknownKey(kid)

    async def _refresh(self) -> None:
        tried_at = self.tried_at
        async with self.lock:
            if self.tried_at != tried_at:
                return  # another request fetched while this one waited
            if self.tried_at is not None and self.clock() - self.tried_at < self.settings.oidc_jwks_refresh_min_s:
                return
            self.tried_at = self.clock()
            try:
                self.keys = await self._fetch()
            except (httpx.HTTPError, ValueError, NotADocument, jwt.PyJWKSetError) as error:
                log.warning("oidc_keys_unavailable", url=self.jwks_url or self.settings.oidc_issuer,
                            error=type(error).__name__, reason=str(error)[:200], keeping=len(self.keys))
                return
            self.fetched_at = self.tried_at
            log.info("oidc_keys_fetched", url=self.jwks_url, kids=sorted(self.keys))

    async def _fetch(self) -> dict[str, jwt.PyJWK]:
        async with httpx.AsyncClient(transport=self.transport, timeout=self.settings.oidc_timeout_s) as client:
            if self.jwks_url is None:
                self.jwks_url = endpoint(await discover(client, self.settings.oidc_issuer), "jwks_uri")
            response = await client.get(self.jwks_url)
            response.raise_for_status()
            document = response.json()
        if not isinstance(document, dict):
            raise NotADocument("the JWKS is not a JSON object")
        # Only signing keys with an id: a token always names its key, and an encryption key signs nothing.
        published = [key for key in document.get("keys") or [] if isinstance(key, dict) and key.get("kid")
                     and key.get("use", "sig") == "sig"]
        return {key.key_id: key for key in jwt.PyJWKSet(published).keys}


async def discover(client: httpx.AsyncClient, issuer: str) -> dict[str, Any]:
    """The issuer's discovery document, which must name the same issuer (OpenID Connect Discovery 1.0,
    section 4.3): where its keys are, and where people sign in and out."""
    response = await client.get(issuer.rstrip("/") + DISCOVERY_PATH)
    response.raise_for_status()
    document = response.json()
    if not isinstance(document, dict) or document.get("issuer") != issuer:
        raise NotADocument(f"the discovery document of {issuer} names another issuer")
    return document


def endpoint(document: dict[str, Any], name: str) -> str:
    """A URL the discovery document must give, such as its `jwks_uri`."""
    if not isinstance(url := document.get(name), str):
        raise NotADocument(f"the discovery document of {document['issuer']} has no {name}")
    return url
