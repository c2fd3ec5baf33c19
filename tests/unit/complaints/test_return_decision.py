"""The decision on a return request, and a store manager's later approval, decline or exception, without I/O."""

from datetime import date

import pytest

from services.complaints.domain.returns import (
    ExceptionNotAllowed,
    NoExceptionInThisStatus,
    NoRuleToExcept,
    NotPendingApproval,
    NotPendingToDecline,
    PolicyResult,
    PurchasedInTheFuture,
    ReturnDecision,
    ReturnPolicy,
    ReturnStatus,
    WrongCurrency,
    approve,
    check_currency,
    check_paperwork,
    decide,
    decline,
    grant_exception,
)
from services.shared.errors import Conflict, InvalidField
from services.shared.events.returns import PolicyRule
from services.shared.principal import Principal, Role

ASSOCIATE = Principal(sub="assoc-0001", role=Role.associate, region_id="uusimaa", store_id="hel-kamppi")
MANAGER = Principal(sub="mgr-0007", role=Role.store_manager, region_id="uusimaa", store_id="hel-kamppi")
COORDINATOR = Principal(sub="coord-0002", role=Role.coordinator, region_id="uusimaa")
TODAY = date(2026, 11, 23)

ACCEPTED = PolicyResult()
OVER_AMOUNT = PolicyResult(needs_approval=True, details={PolicyRule.approval_amount: "over"})
BROKEN = PolicyResult(broken=(PolicyRule.return_window,), details={PolicyRule.return_window: "late"})
BROKEN_AND_OVER = PolicyResult(broken=(PolicyRule.return_window,), needs_approval=True)


# ---- the decision on a new request --------------------------------------------------------


@pytest.mark.parametrize("who", [ASSOCIATE, MANAGER, COORDINATOR])
def test_a_request_within_policy_is_approved_by_the_policy_alone(who):
    assert decide(ACCEPTED, who, None) == ReturnDecision(ReturnStatus.approved, approver=None)


@pytest.mark.parametrize("who", [ASSOCIATE, COORDINATOR])
def test_over_the_amount_anyone_but_a_store_manager_waits_for_approval(who):
    decision = decide(OVER_AMOUNT, who, None)
    assert decision == ReturnDecision(ReturnStatus.pending_approval, approver=None)
    assert not decision.decided


def test_over_the_amount_a_store_managers_own_request_is_approved_by_them():
    assert decide(OVER_AMOUNT, MANAGER, None) == ReturnDecision(ReturnStatus.approved, approver="mgr-0007")


@pytest.mark.parametrize("result", [BROKEN, BROKEN_AND_OVER])
@pytest.mark.parametrize("who", [ASSOCIATE, MANAGER, COORDINATOR])
def test_a_broken_rule_declines_the_request(who, result):
    decision = decide(result, who, None)
    assert decision == ReturnDecision(ReturnStatus.rejected, approver=None)
    assert decision.decided


@pytest.mark.parametrize("result", [BROKEN, BROKEN_AND_OVER])
def test_a_store_managers_exception_reason_grants_an_exception_to_broken_rules(result):
    decision = decide(result, MANAGER, "Loyal customer; the box was unopened.")
    assert decision == ReturnDecision(ReturnStatus.exception_granted, approver="mgr-0007")


@pytest.mark.parametrize("result", [ACCEPTED, OVER_AMOUNT])
def test_an_exception_reason_on_a_request_that_breaks_nothing_just_approves_it(result):
    assert decide(result, MANAGER, "no need").status is ReturnStatus.approved


# ---- what makes a request unanswerable ----------------------------------------------------


@pytest.mark.parametrize("who", [ASSOCIATE, COORDINATOR])
def test_only_a_store_manager_may_ask_for_an_exception(who):
    with pytest.raises(ExceptionNotAllowed) as refused:
        check_paperwork(who, exception_reason="please", purchased_on=TODAY, today=TODAY, store_id="hel-kamppi")
    assert isinstance(refused.value, InvalidField)
    message = "only a store manager may grant an exception"
    assert refused.value.body() == {
        "detail": [{"loc": ["body", "exception_reason"], "msg": message, "type": "value_error"}]
    }


