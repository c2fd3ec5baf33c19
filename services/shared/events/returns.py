"""Topic `returns`: returns, refunds and exchanges checked against the store's policy, keyed by store_id."""

from enum import StrEnum
from typing import ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from services.shared.events.envelope import StoreEvent
from services.shared.events.fields import (
    MAX_COUNT, MAX_DAYS, CustomerRef, Money, ProductCategory, Slug, StaffId, Tier, Timestamp,
)

_RETURN = {
    "store_id": "hel-kamppi",
    "region_id": "uusimaa",
    "return_id": "4d3c2b1a-0f9e-4d8c-b7a6-5f4e3d2c1b0a",
}


class ReturnKind(StrEnum):
    return_ = "return"
    refund = "refund"
    exchange = "exchange"


class Tender(StrEnum):
    cash = "cash"
    credit = "credit"
    debit = "debit"
    gift_card = "gift_card"


class PolicyRule(StrEnum):
    """The rules of a store's return policy; a request that breaks one names it."""

    return_window = "return_window"
    receipt_required = "receipt_required"
    approval_amount = "approval_amount"
    non_returnable_category = "non_returnable_category"
    tender_not_allowed = "tender_not_allowed"


class NoReceiptReason(StrEnum):
    lost = "lost"
    gift = "gift"
    looked_up_by_card = "looked_up_by_card"
    other = "other"


class DeclineReason(StrEnum):
    """Why a store manager declined a request waiting for approval of its amount, in words that can
    be counted; the manager's own explanation stays in the complaints service."""

    item_condition = "item_condition"  # used, damaged or incomplete
    proof_of_purchase = "proof_of_purchase"  # the purchase or its price could not be confirmed
    suspected_abuse = "suspected_abuse"  # a pattern loss prevention should look at
    alternative_offered = "alternative_offered"  # an exchange, repair or store credit instead
    other = "other"


class PolicyScope(StrEnum):
    """Whose return policy: the chain's default, a region's, or a store's own (which wins, then the region's)."""

    chain = "chain"
    region = "region"
    store = "store"


class PolicyVersion(BaseModel):
    """Which version of which return policy a request was checked against; version 0 of the chain is
    the built-in default, used while no policy was ever set."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    scope: PolicyScope
    scope_id: Slug | None = Field(default=None, description="The region or store; null for the chain.")
    version: int = Field(ge=0, le=MAX_COUNT)


_POLICY_VERSION = {"scope": "region", "scope_id": "uusimaa", "version": 2}


class ReturnEvent(StoreEvent):
    return_id: UUID


class ReturnRequested(ReturnEvent):
    event_type: ClassVar[str] = "retail.return.requested.v1"
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_RETURN,
                    "kind": "refund",
                    "complaint_id": "0c6f8e1e-6a0b-4b43-9d0e-2f1f4f6f1a01",
                    "customer_ref": "cref_3f2a9c0d1b7e4e55a1c2d3e4f5a6b7c8",
                    "tender": "credit",
                    "amount": {"minor_units": 12990, "currency": "EUR"},
                    "receipt_number": None,
                    "no_receipt_reason": "gift",
                    "product_category": "small-appliances",
                    "days_since_purchase": 12,
                    "requested_by": "emp-1042",
                    "at": "2026-11-23T09:30:00Z",
                }
            ]
        }
    )

    kind: ReturnKind
    complaint_id: UUID | None = None
    customer_ref: CustomerRef | None = None
    tender: Tender
    amount: Money
    receipt_number: str | None = Field(default=None, max_length=64)
    no_receipt_reason: NoReceiptReason | None = None
    product_category: ProductCategory
    days_since_purchase: int = Field(ge=0, le=MAX_DAYS)
    requested_by: StaffId
    at: Timestamp


class ReturnApproved(ReturnEvent):
    """Accepted within the policy; `approver` is set when the amount needed a manager's approval."""

    event_type: ClassVar[str] = "retail.return.approved.v1"
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_RETURN,
                    "kind": "refund",
                    "tender": "credit",
                    "amount": {"minor_units": 12990, "currency": "EUR"},
                    "approver": None,
                    "policy_version": _POLICY_VERSION,
                    "at": "2026-11-23T09:31:00Z",
                }
            ]
        }
    )

    kind: ReturnKind
    tender: Tender
    amount: Money
    approver: StaffId | None = None
    policy_version: PolicyVersion | None = Field(default=None, description="The policy version it was checked against.")
    at: Timestamp


class ReturnRejected(ReturnEvent):
    event_type: ClassVar[str] = "retail.return.rejected.v1"
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_RETURN,
                    "kind": "return",
                    "tender": "cash",
                    "amount": {"minor_units": 4590, "currency": "EUR"},
                    "rules": ["return_window"],
                    "product_category": "small-appliances",
                    "policy_version": _POLICY_VERSION,
                    "at": "2026-11-23T09:31:00Z",
                }
            ]
        }
    )

    kind: ReturnKind
    tender: Tender
    amount: Money
    rules: list[PolicyRule] = Field(min_length=1, max_length=len(PolicyRule), description="Every policy rule the request broke.")
    product_category: ProductCategory
    policy_version: PolicyVersion | None = Field(default=None, description="The policy version whose rules it broke.")
    at: Timestamp


class ReturnExceptionGranted(ReturnEvent):
    """Accepted although it broke the named rules, with a store manager's approval and reason."""

    event_type: ClassVar[str] = "retail.return.exception_granted.v1"
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_RETURN,
                    "kind": "refund",
                    "tender": "gift_card",
                    "amount": {"minor_units": 8990, "currency": "EUR"},
                    "rules": ["return_window"],
                    "approver": "mgr-0007",
                    "approver_role": "store_manager",
                    "requested_by": "emp-1042",
                    "policy_version": _POLICY_VERSION,
                    "at": "2026-11-23T09:35:00Z",
                }
            ]
        }
    )

    kind: ReturnKind
    tender: Tender
    amount: Money
    rules: list[PolicyRule] = Field(min_length=1, max_length=len(PolicyRule))
    approver: StaffId
    approver_role: Tier
    requested_by: StaffId
    policy_version: PolicyVersion | None = Field(default=None, description="The policy version whose rules it excepts.")
    at: Timestamp


class ReturnDeclined(ReturnEvent):
    """A store manager declined a request that waited for their approval of its amount. The reason's
    text stays in the complaints service (it may name the customer); `reason` is its category."""

    event_type: ClassVar[str] = "retail.return.declined.v1"
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_RETURN,
                    "kind": "refund",
                    "tender": "cash",
                    "amount": {"minor_units": 34990, "currency": "EUR"},
                    "reason": "item_condition",
                    "declined_by": "mgr-0007",
                    "requested_by": "emp-1042",
                    "policy_version": _POLICY_VERSION,
                    "at": "2026-11-23T09:40:00Z",
                }
            ]
        }
    )

    kind: ReturnKind
    tender: Tender
    amount: Money
    reason: DeclineReason = DeclineReason.other
    declined_by: StaffId
    requested_by: StaffId
    policy_version: PolicyVersion | None = Field(
        default=None, description="The policy version whose approval amount it was over."
    )
    at: Timestamp


EVENTS = (ReturnRequested, ReturnApproved, ReturnRejected, ReturnExceptionGranted, ReturnDeclined)
