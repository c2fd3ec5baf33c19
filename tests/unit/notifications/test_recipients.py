"""A notification that names nobody reaches someone of its tier on duty at the store, else the region's
on-duty regional coordinator."""

from services.notifications.domain.recipients import on_duty_for
from services.shared.events.fields import Tier


def person(staff_id: str) -> dict:
    return {"staff_id": staff_id, "role": "x", "starts_at": "2027-03-01T06:00:00Z", "ends_at": "2027-03-01T14:00:00Z"}


def on_duty(manager=None, coordinators=(), associates=(), regional=None, site="hel-kamppi", region="uusimaa") -> dict:
    return {
        "sites": [{"site_id": site, "region_id": region, "manager": manager, "coordinators": list(coordinators),
                   "associates": list(associates)}],
        "regions": [{"region_id": region, "regional_coordinator": regional}],
    }


def test_someone_of_the_tier_on_duty_at_the_store():
    roster = on_duty(person("mgr-1"), [person("co-1")], [person("emp-1")], person("rc-1"))
    assert on_duty_for(Tier.store_manager, "hel-kamppi", "uusimaa", roster) == "mgr-1"
    assert on_duty_for(Tier.coordinator, "hel-kamppi", "uusimaa", roster) == "co-1"
    assert on_duty_for(Tier.associate, "hel-kamppi", "uusimaa", roster) == "emp-1"
    assert on_duty_for(Tier.regional_coordinator, "hel-kamppi", "uusimaa", roster) == "rc-1"


def test_the_regional_coordinator_when_nobody_of_the_tier_is_on_duty_there():
    elsewhere = on_duty(person("mgr-1"), regional=person("rc-1"))
    assert on_duty_for(Tier.store_manager, "hel-kamppi", "uusimaa", on_duty(regional=person("rc-1"))) == "rc-1"
    assert on_duty_for(Tier.senior_manager, "hel-kamppi", "uusimaa", elsewhere) == "rc-1"
    assert on_duty_for(Tier.store_manager, "esp-iso-omena", "uusimaa", elsewhere) == "rc-1"


def test_nobody_when_nobody_fitting_is_on_duty():
    assert on_duty_for(Tier.store_manager, "hel-kamppi", "uusimaa", on_duty()) is None
    assert on_duty_for(Tier.regional_coordinator, "hel-kamppi", "uusimaa", on_duty(person("mgr-1"))) is None
