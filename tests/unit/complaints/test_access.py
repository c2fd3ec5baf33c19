"""Who sees a customer's contact data, and which store or region a listing is narrowed to."""

import pytest

from services.complaints.domain.access import ADMINS, FRONT_LINE, READERS, STAFF, Visible, sees_contact_data, visible_to
from services.shared.principal import Principal, Role


@pytest.mark.parametrize("role", [Role.associate, Role.store_manager, Role.coordinator, Role.regional_coordinator])
def test_the_front_line_sees_contact_data(role):
    assert sees_contact_data(Principal(sub="s-1", role=role, region_id="uusimaa", store_id="hel-kamppi"))


@pytest.mark.parametrize("role", [Role.senior_manager, Role.ops, Role.service])
def test_nobody_else_sees_contact_data(role):
    assert not sees_contact_data(Principal(sub="s-1", role=role))


@pytest.mark.parametrize("role", [Role.associate, Role.store_manager])
def test_a_store_role_sees_its_own_store(role):
    who = Principal(sub="s-1", role=role, region_id="uusimaa", store_id="hel-kamppi")
    assert visible_to(who) == Visible(store_id="hel-kamppi")


@pytest.mark.parametrize("role", [Role.coordinator, Role.regional_coordinator])
def test_a_region_role_sees_its_own_region(role):
    assert visible_to(Principal(sub="s-1", role=role, region_id="uusimaa")) == Visible(region_id="uusimaa")


@pytest.mark.parametrize("role", [Role.senior_manager, Role.ops, Role.service])
def test_the_chains_roles_see_the_whole_chain(role):
    assert visible_to(Principal(sub="s-1", role=role, region_id="uusimaa", store_id="hel-kamppi")) == Visible()


@pytest.mark.parametrize("role", [Role.associate, Role.coordinator])
def test_a_role_without_its_store_or_region_is_not_narrowed(role):
    assert visible_to(Principal(sub="s-1", role=role)) == Visible()


def test_who_may_do_what():
    assert FRONT_LINE < STAFF < READERS
    assert READERS - STAFF == {Role.ops, Role.service}
    assert ADMINS == {Role.senior_manager, Role.service}
