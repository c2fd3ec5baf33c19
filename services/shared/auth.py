"""Bearer-token authentication: tokens minted and verified, and the FastAPI dependency that checks
a caller's role and the scope of the path they ask for.

Two kinds of token are known. People sign in with an OpenID Connect provider (RS256 or ES256, its keys
from its JWKS, its claims mapped by the RETAIL_OIDC_* settings). The platform signs its own tokens with
the shared key (HS256): in development for anyone, in production only for services and the metrics
scraper, or for a person when a service acts for them (an `act` claim naming it, RFC 8693), as the
notifications service does when someone acknowledges a page from its link."""

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Annotated, Any

import jwt
from fastapi import Depends, FastAPI, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import ValidationError

from services.shared.jwks import KeysUnavailable, SigningKeys, UnknownKey
from services.shared.principal import REGION_ROLES, STORE_ROLES, Principal, Role
from services.shared.settings import Environment, PlatformSettings

ALGORITHM = "HS256"
CLAIMS = {
    "sub": "a staff or service id such as emp-1042 (lowercase letters, digits and hyphens)",
    "role": f"one of {', '.join(Role)}",
    "region_id": "a region id such as uusimaa",
    "store_id": "a store id such as hel-kamppi",
}
# The roles the shared key may sign in production without an actor: the platform's own callers.
PLATFORM_ROLES = frozenset({Role.service, Role.metrics})


class AuthError(Exception):
    """A token that does not authenticate anyone; the message says why."""


def mint_token(
    settings: PlatformSettings,
    *,
    sub: str,
    role: Role,
    now: datetime,
    region_id: str | None = None,
    store_id: str | None = None,
    ttl: timedelta = timedelta(hours=8),
    actor: str | None = None,
) -> str:
    """A token signed with the shared key. `actor` is the service acting for the person `sub`: the
    only way such a token of a person's role is accepted in production."""
    principal = _principal({"sub": sub, "role": role, "region_id": region_id, "store_id": store_id})
    claims = {
        **principal.model_dump(exclude_none=True),
        "iss": settings.auth_issuer,
        "aud": settings.auth_audience,
        "iat": now,
        "exp": now + ttl,
    }
    if actor is not None:
        claims["act"] = {"sub": actor}
    return jwt.encode(claims, settings.auth_signing_key.get_secret_value(), algorithm=ALGORITHM)


def verify_token(token: str, settings: PlatformSettings) -> Principal:
    """A token signed with the shared key (HS256). Production refuses such a token for a person's
    role unless a service acts for them (see the module's docstring)."""
    return _verify_shared(token, _header(token).get("alg"), settings)


def _verify_shared(token: str, algorithm: Any, settings: PlatformSettings) -> Principal:
    """`verify_token`, given the algorithm the token's header names (read once per request)."""
    if algorithm != ALGORITHM:
        raise AuthError(f"token algorithm {algorithm!r} is not accepted; tokens are signed with {ALGORITHM}")
    claims = _decode(token, settings.auth_signing_key.get_secret_value(), ALGORITHM, settings.auth_audience,
                     settings.auth_issuer, settings.auth_leeway_s)
    principal = _principal(claims)
    if settings.env is Environment.production and principal.role not in PLATFORM_ROLES and not _actor(claims):
        raise AuthError(f"a token for role {principal.role} must come from the identity provider in production; "
                        "the shared key signs only the platform's own tokens")
    return principal


async def authenticate(token: str, settings: PlatformSettings, keys: SigningKeys | None) -> Principal:
    """The caller of a token from the identity provider (with its `keys`), or of one signed with the
    shared key. Raises `AuthError`, or `KeysUnavailable` when the provider's keys cannot be had."""
    algorithm = _header(token).get("alg")
    if algorithm == ALGORITHM or keys is None:
        return _verify_shared(token, algorithm, settings)
    if algorithm not in settings.oidc_algorithms:
        accepted = ", ".join([ALGORITHM, *settings.oidc_algorithms])
        raise AuthError(f"token algorithm {algorithm!r} is not accepted; tokens are signed with {accepted}")
    return principal_from_claims(await provider_claims(token, settings, keys), settings)


async def provider_claims(token: str, settings: PlatformSettings, keys: SigningKeys,
                          audience: str | None = None) -> dict[str, Any]:
    """The claims of a token the identity provider signed, once its signature (by a key it publishes),
    issuer, expiry and audience are checked: `audience`, else RETAIL_OIDC_AUDIENCE (a web app checks
    its ID tokens against its own client id). Raises `AuthError`, or `KeysUnavailable`."""
    header = _header(token)
    algorithm = header.get("alg")
    if algorithm not in settings.oidc_algorithms:
        accepted = ", ".join(settings.oidc_algorithms)
        raise AuthError(f"token algorithm {algorithm!r} is not accepted; the identity provider signs with {accepted}")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise AuthError("the token names no signing key (kid)")
    try:
        key = await keys.get(kid)
    except UnknownKey:
        raise AuthError("the token is signed with a key the identity provider does not publish") from None
    return _decode(token, key, algorithm, audience or settings.oidc_audience, settings.oidc_issuer, settings.oidc_leeway_s)


