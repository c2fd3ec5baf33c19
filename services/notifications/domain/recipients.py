"""Whom a notification that names nobody reaches: someone of its tier on duty at the store, else the
region's on-duty regional coordinator, so that it always reaches a person when anyone is on duty."""

from collections.abc import Mapping, Sequence

from services.shared.events.fields import Tier

SITE_TIERS = {Tier.associate: "associates", Tier.coordinator: "coordinators", Tier.store_manager: "manager"}


def on_duty_for(tier: Tier, store_id: str, region_id: str, on_duty: Mapping) -> str | None:
    """The staff id to notify, from the scheduling service's on-duty answer for the region, or None
    when nobody fitting is on duty."""
    candidates: list[Mapping | None] = []
    site = next((site for site in on_duty["sites"] if site["site_id"] == store_id), None)
    if site is not None and tier in SITE_TIERS:
        people = site[SITE_TIERS[tier]]
        candidates += people if isinstance(people, Sequence) else [people]
    candidates += [region["regional_coordinator"] for region in on_duty["regions"] if region["region_id"] == region_id]
    return next((person["staff_id"] for person in candidates if person), None)


NEXT_TIER = {Tier.associate: Tier.coordinator, Tier.coordinator: Tier.store_manager,
             Tier.store_manager: Tier.regional_coordinator}


def next_step(step: int, tier: Tier) -> tuple[int, Tier, bool] | None:
    """What follows a page nobody acknowledged (the escalation policy of incident tools): the page is
    first sent again to the same person, then goes to the next tier's person on duty, and on up to
    the region's coordinator, where it ends. Returns the next step, its tier and whether it goes to
    the same person; None at the end."""
    if step == 0:
        return 1, tier, True
    if tier in NEXT_TIER:
        return step + 1, NEXT_TIER[tier], False
    return None
