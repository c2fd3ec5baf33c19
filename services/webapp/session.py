"""The signed-in person's session: a cookie the browser cannot read from scripts (HttpOnly, SameSite=Lax,
Secure behind TLS) holding their bearer token, signed with HMAC-SHA256 so that it cannot be altered;
and the CSRF token each of the app's forms carries, derived from the session, so that another site
cannot post a form as them. The token is never given to page scripts nor kept in localStorage."""

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

import orjson

COOKIE = "retail_session"


@dataclass(frozen=True)
class Session:
    token: str
    sub: str
    role: str
    store_id: str | None
    region_id: str | None
    expires_at: datetime

    def encode(self, key: bytes) -> str:
        payload = base64.urlsafe_b64encode(orjson.dumps({
            "token": self.token, "sub": self.sub, "role": self.role, "store_id": self.store_id,
            "region_id": self.region_id, "exp": int(self.expires_at.timestamp()),
        })).decode()
        return f"{payload}.{_sign(key, payload)}"

    @classmethod
    def decode(cls, cookie: str | None, key: bytes, now: datetime) -> "Session | None":
        """The session in the cookie, or None when there is none, it was altered, or it has expired."""
        if not cookie or "." not in cookie:
            return None
        payload, signature = cookie.rsplit(".", 1)
        if not hmac.compare_digest(signature, _sign(key, payload)):
            return None
        try:
            data = orjson.loads(base64.urlsafe_b64decode(payload))
            session = cls(data["token"], data["sub"], data["role"], data["store_id"], data["region_id"],
                          datetime.fromtimestamp(data["exp"], now.tzinfo))
        except (ValueError, KeyError, TypeError):
            return None
        return session if now < session.expires_at else None

    def csrf(self, key: bytes) -> str:
        return _sign(key, f"csrf:{self.sub}:{int(self.expires_at.timestamp())}")


def _sign(key: bytes, text: str) -> str:
    return base64.urlsafe_b64encode(hmac.new(key, text.encode(), hashlib.sha256).digest()).rstrip(b"=").decode()
