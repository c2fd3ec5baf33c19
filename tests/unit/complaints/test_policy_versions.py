"""A return policy's versions: which one holds at a store, and what an accepted change makes of one."""

import pytest
from pydantic import ValidationError

from services.complaints.domain.policies import BUILT_IN, apply_change, governing
from services.complaints.domain.returns import ReturnPolicy
from services.shared.events.coordination import PolicyChange
from services.shared.events.returns import PolicyScope, PolicyVersion, Tender

STORE = PolicyVersion(scope=PolicyScope.store, scope_id="hel-kamppi", version=3)
REGION = PolicyVersion(scope=PolicyScope.region, scope_id="uusimaa", version=2)
CHAIN = PolicyVersion(scope=PolicyScope.chain, version=5)
OTHER_REGION = PolicyVersion(scope=PolicyScope.region, scope_id="pirkanmaa", version=9)


@pytest.mark.parametrize(
    ("newest", "expected"),
    [
        ([STORE, REGION, CHAIN], STORE),
        ([REGION, CHAIN], REGION),
        ([CHAIN, OTHER_REGION], CHAIN),
        ([], BUILT_IN),
    ],
)
def test_a_stores_own_policy_holds_then_its_regions_then_the_chains_then_the_built_in_default(newest, expected):
    assert governing("hel-kamppi", "uusimaa", newest) == expected


def test_a_region_without_a_store_follows_its_own_policy_else_the_chains():
    assert governing(None, "uusimaa", [REGION, CHAIN]) == REGION
    assert governing(None, "uusimaa", [CHAIN]) == CHAIN


def test_a_change_sets_the_rules_it_names_and_keeps_the_others():
    policy = ReturnPolicy(return_window_days=14, non_returnable_categories=frozenset({"perishables", "underwear"}))
    changed = apply_change(policy, PolicyChange(
        return_window_days=30, receipt_required=False, non_returnable_categories_added=["gift-cards"],
        non_returnable_categories_removed=["underwear"], allowed_tenders=["cash", "credit"],
    ))
    assert changed == ReturnPolicy(
        return_window_days=30, receipt_required=False, approval_amount_minor=policy.approval_amount_minor,
        non_returnable_categories=frozenset({"perishables", "gift-cards"}),
        allowed_tenders=frozenset({Tender.cash, Tender.credit}), currency=policy.currency,
    )
    assert apply_change(policy, PolicyChange(approval_amount_minor=5_000)) == ReturnPolicy(
        return_window_days=14, approval_amount_minor=5_000, non_returnable_categories=policy.non_returnable_categories,
    )


@pytest.mark.parametrize("exemption", [0, 2_000])
def test_a_change_of_the_receipt_exemption_alone_sets_it(exemption):
    policy = ReturnPolicy(receipt_exempt_below_minor=500)
    assert apply_change(policy, PolicyChange(receipt_exempt_below_minor=exemption)) == ReturnPolicy(
        receipt_exempt_below_minor=exemption,
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({}, "a change names at least one rule to change"),
        ({"return_window_days": 0}, "greater than or equal to 1"),
        ({"return_window_days": 366}, "less than or equal to 365"),
        ({"approval_amount_minor": -1}, "greater than or equal to 0"),
        ({"receipt_exempt_below_minor": -1}, "greater than or equal to 0"),
        ({"receipt_exempt_below_minor": 100_001}, "less than or equal to 100000"),
        ({"allowed_tenders": []}, "at least 1 item"),
        ({"allowed_tenders": ["cash", "cash"]}, "names a tender twice"),
        ({"non_returnable_categories_added": ["tv"], "non_returnable_categories_removed": ["tv"]}, "both added and removed: tv"),
    ],
)
def test_a_change_out_of_bounds_or_naming_nothing_is_refused(change, message):
    with pytest.raises(ValidationError, match=message):
        PolicyChange.model_validate(change)
