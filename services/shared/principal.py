"""Who is calling: roles, and the region or store a role's scope reaches. Pure: the domain and the
service layers check scope with it; `services.shared.auth` makes one from a bearer token."""

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from services.shared.errors import OutOfScope
from services.shared.events.fields import RegionId, StaffId, StoreId


class Role(StrEnum):
    associate = "associate"
    call_centre_agent = "call_centre_agent"  # serves customers of every store, so chain-wide
    coordinator = "coordinator"
    store_manager = "store_manager"
    regional_coordinator = "regional_coordinator"
    senior_manager = "senior_manager"
    ops = "ops"
    service = "service"
    metrics = "metrics"  # a metrics scraper such as Prometheus: reads /metrics and nothing else


STORE_ROLES = frozenset({Role.associate, Role.store_manager})
REGION_ROLES = frozenset({Role.coordinator, Role.regional_coordinator})


class Principal(BaseModel):
    """Who is calling: a staff member (by id, never by name) or a service, and their scope."""

    model_config = ConfigDict(frozen=True)

    sub: StaffId  # a service's id has the same shape, such as svc-prometheus
    role: Role
    region_id: RegionId | None = None
    store_id: StoreId | None = None
    # When the bearer token it came from expires (its `exp` claim): what outlives a request, such as
    # a board stream, ends then. Never a claim of its own.
    expires_at: datetime | None = Field(None, validation_alias="exp", exclude=True)

    def scope_error(self, region_id: str | None = None, store_id: str | None = None) -> str | None:
        """Why this principal may not act on the given region or store, or None when it may."""
        if self.role in STORE_ROLES and store_id is not None and store_id != self.store_id:
            return f"role {self.role} of store {self.store_id} may not act on store {store_id}"
        if self.role in STORE_ROLES | REGION_ROLES and region_id is not None and region_id != self.region_id:
            return f"role {self.role} of region {self.region_id} may not act on region {region_id}"
        return None

    def require_scope(self, region_id: str | None = None, store_id: str | None = None) -> None:
        if reason := self.scope_error(region_id, store_id):
            raise OutOfScope(reason)
