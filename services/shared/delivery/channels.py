"""The channels a message goes out on, what a message is, and their settings (one block, read by each
service that delivers under its own prefix: NOTIFICATIONS_SMTP_HOST, COMPLAINTS_SMTP_HOST, …)."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol
from uuid import UUID

from pydantic import BaseModel, Field, SecretStr

# Known to everyone who reads this file: fine on a laptop, refused in production.
DEVELOPMENT_WEBHOOK_KEY = "development-only-webhook-key-do-not-use-in-production"


class Channel(StrEnum):
    email = "email"
    webhook = "webhook"  # a chat or incident tool's inbound webhook
    sms = "sms"  # through the SMS gateway's webhook


@dataclass(frozen=True)
class Message:
    subject: str
    body: str
    short: str  # what fits a text message: the gist and the link


HandingOver = Callable[[], Awaitable[None]]
"""Called once the channel is ready to take the message, just before it is handed over: after it the
message may have gone, so the delivery is recorded as in flight (see `engine`)."""


class InDoubt(Exception):  # noqa: N818 - an outcome, not an error
    """The message was handed over but the channel's answer never came (it timed out, or the connection
    dropped): the channel may well have it, so it is taken as sent, never sent again (see `engine`)."""


@dataclass(frozen=True)
class Route:
    channel: Channel
    address: str


class Sends(Protocol):
    async def send(self, delivery_id: UUID, address: str, message: Message, now: datetime, handing_over: HandingOver) -> None:
        """Returns once the channel accepted the message; anything it raises fails this channel for this attempt."""


class ChannelSettings(BaseModel):
    """The channels' settings, part of the settings of each service that delivers."""

    smtp_host: str = Field("127.0.0.1", description="The SMTP relay e-mail is delivered to.")
    smtp_port: int = Field(8025, ge=1, le=65535, description="Its port.")
    smtp_starttls: bool = Field(False, description="Upgrade the SMTP connection with STARTTLS (a real relay).")
    smtp_username: str | None = Field(None, description="SMTP user, when the relay wants one.")
    smtp_password: SecretStr | None = Field(None, description="That user's password.")
    smtp_timeout_s: float = Field(10.0, gt=0, description="How long one SMTP delivery may take.")
    sender: str = Field("notifications@retail-care.invalid", description="The From address of e-mail.")
    webhook_signing_key: SecretStr = Field(
        SecretStr(DEVELOPMENT_WEBHOOK_KEY),
        description="HMAC-SHA256 key that signs webhook and SMS-gateway requests (the receiver checks "
        "X-Retail-Care-Signature with it); production needs its own.",
    )
    webhook_private_hosts: bool = Field(
        True,
        description="Let webhook URLs lead to loopback and private addresses (a receiver on this machine or network); "
        "set false in production, where a URL from the staff directory must reach only public receivers.",
    )
    webhook_timeout_s: float = Field(5.0, gt=0, description="How long one webhook or SMS-gateway request may take.")
    sms_gateway_url: str | None = Field(
        None, description="The SMS gateway's webhook that sends text messages; unset, there is no SMS channel."
    )
    sms_gateway_token: SecretStr | None = Field(None, description="Bearer token the SMS gateway wants, if any.")
    retry_base_s: float = Field(
        2.0, gt=0, description="Wait after a delivery's first failed attempt; it doubles with each attempt (with jitter)."
    )
    retry_cap_s: float = Field(300.0, gt=0, description="The longest wait between two attempts of a delivery.")
    max_attempts: int = Field(
        12, ge=1, le=1000, description="Attempts (each over every channel the person has) before a delivery is given up."
    )
    claim_s: float = Field(
        60.0, gt=0,
        description="How long a sender's claim on a delivery lasts: a sender that died mid-delivery has its deliveries "
        "tried again after it. Keep it longer than smtp_timeout_s plus webhook_timeout_s plus a few seconds.",
    )
    send_poll_ms: int = Field(200, ge=10, description="How often the sender looks for deliveries that are due.")
    send_batch_size: int = Field(20, ge=1, le=500, description="Most deliveries one sender works on at a time.")
