"""The return policy check, rule by rule, without I/O."""

from dataclasses import replace
from datetime import date, timedelta

import pytest

from services.complaints.domain.returns import PolicyResult, ReturnPolicy, ReturnRequest, check_return
from services.shared.events.returns import NoReceiptReason, PolicyRule, ReturnKind, Tender

TODAY = date(2026, 11, 23)
POLICY = ReturnPolicy(
    return_window_days=30,
    receipt_required=True,
    approval_amount_minor=20_000,
    non_returnable_categories=frozenset({"perishables", "underwear"}),
    allowed_tenders=frozenset(Tender),
    currency="EUR",
)


def request(**changes) -> ReturnRequest:
    """A refund that breaks no rule of POLICY; each test changes what it is about."""
    fine = ReturnRequest(
        kind=ReturnKind.refund,
        tender=Tender.credit,
        amount_minor=4_990,
        product_category="small-appliances",
        purchased_on=TODAY - timedelta(days=10),
        receipt_number="R-2026-118822",
    )
    return replace(fine, **changes)


def bought_days_ago(days: int) -> date:
    return TODAY - timedelta(days=days)


def check(req: ReturnRequest, policy: ReturnPolicy = POLICY) -> PolicyResult:
    return check_return(req, policy, TODAY)


def test_a_request_that_breaks_nothing_is_accepted():
    result = check(request())
    assert result == PolicyResult(broken=(), needs_approval=False, details={})
    assert result.accepted


# ---- return window ------------------------------------------------------------------------


@pytest.mark.parametrize("days", [0, 1, 29, 30])
def test_a_purchase_within_the_window_including_its_last_day_is_accepted(days):
    assert check(request(purchased_on=bought_days_ago(days))).accepted


@pytest.mark.parametrize("days", [31, 365])
def test_a_purchase_past_the_window_breaks_return_window(days):
    result = check(request(purchased_on=bought_days_ago(days)))
    assert result.broken == (PolicyRule.return_window,)
    assert not result.needs_approval
    assert not result.accepted


@pytest.mark.parametrize("window", [0, 14, 90])
def test_the_window_follows_the_policy(window):
    policy = replace(POLICY, return_window_days=window)
    assert check(request(purchased_on=bought_days_ago(window)), policy).accepted
    assert check(request(purchased_on=bought_days_ago(window + 1)), policy).broken == (PolicyRule.return_window,)


def test_the_return_window_details_name_the_days_and_the_window():
    result = check(request(purchased_on=bought_days_ago(31)))
    assert result.details == {PolicyRule.return_window: "bought 31 days ago; the window is 30 days"}


# ---- receipt ------------------------------------------------------------------------------


@pytest.mark.parametrize("reason", list(NoReceiptReason))
def test_no_receipt_breaks_receipt_required_whatever_the_reason(reason):
    result = check(request(receipt_number=None, no_receipt_reason=reason))
    assert result.broken == (PolicyRule.receipt_required,)
    assert result.details == {PolicyRule.receipt_required: "this store requires a receipt"}


def test_a_receipt_satisfies_receipt_required():
    assert check(request(receipt_number="R-1")).accepted


@pytest.mark.parametrize("receipt_number", [None, "R-1"])
def test_without_receipt_required_a_receipt_is_optional(receipt_number):
    policy = replace(POLICY, receipt_required=False)
    req = request(receipt_number=receipt_number, no_receipt_reason=None if receipt_number else NoReceiptReason.gift)
    assert check(req, policy).accepted


@pytest.mark.parametrize(("amount", "broken"), [(0, ()), (1_999, ()), (2_000, (PolicyRule.receipt_required,)),
                                                (2_001, (PolicyRule.receipt_required,))])
def test_a_return_under_the_receipt_exemption_needs_no_receipt(amount, broken):
    policy = replace(POLICY, receipt_exempt_below_minor=2_000)
    req = request(amount_minor=amount, receipt_number=None, no_receipt_reason=NoReceiptReason.lost)
    assert check(req, policy).broken == broken


def test_no_return_is_exempt_from_the_receipt_without_an_exemption():
    assert check(request(amount_minor=0, receipt_number=None, no_receipt_reason=NoReceiptReason.lost)).broken == (
        PolicyRule.receipt_required,
    )


# ---- category -----------------------------------------------------------------------------


@pytest.mark.parametrize("category", ["perishables", "underwear"])
def test_a_non_returnable_category_breaks_non_returnable_category(category):
    result = check(request(product_category=category))
    assert result.broken == (PolicyRule.non_returnable_category,)
    assert result.details == {PolicyRule.non_returnable_category: f"{category} cannot be returned"}


