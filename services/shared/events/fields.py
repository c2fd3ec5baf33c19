"""Field types used across topics. Identifiers are slugs or UUIDs, never names or contact data.
Times, numbers and texts are bounded to what the platform can work with, so that a record outside
them is an invalid event (and dead-lettered) rather than work no consumer can finish, such as
deadlines or windows computed up to the year 9999."""

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated
from zoneinfo import available_timezones

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]
RegionId = Slug
StoreId = Slug
StaffId = Slug
# A keyed pseudonym made by the complaints service; only that service can link it to a person.
CustomerRef = Annotated[str, StringConstraints(pattern=r"^cref_[0-9a-f]{32}$")]
ProductCategory = Slug
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]


def _known_time_zone(name: str) -> str:
    if name not in available_timezones():
        raise ValueError(f"unknown time zone {name!r}; use an IANA name such as Europe/Helsinki")
    return name


TimeZone = Annotated[str, AfterValidator(_known_time_zone)]

EARLIEST, LATEST = datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
MAX_DAYS = (LATEST - EARLIEST).days
MAX_COUNT = 1_000_000_000
MAX_ITEMS = 1000  # the longest list an event carries, such as a region's stores or a store's roster
MAX_MINOR_UNITS = 100_000_000_000  # a billion in the currency's major units


def _in_range(moment: datetime) -> datetime:
    if not EARLIEST <= moment < LATEST:
        raise ValueError(f"must be from {EARLIEST:%Y-%m-%d} to before {LATEST:%Y-%m-%d} (UTC)")
    return moment


# Every time an event carries: with its time zone, in this century. (Texts need no such type:
# pydantic refuses a lone surrogate in any string, and each text field bounds its length.)
Timestamp = Annotated[AwareDatetime, AfterValidator(_in_range)]
Count = Annotated[int, Field(ge=0, le=MAX_COUNT)]


class Tier(StrEnum):
    """Escalation tiers, lowest first; also the role of whoever works a complaint at that tier."""

    associate = "associate"
    coordinator = "coordinator"
    store_manager = "store_manager"
    regional_coordinator = "regional_coordinator"
    senior_manager = "senior_manager"


class Money(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    minor_units: int = Field(ge=0, le=MAX_MINOR_UNITS, description="Amount in the currency's minor units (cents).")
    currency: Currency = "EUR"