def principal_from_claims(claims: Mapping[str, Any], settings: PlatformSettings) -> Principal:
    """The caller an identity provider's verified claims name, read by the RETAIL_OIDC_* claim names:
    their staff id, their role (mapped by `oidc_role_map`), and the region and store their role needs."""
    role = _provider_role(_claim(claims, settings.oidc_role_claim), settings.oidc_role_claim, settings.oidc_role_map)
    region, site = settings.oidc_region_claim, settings.oidc_site_claim
    if role in STORE_ROLES and not (_claim(claims, site) and _claim(claims, region)):
        raise AuthError(f"a token for role {role} needs the {site!r} and {region!r} claims")
    if role in REGION_ROLES and not _claim(claims, region):
        raise AuthError(f"a token for role {role} needs the {region!r} claim")
    fields = {"sub": _claim(claims, settings.oidc_subject_claim), "role": role, "exp": claims.get("exp")}
    if role in STORE_ROLES | REGION_ROLES:
        fields["region_id"] = _claim(claims, region)
    if role in STORE_ROLES:
        fields["store_id"] = _claim(claims, site)
    present = {name: value for name, value in fields.items() if value is not None}
    return _principal(present, {"sub": settings.oidc_subject_claim, "region_id": region, "store_id": site})


def _provider_role(value: Any, name: str, role_map: Mapping[str, Role]) -> Role:
    """The one role a provider's role claim (one value or a list, such as groups) maps to."""
    if value is None:
        raise AuthError(f"the token lacks the {name!r} claim")
    values = value if isinstance(value, list) else [value]
    known = role_map or {role.value: role for role in Role}
    roles = {known[item] for item in values if isinstance(item, str) and item in known}
    if not roles:
        raise AuthError(f"the token's {name!r} claim names no role of this platform")
    if len(roles) > 1:
        raise AuthError(f"the token's {name!r} claim names several roles ({', '.join(sorted(roles))}); "
                        "give the person one")
    return roles.pop()


def _claim(claims: Mapping[str, Any], name: str) -> Any:
    """A claim by its name, or by a dotted path into objects (Keycloak's realm_access.roles) when no
    claim has the name itself (Auth0's namespaced claims are URLs, dots and all)."""
    if name in claims:
        return claims[name]
    value: Any = claims
    for part in name.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _actor(claims: Mapping[str, Any]) -> str | None:
    act = claims.get("act")
    return act.get("sub") if isinstance(act, Mapping) and isinstance(act.get("sub"), str) else None


def _header(token: str) -> dict[str, Any]:
    try:
        return jwt.get_unverified_header(token)
    except jwt.DecodeError:
        raise AuthError("the bearer token is not a well-formed JWT") from None


def _decode(token: str, key: Any, algorithm: str, audience: str, issuer: str, leeway: int) -> dict[str, Any]:
    try:
        return jwt.decode(
            token, key, algorithms=[algorithm], audience=audience, issuer=issuer, leeway=leeway,
            options={"require": ["exp", "iat", "iss", "aud"]},
        )
    except jwt.ExpiredSignatureError:
        raise AuthError("the token has expired; sign in again") from None
    except jwt.InvalidSignatureError:
        raise AuthError("the token's signature is invalid") from None
    except jwt.MissingRequiredClaimError as error:
        raise AuthError(f"the token lacks the {error.claim!r} claim") from None
    except jwt.InvalidAudienceError:
        raise AuthError(f"the token is not meant for {audience}") from None
    except jwt.InvalidIssuerError:
        raise AuthError(f"the token was not issued by {issuer}") from None
    except jwt.InvalidTokenError as error:
        raise AuthError(f"the token is invalid: {error}") from None


def _principal(claims: Mapping[str, Any], names: Mapping[str, str] | None = None) -> Principal:
    """`names` are the token's names of the claims, where they are not ours."""
    try:
        principal = Principal.model_validate(claims)
    except ValidationError as error:
        field = str(error.errors()[0]["loc"][0])
        claim = (names or {}).get(field, field)
        if error.errors()[0]["type"] == "missing":
            raise AuthError(f"the token lacks the {claim!r} claim") from None
        raise AuthError(f"the token's {claim} claim is not {CLAIMS[field]}") from None
    if principal.role in STORE_ROLES and not (principal.store_id and principal.region_id):
        raise AuthError(f"a token for role {principal.role} needs store_id and region_id")
    if principal.role in REGION_ROLES and not principal.region_id:
        raise AuthError(f"a token for role {principal.role} needs region_id")
    return principal


_bearer = HTTPBearer(auto_error=False)


class Authorize:
    """Dependency that authenticates the caller, checks the role, and checks the scope against
    any `region_id` / `store_id` path parameter. Routes check the scope of loaded resources
    themselves with `principal.require_scope(...)`."""

    def __init__(self, *roles: Role) -> None:
        self.roles = frozenset(roles)

    async def __call__(
        self, request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
    ) -> Principal:
        if credentials is None:
            raise _unauthorized("missing bearer token: send 'Authorization: Bearer <token>'")
        try:
            principal = await authenticate(credentials.credentials, request.app.state.platform, signing_keys(request.app))
        except AuthError as error:
            raise _unauthorized(str(error)) from None
        except KeysUnavailable:
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE,
                                "sign-in is unavailable: the identity provider's keys cannot be fetched") from None
        if principal.role not in self.roles:
            allowed = ", ".join(sorted(self.roles))
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"role {principal.role} may not do this; allowed: {allowed}")
        principal.require_scope(request.path_params.get("region_id"), request.path_params.get("store_id"))
        return principal


def signing_keys(app: FastAPI) -> SigningKeys | None:
    """The app's cache of its identity provider's keys (None without a provider), made on first use
    unless the app was given one as `app.state.signing_keys`."""
    platform: PlatformSettings = app.state.platform
    if platform.oidc_issuer is None:
        return None
    if getattr(app.state, "signing_keys", None) is None:
        app.state.signing_keys = SigningKeys(platform)
    return app.state.signing_keys


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, message, headers={"WWW-Authenticate": "Bearer"})
