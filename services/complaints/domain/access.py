"""Which roles may do what with complaints and returns, what a caller's scope lets them see, and
who needs to know a customer's contact."""

from dataclasses import dataclass

from services.shared.events.complaints import Channel
from services.shared.events.fields import Tier
from services.shared.principal import REGION_ROLES, STORE_ROLES, Principal, Role

# Who files, works and resolves complaints and requests returns; they read what the complaint says
# (descriptions, notes, resolution summaries).
FRONT_LINE = frozenset(
    {Role.associate, Role.call_centre_agent, Role.store_manager, Role.coordinator, Role.regional_coordinator}
)
STAFF = FRONT_LINE | {Role.senior_manager}
READERS = STAFF | {Role.ops, Role.service}
ADMINS = frozenset({Role.senior_manager, Role.service})
AUDITORS = frozenset({Role.senior_manager})  # who may see who read customers' contact data
# Who may see how a return policy changed (each within their scope): the managers of its stores, the
# region's coordinators, senior managers and services.
POLICY_HISTORY_READERS = frozenset(
    {Role.store_manager, Role.coordinator, Role.regional_coordinator, Role.senior_manager, Role.service}
)


def sees_case_text(who: Principal) -> bool:
    return who.role in FRONT_LINE


def needs_contact(who: Principal, *, store_id: str, assigned_to: str | None) -> bool:
    """Need-to-know: a customer's contact is for the staff of the site where the complaint was filed
    (`store_id`), call-centre agents, and the staff member the complaint is assigned or raised to;
    nobody else."""
    if who.role is Role.call_centre_agent:
        return True
    if who.role in STORE_ROLES and who.store_id == store_id:
        return True
    return who.role in STAFF and assigned_to is not None and who.sub == assigned_to


def channel_error(who: Principal, channel: Channel) -> str | None:
    """Why the caller may not file through `channel`: a call-centre agent takes complaints on the call
    centre's lines, for any site, so what they file came through the call centre (which the channel
    figures count)."""
    if who.role is Role.call_centre_agent and channel is not Channel.call_centre:
        return f"a call-centre agent files complaints through channel {Channel.call_centre}, not {channel}"
    return None


def tier_of(role: Role) -> Tier:
    """The tier a role works complaints at; a call-centre agent is front line, as an associate is."""
    return Tier.associate if role is Role.call_centre_agent else Tier(role)


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