def test_a_category_is_returnable_unless_the_policy_lists_it():
    policy = replace(POLICY, non_returnable_categories=frozenset())
    assert check(request(product_category="perishables"), policy).accepted


# ---- tender -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [ReturnKind.return_, ReturnKind.refund])
@pytest.mark.parametrize("tender", list(Tender))
def test_a_refund_to_a_tender_the_policy_does_not_allow_breaks_tender_not_allowed(tender, kind):
    others = frozenset(Tender) - {tender}
    result = check(request(kind=kind, tender=tender), replace(POLICY, allowed_tenders=others))
    assert result.broken == (PolicyRule.tender_not_allowed,)
    allowed = ", ".join(sorted(others))
    assert result.details == {
        PolicyRule.tender_not_allowed: f"refunds to {tender} are not allowed; allowed: {allowed}"
    }


@pytest.mark.parametrize("tender", list(Tender))
def test_each_tender_is_accepted_when_the_policy_allows_it(tender):
    assert check(request(tender=tender), replace(POLICY, allowed_tenders=frozenset({tender}))).accepted


@pytest.mark.parametrize("tender", list(Tender))
def test_an_exchange_ignores_the_tender_rule(tender):
    policy = replace(POLICY, allowed_tenders=frozenset(Tender) - {tender})
    assert check(request(kind=ReturnKind.exchange, tender=tender), policy).accepted


# ---- approval amount ----------------------------------------------------------------------


@pytest.mark.parametrize("amount", [0, 19_999, 20_000])
def test_up_to_and_including_the_approval_amount_no_manager_is_needed(amount):
    assert check(request(amount_minor=amount)).accepted


@pytest.mark.parametrize("amount", [20_001, 1_000_000])
def test_over_the_approval_amount_needs_a_managers_approval_but_breaks_nothing(amount):
    result = check(request(amount_minor=amount))
    assert result.broken == ()
    assert result.needs_approval
    assert not result.accepted
    assert set(result.details) == {PolicyRule.approval_amount}


def test_the_approval_details_name_the_amount_and_the_limit():
    result = check(request(amount_minor=20_001))
    assert result.details == {PolicyRule.approval_amount: "200.01 is over 200.00 without a manager"}


def test_an_exchange_over_the_approval_amount_also_needs_approval():
    result = check(request(kind=ReturnKind.exchange, amount_minor=20_001))
    assert result.needs_approval and result.broken == ()


# ---- several rules ------------------------------------------------------------------------


def test_every_broken_rule_is_named_with_its_details():
    policy = replace(POLICY, allowed_tenders=frozenset({Tender.credit}))
    req = request(
        purchased_on=bought_days_ago(45),
        receipt_number=None,
        no_receipt_reason=NoReceiptReason.lost,
        product_category="underwear",
        tender=Tender.cash,
        amount_minor=25_000,
    )
    result = check(req, policy)
    assert set(result.broken) == {
        PolicyRule.return_window,
        PolicyRule.receipt_required,
        PolicyRule.non_returnable_category,
        PolicyRule.tender_not_allowed,
    }
    assert len(result.broken) == 4
    assert result.needs_approval
    assert result.details == {
        PolicyRule.return_window: "bought 45 days ago; the window is 30 days",
        PolicyRule.receipt_required: "this store requires a receipt",
        PolicyRule.non_returnable_category: "underwear cannot be returned",
        PolicyRule.tender_not_allowed: "refunds to cash are not allowed; allowed: credit",
        PolicyRule.approval_amount: "250.00 is over 200.00 without a manager",
    }


@pytest.mark.parametrize(
    ("changes", "rules"),
    [
        ({"purchased_on": bought_days_ago(31), "product_category": "perishables"},
         {PolicyRule.return_window, PolicyRule.non_returnable_category}),
        ({"receipt_number": None, "no_receipt_reason": NoReceiptReason.gift, "purchased_on": bought_days_ago(60)},
         {PolicyRule.receipt_required, PolicyRule.return_window}),
        ({"product_category": "underwear", "receipt_number": None, "no_receipt_reason": NoReceiptReason.other},
         {PolicyRule.non_returnable_category, PolicyRule.receipt_required}),
    ],
)
def test_two_rules_broken_at_once_are_both_named(changes, rules):
    result = check(request(**changes))
    assert set(result.broken) == rules
    assert set(result.details) == rules
    assert not result.needs_approval


def test_a_rule_broken_over_the_approval_amount_is_broken_and_needs_approval():
    result = check(request(purchased_on=bought_days_ago(31), amount_minor=20_001))
    assert result.broken == (PolicyRule.return_window,)
    assert result.needs_approval
    assert set(result.details) == {PolicyRule.return_window, PolicyRule.approval_amount}
