"""Whom a notification reaches, from the scheduling service's API: the person it names, or for one
that names nobody, who is on duty (see `domain.recipients`); and their work e-mail from the staff
directory, read at each attempt and kept nowhere."""

from dataclasses import dataclass
from datetime import timedelta

import httpx

from services.notifications.domain.recipients import on_duty_for
from services.shared.auth import mint_token
from services.shared.clock import Clock
from services.shared.events.fields import Tier
from services.shared.principal import Role
from services.shared.settings import PlatformSettings

SERVICE_ID = "svc-notifications"
TOKEN_TTL = timedelta(minutes=5)


@dataclass(frozen=True)
class Recipient:
    staff_id: str
    role: str
    email: str


class NoRecipient(Exception):
    """Nobody to deliver to yet (nobody on duty, no work e-mail): the delivery is tried again later."""


class Directory:
    def __init__(self, client: httpx.AsyncClient, platform: PlatformSettings, clock: Clock) -> None:
        self.client, self.platform, self.clock = client, platform, clock

    async def recipient(self, staff_id: str | None, tier: Tier, store_id: str, region_id: str) -> Recipient:
        if staff_id is None:
            staff_id = await self.on_duty(tier, store_id, region_id)
        entry = await self._get(f"/v1/staff/{staff_id}")
        email = (entry.get("contact") or {}).get("work_email")
        if not email:
            raise NoRecipient("the staff member has no work e-mail in the directory")
        return Recipient(staff_id=staff_id, role=entry["role"], email=email)

    async def on_duty(self, tier: Tier, store_id: str, region_id: str) -> str:
        answer = await self._get("/v1/on-duty", params={"region_id": region_id, "at": self.clock().isoformat()})
        staff_id = on_duty_for(tier, store_id, region_id, answer)
        if staff_id is None:
            raise NoRecipient("nobody of the tier nor a regional coordinator is on duty")
        return staff_id

    async def _get(self, path: str, params: dict | None = None) -> dict:
        token = mint_token(self.platform, sub=SERVICE_ID, role=Role.service, now=self.clock(), ttl=TOKEN_TTL)
        response = await self.client.get(path, params=params, headers={"Authorization": f"Bearer {token}"})
        response.raise_for_status()
        return response.json()