def test_a_store_manager_may_ask_for_an_exception_and_anyone_may_ask_without_one():
    check_paperwork(MANAGER, exception_reason="please", purchased_on=TODAY, today=TODAY, store_id="hel-kamppi")
    check_paperwork(ASSOCIATE, exception_reason=None, purchased_on=TODAY, today=TODAY, store_id="hel-kamppi")


def test_a_purchase_after_the_stores_today_is_refused_and_today_is_not():
    with pytest.raises(PurchasedInTheFuture, match=r"2026-11-24 is after today \(2026-11-23\) at store hel-kamppi"):
        check_paperwork(ASSOCIATE, exception_reason=None, purchased_on=date(2026, 11, 24), today=TODAY,
                        store_id="hel-kamppi")


def test_the_exception_rule_is_checked_before_the_purchase_date():
    with pytest.raises(ExceptionNotAllowed):
        check_paperwork(ASSOCIATE, exception_reason="please", purchased_on=date(2027, 1, 1), today=TODAY,
                        store_id="hel-kamppi")


def test_an_amount_in_another_currency_than_the_policys_is_refused():
    check_currency("EUR", ReturnPolicy(currency="EUR"), "hel-kamppi")
    with pytest.raises(WrongCurrency) as refused:
        check_currency("SEK", ReturnPolicy(currency="EUR"), "hel-kamppi")
    assert refused.value.field == "amount.currency"
    assert str(refused.value) == "store hel-kamppi refunds in EUR"


# ---- a store manager's later decision -----------------------------------------------------


def test_a_pending_request_is_approved_by_the_store_manager():
    assert approve(ReturnStatus.pending_approval, "mgr-0007") == ReturnDecision(ReturnStatus.approved, "mgr-0007")


@pytest.mark.parametrize("status", [ReturnStatus.approved, ReturnStatus.rejected, ReturnStatus.exception_granted,
                                    ReturnStatus.declined])
def test_only_a_pending_request_can_be_approved(status):
    with pytest.raises(NotPendingApproval) as refused:
        approve(status, "mgr-0007")
    assert isinstance(refused.value, Conflict)
    assert refused.value.current is status
    assert refused.value.body() == {
        "detail": f"only a pending_approval request can be approved; this one is {status.value}"
    }


@pytest.mark.parametrize("status", [ReturnStatus.rejected, ReturnStatus.pending_approval])
def test_an_exception_is_granted_to_a_rejected_or_pending_request_that_breaks_a_rule(status):
    decision = grant_exception(status, (PolicyRule.return_window,), "mgr-0007")
    assert decision == ReturnDecision(ReturnStatus.exception_granted, "mgr-0007")


def test_a_rejected_request_gets_its_exception_whatever_rules_it_broke():
    assert grant_exception(ReturnStatus.rejected, (), "mgr-0007").status is ReturnStatus.exception_granted


def test_a_pending_request_is_declined_by_the_store_manager():
    assert decline(ReturnStatus.pending_approval, "mgr-0007") == ReturnDecision(ReturnStatus.declined, "mgr-0007")
    assert decline(ReturnStatus.pending_approval, "mgr-0007").decided


@pytest.mark.parametrize("status", [ReturnStatus.approved, ReturnStatus.rejected, ReturnStatus.exception_granted,
                                    ReturnStatus.declined])
def test_only_a_pending_request_can_be_declined_and_the_refusal_names_its_status(status):
    with pytest.raises(NotPendingToDecline) as refused:
        decline(status, "mgr-0007")
    assert isinstance(refused.value, Conflict)
    assert refused.value.current is status
    assert str(refused.value) == f"only a pending_approval request can be declined; this one is {status}"


@pytest.mark.parametrize("status", [ReturnStatus.approved, ReturnStatus.exception_granted, ReturnStatus.declined])
def test_a_decided_request_gets_no_exception(status):
    with pytest.raises(NoExceptionInThisStatus) as refused:
        grant_exception(status, (PolicyRule.return_window,), "mgr-0007")
    assert str(refused.value) == f"an exception is for rejected or pending requests; this one is {status}"


def test_a_pending_request_that_breaks_no_rule_is_to_be_approved_not_excepted():
    with pytest.raises(NoRuleToExcept, match="this request breaks no rule: approve it instead"):
        grant_exception(ReturnStatus.pending_approval, (), "mgr-0007")
