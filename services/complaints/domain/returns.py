"""A store's return policy, the check every return, refund or exchange request goes through, and
the decision on it: approved, rejected, pending a store manager's approval, granted as an exception,
or declined by the store manager it waited for."""

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from services.shared.errors import Conflict, InvalidField
from services.shared.events.returns import NoReceiptReason, PolicyRule, ReturnKind, Tender
from services.shared.principal import Principal, Role

APPROVERS = frozenset({Role.store_manager})


@dataclass(frozen=True)
class ReturnPolicy:
    return_window_days: int = 30
    receipt_required: bool = True
    receipt_exempt_below_minor: int = 0  # a return of less needs no receipt even where one is required; 0: none is exempt
    approval_amount_minor: int = 20_000  # above this, a store manager approves
    non_returnable_categories: frozenset[str] = frozenset({"gift-cards", "perishables", "underwear"})
    allowed_tenders: frozenset[Tender] = frozenset(Tender)
    currency: str = "EUR"


@dataclass(frozen=True)
class ReturnRequest:
    kind: ReturnKind
    tender: Tender
    amount_minor: int
    product_category: str
    purchased_on: date
    receipt_number: str | None = None
    no_receipt_reason: NoReceiptReason | None = None


@dataclass(frozen=True)
class PolicyResult:
    """`broken` are rules that reject the request unless a store manager grants an exception;
    `needs_approval` means it is within policy but a store manager must approve the amount."""

    broken: tuple[PolicyRule, ...] = ()
    needs_approval: bool = False
    details: dict[PolicyRule, str] = field(default_factory=dict)

    @property
    def accepted(self) -> bool:
        return not self.broken and not self.needs_approval


def check_return(request: ReturnRequest, policy: ReturnPolicy, today: date) -> PolicyResult:
    details: dict[PolicyRule, str] = {}
    days = (today - request.purchased_on).days
    if days > policy.return_window_days:
        details[PolicyRule.return_window] = f"bought {days} days ago; the window is {policy.return_window_days} days"
    exempt = request.amount_minor < policy.receipt_exempt_below_minor
    if policy.receipt_required and not exempt and not request.receipt_number:
        details[PolicyRule.receipt_required] = "this store requires a receipt"
    if request.product_category in policy.non_returnable_categories:
        details[PolicyRule.non_returnable_category] = f"{request.product_category} cannot be returned"
    if request.kind is not ReturnKind.exchange and request.tender not in policy.allowed_tenders:
        allowed = ", ".join(sorted(policy.allowed_tenders))
        details[PolicyRule.tender_not_allowed] = f"refunds to {request.tender} are not allowed; allowed: {allowed}"
    needs_approval = request.amount_minor > policy.approval_amount_minor
    if needs_approval:
        details[PolicyRule.approval_amount] = (
            f"{request.amount_minor / 100:.2f} is over {policy.approval_amount_minor / 100:.2f} without a manager"
        )
    broken = tuple(rule for rule in details if rule is not PolicyRule.approval_amount)
    return PolicyResult(broken=broken, needs_approval=needs_approval, details=details)


class ReturnStatus(StrEnum):
    approved = "approved"
    rejected = "rejected"
    pending_approval = "pending_approval"
    exception_granted = "exception_granted"
    declined = "declined"


@dataclass(frozen=True)
class ReturnDecision:
    """The status a request is in after a decision, and the staff member who approved it, granted
    the exception or declined it (None when the policy alone decided)."""

    status: ReturnStatus
    approver: str | None = None

    @property
    def decided(self) -> bool:
        return self.status is not ReturnStatus.pending_approval


class ExceptionNotAllowed(InvalidField):
    def __init__(self) -> None:
        super().__init__("exception_reason", "only a store manager may grant an exception")


class PurchasedInTheFuture(InvalidField):
    def __init__(self, purchased_on: date, today: date, store_id: str) -> None:
        super().__init__("purchased_on", f"{purchased_on} is after today ({today}) at store {store_id}")


class WrongCurrency(InvalidField):
    def __init__(self, store_id: str, currency: str) -> None:
        super().__init__("amount.currency", f"store {store_id} refunds in {currency}")


def check_paperwork(
    who: Principal, *, exception_reason: str | None, purchased_on: date, today: date, store_id: str
) -> None:
    """What makes a request unanswerable before the policy is looked at: an exception asked for by
    someone who may not grant one, or a purchase dated after the store's today."""
    if exception_reason and who.role not in APPROVERS:
        raise ExceptionNotAllowed()
    if purchased_on > today:
        raise PurchasedInTheFuture(purchased_on, today, store_id)


def check_currency(currency: str, policy: ReturnPolicy, store_id: str) -> None:
    if currency != policy.currency:
        raise WrongCurrency(store_id, policy.currency)


def decide(result: PolicyResult, who: Principal, exception_reason: str | None) -> ReturnDecision:
    """The decision on a new request. A store manager's own request needs no further approval of
    the amount, and a store manager's exception reason grants an exception to the broken rules;
    anyone else's request over the amount waits for a store manager, and a broken rule declines it."""
    approves = who.role in APPROVERS
    if result.accepted or (approves and not result.broken):
        return ReturnDecision(ReturnStatus.approved, who.sub if result.needs_approval else None)
    if exception_reason:
        return ReturnDecision(ReturnStatus.exception_granted, who.sub)
    if result.broken:
        return ReturnDecision(ReturnStatus.rejected)
    return ReturnDecision(ReturnStatus.pending_approval)


class ReturnTransitionRefused(Conflict):
    """A store manager's decision the request's status does not allow."""

    def __init__(self, message: str, current: ReturnStatus) -> None:
        super().__init__(message)
        self.current = current


class NotPendingApproval(ReturnTransitionRefused):
    def __init__(self, current: ReturnStatus) -> None:
        super().__init__(f"only a pending_approval request can be approved; this one is {current}", current)


class NotPendingToDecline(ReturnTransitionRefused):
    def __init__(self, current: ReturnStatus) -> None:
        super().__init__(f"only a pending_approval request can be declined; this one is {current}", current)


class NoExceptionInThisStatus(ReturnTransitionRefused):
    def __init__(self, current: ReturnStatus) -> None:
        super().__init__(f"an exception is for rejected or pending requests; this one is {current}", current)


class NoRuleToExcept(ReturnTransitionRefused):
    def __init__(self) -> None:
        super().__init__("this request breaks no rule: approve it instead", ReturnStatus.pending_approval)


def approve(current: ReturnStatus, approver: str) -> ReturnDecision:
    """A store manager approves a request waiting for approval of its amount."""
    if current is not ReturnStatus.pending_approval:
        raise NotPendingApproval(current)
    return ReturnDecision(ReturnStatus.approved, approver)


def decline(current: ReturnStatus, decider: str) -> ReturnDecision:
    """A store manager declines a request waiting for approval of its amount (a request the policy
    rejected is declined already)."""
    if current is not ReturnStatus.pending_approval:
        raise NotPendingToDecline(current)
    return ReturnDecision(ReturnStatus.declined, decider)


def grant_exception(current: ReturnStatus, broken: tuple[PolicyRule, ...], approver: str) -> ReturnDecision:
    """A store manager overrides the broken rules of a rejected or pending request; a pending one
    that breaks no rule only needed approving."""
    if current not in {ReturnStatus.pending_approval, ReturnStatus.rejected}:
        raise NoExceptionInThisStatus(current)
    if current is ReturnStatus.pending_approval and not broken:
        raise NoRuleToExcept()
    return ReturnDecision(ReturnStatus.exception_granted, approver)
