"""Who sees a customer's contact data (need-to-know) and what complaints say, which store or region a
listing is narrowed to, and the tier each role works at."""

import pytest

from services.complaints.domain.access import (
    ADMINS, AUDITORS, FRONT_LINE, READERS, STAFF, Visible, channel_error, needs_contact, sees_case_text, tier_of,
    visible_to,
)
from services.shared.events.complaints import Channel
from services.shared.events.fields import Tier
from services.shared.principal import Principal, Role

FILED_AT = {"store_id": "hel-kamppi"}  # in uusimaa


def staff(role: Role, sub: str = "s-1", store_id: str | None = None, region_id: str | None = "uusimaa") -> Principal:
    return Principal(sub=sub, role=role, region_id=region_id, store_id=store_id)


@pytest.mark.parametrize("role", [Role.associate, Role.store_manager])
def test_the_staff_of_the_site_where_it_was_filed_need_the_contact(role):
    assert needs_contact(staff(role, store_id="hel-kamppi"), **FILED_AT, assigned_to=None)
    assert not needs_contact(staff(role, store_id="esp-iso-omena"), **FILED_AT, assigned_to=None)


def test_call_centre_agents_need_every_contact():
    assert needs_contact(staff(Role.call_centre_agent, region_id=None), **FILED_AT, assigned_to=None)


@pytest.mark.parametrize("role", [Role.coordinator, Role.regional_coordinator, Role.senior_manager, Role.store_manager])
def test_the_person_it_is_assigned_or_raised_to_needs_the_contact(role):
    who = staff(role, sub="rc-0001", store_id="esp-iso-omena" if role is Role.store_manager else None)
    assert needs_contact(who, **FILED_AT, assigned_to="rc-0001")
    assert not needs_contact(who, **FILED_AT, assigned_to="rc-0002")
    assert not needs_contact(who, **FILED_AT, assigned_to=None)


@pytest.mark.parametrize("role", [Role.ops, Role.service])
def test_nobody_else_needs_it_even_under_an_assignees_id(role):
    assert not needs_contact(staff(role, sub="rc-0001", region_id=None), **FILED_AT, assigned_to="rc-0001")


@pytest.mark.parametrize("role", sorted(FRONT_LINE))
def test_the_front_line_reads_what_complaints_say(role):
    assert sees_case_text(staff(role))


@pytest.mark.parametrize("role", [Role.senior_manager, Role.ops, Role.service])
def test_nobody_else_reads_what_complaints_say(role):
    assert not sees_case_text(staff(role))


def test_a_call_centre_agent_works_at_the_associates_tier_and_the_others_at_their_own():
    assert tier_of(Role.call_centre_agent) is Tier.associate
    assert [tier_of(Role(tier)) for tier in Tier] == list(Tier)


@pytest.mark.parametrize("channel", sorted(set(Channel) - {Channel.call_centre}))
def test_a_call_centre_agent_files_through_the_call_centre_only(channel):
    agent = staff(Role.call_centre_agent, region_id=None)
    assert channel_error(agent, Channel.call_centre) is None
    assert channel_error(agent, channel) == f"a call-centre agent files complaints through channel call_centre, not {channel}"


@pytest.mark.parametrize("role", sorted(FRONT_LINE - {Role.call_centre_agent}))
def test_the_other_front_line_roles_file_through_any_channel(role):
    assert all(channel_error(staff(role), channel) is None for channel in Channel)


@pytest.mark.parametrize("role", [Role.associate, Role.store_manager])
def test_a_store_role_sees_its_own_store(role):
    who = Principal(sub="s-1", role=role, region_id="uusimaa", store_id="hel-kamppi")
    assert visible_to(who) == Visible(store_id="hel-kamppi")


@pytest.mark.parametrize("role", [Role.coordinator, Role.regional_coordinator])
def test_a_region_role_sees_its_own_region(role):
    assert visible_to(Principal(sub="s-1", role=role, region_id="uusimaa")) == Visible(region_id="uusimaa")


@pytest.mark.parametrize("role", [Role.call_centre_agent, Role.senior_manager, Role.ops, Role.service])
def test_the_chains_roles_see_the_whole_chain(role):
    assert visible_to(Principal(sub="s-1", role=role, region_id="uusimaa", store_id="hel-kamppi")) == Visible()


@pytest.mark.parametrize("role", [Role.associate, Role.coordinator])
def test_a_role_without_its_store_or_region_is_not_narrowed(role):
    assert visible_to(Principal(sub="s-1", role=role)) == Visible()


def test_who_may_do_what():
    assert FRONT_LINE < STAFF < READERS
    assert READERS - STAFF == {Role.ops, Role.service}
    assert ADMINS == {Role.senior_manager, Role.service}
    assert AUDITORS == {Role.senior_manager}
