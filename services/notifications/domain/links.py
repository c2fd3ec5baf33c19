"""Acknowledge links: a delivery's id and the link's expiry, signed with HMAC-SHA256. Verifying one
says which delivery it acknowledges, or why it is refused; that a link is used only once is the
store's business (`Delivery.acknowledged_at`)."""

import base64
import hashlib
import hmac
from datetime import UTC, datetime
from uuid import UUID


class LinkRefused(Exception):
    """An acknowledge link that acknowledges nothing; the message says why, for the person who opened it."""

    status = 400


class MalformedLink(LinkRefused):
    def __init__(self) -> None:
        super().__init__("this acknowledge link is incomplete or damaged; open the link from the message again")


class ForgedLink(LinkRefused):
    status = 403

    def __init__(self) -> None:
        super().__init__("this acknowledge link was not issued by the notifications service")


class ExpiredLink(LinkRefused):
    status = 410

    def __init__(self, expired_at: datetime) -> None:
        super().__init__(f"this acknowledge link expired at {expired_at.isoformat()}; acknowledge in the complaints app")


def sign(delivery_id: UUID, expires_at: datetime, key: bytes) -> str:
    """The link's token: `<delivery id>.<expiry, Unix seconds>.<signature>`."""
    payload = f"{delivery_id}.{int(expires_at.timestamp())}"
    return f"{payload}.{_signature(payload, key)}"


def verify(token: str, key: bytes, now: datetime) -> UUID:
    """The delivery the token acknowledges; raises a `LinkRefused` naming what is wrong with it."""
    parts = token.split(".")
    if len(parts) != 3:
        raise MalformedLink()
    delivery_id, expires, signature = parts
    # The signature is checked before anything it covers is believed (in constant time).
    if not hmac.compare_digest(signature, _signature(f"{delivery_id}.{expires}", key)):
        raise ForgedLink()
    try:
        delivery, expires_at = UUID(delivery_id), datetime.fromtimestamp(int(expires), UTC)
    except ValueError:
        raise MalformedLink() from None
    if now >= expires_at:
        raise ExpiredLink(expires_at)
    return delivery


def _signature(payload: str, key: bytes) -> str:
    digest = hmac.new(key, payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
