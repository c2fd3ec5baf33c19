"""Which roles may do what with complaints and returns, and what a caller's scope lets them see."""

from dataclasses import dataclass

from services.shared.principal import REGION_ROLES, STORE_ROLES, Principal, Role

# Who files, works and resolves complaints and requests returns; they also talk to the customer,
# so they alone see contact data, descriptions and notes.
FRONT_LINE = frozenset({Role.associate, Role.store_manager, Role.coordinator, Role.regional_coordinator})
STAFF = FRONT_LINE | {Role.senior_manager}
READERS = STAFF | {Role.ops, Role.service}
ADMINS = frozenset({Role.senior_manager, Role.service})


def sees_contact_data(who: Principal) -> bool:
    return who.role in FRONT_LINE


@dataclass(frozen=True)
class Visible:
    """The one store or region a listing is narrowed to; both None: the whole chain."""

    store_id: str | None = None
    region_id: str | None = None


def visible_to(who: Principal) -> Visible:
    if who.store_id and who.role in STORE_ROLES:
        return Visible(store_id=who.store_id)
    if who.region_id and who.role in REGION_ROLES:
        return Visible(region_id=who.region_id)
    return Visible()
