"""Field types used across topics. Identifiers are slugs or UUIDs, never names or contact data."""

from enum import StrEnum
from typing import Annotated
from zoneinfo import available_timezones

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

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


class Tier(StrEnum):
    """Escalation tiers, lowest first; also the role of whoever works a complaint at that tier."""

    associate = "associate"
    coordinator = "coordinator"
    store_manager = "store_manager"
    regional_coordinator = "regional_coordinator"
    senior_manager = "senior_manager"


class Money(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    minor_units: int = Field(ge=0, description="Amount in the currency's minor units (cents).")
    currency: Currency = "EUR"
