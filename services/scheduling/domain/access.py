"""Who may do what with the staff directory and shifts, and who needs to know a staff member's
work contact channels (the person and their managers)."""

from services.shared.principal import REGION_ROLES, STORE_ROLES, Principal, Role

ADMINS = frozenset({Role.senior_manager, Role.service})
STAFF_EDITORS = ADMINS | {Role.store_manager}  # a store manager keeps the front line of their own site
SCHEDULERS = ADMINS | {Role.store_manager, Role.regional_coordinator}
READERS = frozenset(
    {Role.associate, Role.call_centre_agent, Role.coordinator, Role.store_manager, Role.regional_coordinator,
     Role.senior_manager, Role.service, Role.ops}
)
FRONT_LINE_ROLES = frozenset({Role.associate, Role.call_centre_agent, Role.coordinator})
OWN_ONLY = frozenset({Role.associate, Role.call_centre_agent})  # see their own shifts and training only


def sees_staff(who: Principal, staff_id: str, site_id: str, region_id: str) -> bool:
    """A staff member's directory entry: themselves, their site's manager, their region's coordinators,
    and the chain-wide roles."""
    if who.sub == staff_id:
        return True
    if who.role in STORE_ROLES:
        return who.role is Role.store_manager and who.store_id == site_id
    if who.role in REGION_ROLES:
        return who.region_id == region_id
    return who.role in ADMINS or who.role is Role.ops


def sees_contact(who: Principal, staff_id: str, site_id: str, region_id: str) -> bool:
    """Work contact channels are need-to-know: the person, the manager of their home site, their
    region's regional coordinator, senior managers, and services (notifications)."""
    if who.sub == staff_id or who.role in ADMINS:
        return True
    if who.role is Role.store_manager:
        return who.store_id == site_id
    return who.role is Role.regional_coordinator and who.region_id == region_id


def may_edit_staff(who: Principal, role: str, site_id: str) -> bool:
    if who.role in ADMINS:
        return True
    return who.role is Role.store_manager and who.store_id == site_id and Role(role) in FRONT_LINE_ROLES
