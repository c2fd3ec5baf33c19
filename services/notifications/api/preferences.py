"""A person's own notification preferences: the order their work channels are tried in, and their
quiet hours, in which nothing but a page reaches them (what is held back arrives when they end)."""

from datetime import time
from typing import Annotated
from zoneinfo import available_timezones

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field, field_validator, model_validator

from services.notifications.domain.preferences import DEFAULT_CHANNELS
from services.notifications.store.models import Preference
from services.shared.auth import Authorize
from services.shared.database_app import Now, Sessions
from services.shared.db import insert_statement
from services.shared.delivery.channels import Channel
from services.shared.principal import Principal, Role

router = APIRouter(prefix="/v1/preferences", tags=["preferences"])
STAFF = (Role.associate, Role.call_centre_agent, Role.coordinator, Role.store_manager, Role.regional_coordinator,
         Role.senior_manager, Role.ops)
Person = Annotated[Principal, Depends(Authorize(*STAFF))]


class QuietHours(BaseModel):
    start: time = Field(description="Local time they begin, such as 22:00.")
    end: time = Field(description="Local time they end, such as 07:00 (the next morning when earlier than start).")

    @model_validator(mode="after")
    def _not_empty(self) -> "QuietHours":
        if self.start == self.end:
            raise ValueError("quiet hours must start and end at different times")
        return self


class Preferences(BaseModel):
    channels: list[Channel] = Field(
        list(DEFAULT_CHANNELS), min_length=1, max_length=len(Channel),
        description="Channels in the order they are tried; a channel left out is still tried last for a page.",
    )
    quiet_hours: QuietHours | None = None
    time_zone: str = Field("Europe/Helsinki", max_length=64, description="IANA time zone of the quiet hours.")

    @field_validator("channels")
    @classmethod
    def _each_once(cls, channels: list[Channel]) -> list[Channel]:
        if len(set(channels)) != len(channels):
            raise ValueError("each channel at most once")
        return channels

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, zone: str) -> str:
        if zone not in available_timezones():
            raise ValueError(f"unknown time zone {zone!r}; use an IANA name such as Europe/Helsinki")
        return zone


def _defaults(request: Request) -> Preferences:
    return Preferences(time_zone=request.app.state.settings.time_zone)


@router.get("/me", response_model=Preferences, summary="Your notification preferences")
async def mine(who: Person, sessions: Sessions, request: Request) -> Preferences:
    async with sessions() as session:
        kept = await session.get(Preference, who.sub)
    if kept is None:
        return _defaults(request)
    quiet = QuietHours(start=kept.quiet_from, end=kept.quiet_until) if kept.quiet_from is not None else None
    return Preferences(channels=kept.channels.split(","), quiet_hours=quiet, time_zone=kept.time_zone)


@router.put("/me", response_model=Preferences, summary="Set your notification preferences")
async def set_mine(body: Preferences, who: Person, sessions: Sessions, now: Now) -> Preferences:
    values = {
        "channels": ",".join(body.channels), "time_zone": body.time_zone, "updated_at": now,
        "quiet_from": body.quiet_hours.start if body.quiet_hours else None,
        "quiet_until": body.quiet_hours.end if body.quiet_hours else None,
    }
    async with sessions.begin() as session:
        # One statement, not a read then an insert: two PUTs of a person's first preferences at once
        # would both read nothing and the second insert would fail.
        upsert = insert_statement(session, Preference).values(staff_id=who.sub, **values)
        await session.execute(upsert.on_conflict_do_update(index_elements=["staff_id"], set_=values))
    return body
