"""Whom a notification reaches, from the scheduling service's API: the person it names, or for one
that names nobody, who is on duty (see `domain.recipients`), or everyone of a role; and their work
contact channels from the staff directory, read at each attempt and kept nowhere."""

from dataclasses import dataclass
from datetime import timedelta

import httpx

from services.notifications.domain.recipients import on_duty_for
from services.shared.auth import mint_token
from services.shared.clock import Clock, utc_now
from services.shared.delivery.channels import Channel
from services.shared.delivery.engine import NotYet
from services.shared.events.fields import Tier
from services.shared.principal import REGION_ROLES, Role
from services.shared.settings import PlatformSettings

SERVICE_ID = "svc-notifications"
TOKEN_TTL = timedelta(minutes=5)
CONTACT_FIELDS = {Channel.email: "work_email", Channel.webhook: "webhook_url", Channel.sms: "work_phone"}


@dataclass(frozen=True)
class Recipient:
    staff_id: str
    role: str
    addresses: dict[Channel, str]  # the channels the directory has for them


def service_headers(platform: PlatformSettings) -> dict[str, str]:
    """This service's bearer token for another service's API. Minted on the wall clock, which the API
    checks it against, whatever time the service's own clock says."""
    token = mint_token(platform, sub=SERVICE_ID, role=Role.service, now=utc_now(), ttl=TOKEN_TTL)
    return {"Authorization": f"Bearer {token}"}


class Directory:
    def __init__(self, client: httpx.AsyncClient, platform: PlatformSettings, clock: Clock) -> None:
        self.client, self.platform, self.clock = client, platform, clock

    async def recipient(self, staff_id: str) -> Recipient:
        entry = await self._get(f"/v1/staff/{staff_id}")
        contact = entry.get("contact") or {}
        addresses = {channel: contact[name] for channel, name in CONTACT_FIELDS.items() if contact.get(name)}
        if not addresses:
            raise NotYet("the staff member has no work contact channel in the directory")
        return Recipient(staff_id=staff_id, role=entry["role"], addresses=addresses)

    async def on_duty(self, tier: Tier, store_id: str | None, region_id: str) -> str:
        answer = await self._get("/v1/on-duty", params={"region_id": region_id, "at": self.clock().isoformat()})
        staff_id = on_duty_for(tier, store_id, region_id, answer)
        if staff_id is None:
            raise NotYet("nobody of the tier nor a regional coordinator is on duty")
        return staff_id

    async def members(self, role: Role, region_id: str) -> list[str]:
        """Everyone of the role: in the region for a region's role, in the chain otherwise."""
        params = {"region_id": region_id} if role in REGION_ROLES else None
        return [entry["staff_id"] for entry in await self._get("/v1/staff", params=params) if entry["role"] == role]

    async def _get(self, path: str, params: dict | None = None):
        response = await self.client.get(path, params=params, headers=service_headers(self.platform))
        response.raise_for_status()
        return response.json()
