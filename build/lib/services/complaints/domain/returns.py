"""A store's return policy and the check every return, refund or exchange request goes through."""

from dataclasses import dataclass, field
from datetime import date

from services.shared.events.returns import NoReceiptReason, PolicyRule, ReturnKind, Tender


@dataclass(frozen=True)
class ReturnPolicy:
    return_window_days: int = 30
    receipt_required: bool = True
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
    if policy.receipt_required and not request.receipt_number:
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
