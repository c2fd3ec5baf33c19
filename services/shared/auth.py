"""Bearer-token authentication: tokens minted and verified, and the FastAPI dependency that checks
a caller's role and the scope of the path they ask for."""

from datetime import datetime, timedelta
from typing import Annotated

import jwt
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import ValidationError

from services.shared.principal import REGION_ROLES, STORE_ROLES, Principal, Role
from services.shared.settings import PlatformSettings

ALGORITHM = "HS256"
CLAIMS = {
    "sub": "a staff or service id such as emp-1042 (lowercase letters, digits and hyphens)",
    "role": f"one of {', '.join(Role)}",
    "region_id": "a region id such as uusimaa",
    "store_id": "a store id such as hel-kamppi",
}


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
) -> str:
    principal = _principal({"sub": sub, "role": role, "region_id": region_id, "store_id": store_id})
    claims = {
        **principal.model_dump(exclude_none=True),
        "iss": settings.auth_issuer,
        "aud": settings.auth_audience,
        "iat": now,
        "exp": now + ttl,
    }
    return jwt.encode(claims, settings.auth_signing_key.get_secret_value(), algorithm=ALGORITHM)


def verify_token(token: str, settings: PlatformSettings) -> Principal:
    try:
        algorithm = jwt.get_unverified_header(token).get("alg")
    except jwt.DecodeError:
        raise AuthError("the bearer token is not a well-formed JWT") from None
    if algorithm != ALGORITHM:
        raise AuthError(f"token algorithm {algorithm!r} is not accepted; tokens are signed with {ALGORITHM}")
    try:
        claims = jwt.decode(
            token,
            settings.auth_signing_key.get_secret_value(),
            algorithms=[ALGORITHM],
            audience=settings.auth_audience,
            issuer=settings.auth_issuer,
            leeway=settings.auth_leeway_s,
            options={"require": ["exp", "iat", "sub", "iss", "aud"]},
        )
    except jwt.ExpiredSignatureError:
        raise AuthError("the token has expired; sign in again") from None
    except jwt.InvalidSignatureError:
        raise AuthError("the token's signature is invalid") from None
    except jwt.MissingRequiredClaimError as error:
        raise AuthError(f"the token lacks the {error.claim!r} claim") from None
    except jwt.InvalidAudienceError:
        raise AuthError(f"the token is not meant for {settings.auth_audience}") from None
    except jwt.InvalidIssuerError:
        raise AuthError(f"the token was not issued by {settings.auth_issuer}") from None
    except jwt.InvalidTokenError as error:
        raise AuthError(f"the token is invalid: {error}") from None
    return _principal(claims)


def _principal(claims: dict) -> Principal:
    try:
        principal = Principal.model_validate(claims)
    except ValidationError as error:
        claim = str(error.errors()[0]["loc"][0])
        raise AuthError(f"the token's {claim} claim is not {CLAIMS[claim]}") from None
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

    def __call__(
        self, request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
    ) -> Principal:
        if credentials is None:
            raise _unauthorized("missing bearer token: send 'Authorization: Bearer <token>'")
        try:
            principal = verify_token(credentials.credentials, request.app.state.platform)
        except AuthError as error:
            raise _unauthorized(str(error)) from None
        if principal.role not in self.roles:
            allowed = ", ".join(sorted(self.roles))
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"role {principal.role} may not do this; allowed: {allowed}")
        principal.require_scope(request.path_params.get("region_id"), request.path_params.get("store_id"))
        return principal


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, message, headers={"WWW-Authenticate": "Bearer"})
