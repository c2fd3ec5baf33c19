"""Signed webhooks: a JSON POST whose `X-Retail-Care-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256
of "<t>.<body>">` lets the receiver check that it came from us and is fresh (the shape chat and
incident tools accept), with `X-Retail-Care-Delivery` naming the delivery so that a receiver can drop
a repeat. The SMS gateway adapter is a webhook to the gateway that names the phone number."""

import asyncio
import hashlib
import hmac
import ipaddress
from datetime import datetime, timedelta
from uuid import UUID

import httpx
import orjson

from services.shared.delivery.channels import HandingOver, InDoubt, Message

SIGNATURE = "X-Retail-Care-Signature"
DELIVERY = "X-Retail-Care-Delivery"
TOLERANCE = timedelta(minutes=5)


def signature(key: bytes, at: datetime, body: bytes) -> str:
    timestamp = int(at.timestamp())
    digest = hmac.new(key, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(key: bytes, header: str, body: bytes, now: datetime, tolerance: timedelta = TOLERANCE) -> bool:
    """What a receiver does: the signature is ours, over this body, made within `tolerance` of now."""
    try:
        parts = dict(part.split("=", 1) for part in header.split(","))
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now.timestamp() - timestamp) > tolerance.total_seconds():
        return False
    expected = hmac.new(key, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(parts.get("v1", ""), expected)


class RefusedAddress(OSError):
    """A webhook URL that leads into a private network, refused where only public receivers may be called."""


async def check_public(url: str) -> None:
    """Refuses a URL whose host is, or resolves to, a loopback, private, link-local or otherwise
    non-public address: a webhook URL comes from the staff directory, and must not make this service
    call its own network's services."""
    host = httpx.URL(url).host
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        found = await asyncio.get_running_loop().getaddrinfo(host, None)
        addresses = [ipaddress.ip_address(info[4][0]) for info in found]
    if not addresses or any(not address.is_global for address in addresses):
        raise RefusedAddress(f"webhook host {host} is not a public address")


class Webhook:
    def __init__(self, client: httpx.AsyncClient, key: bytes, public_only: bool = False) -> None:
        self.client, self.key, self.public_only = client, key, public_only

    def payload(self, delivery_id: UUID, address: str, message: Message) -> dict:
        # `text` is what chat tools (Slack, Mattermost, Teams workflows) show.
        return {"id": str(delivery_id), "subject": message.subject, "text": f"{message.subject}\n\n{message.body}"}

    def url(self, address: str) -> str:
        return address

    def headers(self) -> dict[str, str]:
        return {}

    async def send(self, delivery_id: UUID, address: str, message: Message, now: datetime, handing_over: HandingOver) -> None:
        body = orjson.dumps(self.payload(delivery_id, address, message))
        headers = {"Content-Type": "application/json", SIGNATURE: signature(self.key, now, body), DELIVERY: str(delivery_id),
                   **self.headers()}
        if self.public_only:
            await check_public(self.url(address))
        await handing_over()
        try:
            response = await self.client.post(self.url(address), content=body, headers=headers)
        except httpx.ReadTimeout as error:  # sent whole, no answer; a dropped connection may be a stale one, not sent
            raise InDoubt(type(error).__name__) from error
        response.raise_for_status()


class SmsGateway(Webhook):
    """Text messages through the gateway's webhook: the address is the phone number."""

    def __init__(self, client: httpx.AsyncClient, key: bytes, gateway_url: str, token: str | None) -> None:
        super().__init__(client, key)
        self.gateway_url, self.token = gateway_url, token

    def payload(self, delivery_id: UUID, address: str, message: Message) -> dict:
        return {"reference": str(delivery_id), "to": address.replace(" ", ""), "text": message.short}

    def url(self, address: str) -> str:
        return self.gateway_url

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}
