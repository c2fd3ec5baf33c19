"""The signed-in person's session: a cookie the browser cannot read from scripts (HttpOnly, SameSite=Lax,
Secure behind TLS) holding their bearer token, and the identity provider's refresh token when it gave
one, signed with HMAC-SHA256 so that it cannot be altered; and the CSRF token each of the app's forms
carries, derived from the session, so that another site cannot post a form as them. The tokens are never
given to page scripts nor kept in localStorage.

A sign-in at the identity provider is a second, short-lived cookie of the same kind: what the app must
find again when the provider sends the person back (the state, the nonce, the PKCE verifier)."""

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import orjson

COOKIE = "retail_session"
ATTEMPT_COOKIE = "retail_signin"
ATTEMPT_PATH = "/signin"  # sent back only to the sign-in's own pages


@dataclass(frozen=True)
class Session:
    """`expires_at` is when the token expires, `ends_at` when the sign-in does: the same moment unless the
    provider gave a `refresh_token`, with which the app renews the token until then."""

    token: str
    sub: str
    role: str
    store_id: str | None
    region_id: str | None
    expires_at: datetime
    ends_at: datetime
    at_provider: bool = False  # signed in at the identity provider, so signing out ends their session there too
    refresh_token: str | None = None

    def encode(self, key: bytes) -> str:
        return _seal(key, {
            "token": self.token, "sub": self.sub, "role": self.role, "store_id": self.store_id,
            "region_id": self.region_id, "exp": int(self.expires_at.timestamp()), "end": int(self.ends_at.timestamp()),
            "idp": self.at_provider, "refresh": self.refresh_token,
        })

    @classmethod
    def decode(cls, cookie: str | None, key: bytes, now: datetime) -> "Session | None":
        """The session in the cookie, or None when there is none, it was altered, or it has ended."""
        try:
            data = _open(key, cookie)
            session = cls(data["token"], data["sub"], data["role"], data["store_id"], data["region_id"],
                          datetime.fromtimestamp(data["exp"], now.tzinfo), datetime.fromtimestamp(data["end"], now.tzinfo),
                          bool(data["idp"]), data["refresh"])
        except (ValueError, KeyError, TypeError):
            return None
        return session if now < session.ends_at else None

    def due(self, now: datetime, skew: timedelta) -> bool:
        """Whether the token is to be refreshed before it is used: it expires within `skew`, and can be."""
        return self.refresh_token is not None and now >= self.expires_at - skew

    def csrf(self, key: bytes) -> str:
        """The same for the whole sign-in: a form shown before its token was refreshed is still theirs."""
        return _sign(key, f"csrf:{self.sub}:{int(self.ends_at.timestamp())}")


@dataclass(frozen=True)
class SignInAttempt:
    """A sign-in sent to the identity provider and not yet back: `state` ties the provider's answer to
    this browser, `nonce` ties the ID token to this sign-in, `verifier` is the PKCE secret (RFC 7636)
    whose hash went with the request, so that a code taken on the way back is of no use to its taker."""

    state: str
    nonce: str
    verifier: str
    expires_at: datetime

    @classmethod
    def start(cls, now: datetime, lasting: timedelta) -> "SignInAttempt":
        return cls(secrets.token_urlsafe(32), secrets.token_urlsafe(32), secrets.token_urlsafe(48), now + lasting)

    @property
    def challenge(self) -> str:
        """The verifier's S256 code challenge."""
        return base64.urlsafe_b64encode(hashlib.sha256(self.verifier.encode()).digest()).rstrip(b"=").decode()

    def encode(self, key: bytes) -> str:
        return _seal(key, {"state": self.state, "nonce": self.nonce, "verifier": self.verifier,
                           "exp": int(self.expires_at.timestamp())}, purpose="signin:")

    @classmethod
    def decode(cls, cookie: str | None, key: bytes, now: datetime) -> "SignInAttempt | None":
        """The attempt in the cookie, or None when there is none, it was altered, or it has expired."""
        try:
            data = _open(key, cookie, purpose="signin:")
            attempt = cls(data["state"], data["nonce"], data["verifier"], datetime.fromtimestamp(data["exp"], now.tzinfo))
        except (ValueError, KeyError, TypeError):
            return None
        return attempt if now < attempt.expires_at else None


def _seal(key: bytes, data: dict, purpose: str = "") -> str:
    """`purpose` keeps one kind of cookie from being taken for another."""
    payload = base64.urlsafe_b64encode(orjson.dumps(data)).decode()
    return f"{payload}.{_sign(key, purpose + payload)}"


def _open(key: bytes, cookie: str | None, purpose: str = "") -> dict:
    if not cookie or "." not in cookie:
        raise ValueError("no cookie")
    payload, signature = cookie.rsplit(".", 1)
    if not hmac.compare_digest(signature, _sign(key, purpose + payload)):
        raise ValueError("altered")
    return orjson.loads(base64.urlsafe_b64decode(payload))


def _sign(key: bytes, text: str) -> str:
    return base64.urlsafe_b64encode(hmac.new(key, text.encode(), hashlib.sha256).digest()).rstrip(b"=").decode()
