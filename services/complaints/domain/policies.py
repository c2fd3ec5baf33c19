"""Return policies in versions. A store's return policy is its own, else its region's, else the
chain's, else the built-in default (version 0 of the chain); each change, by an admin or by an
accepted policy proposal, is a new version of one of them, and every return records the version it
was checked against."""

from collections.abc import Iterable
from dataclasses import replace

from services.complaints.domain.returns import ReturnPolicy
from services.shared.events.coordination import PolicyChange
from services.shared.events.returns import PolicyScope, PolicyVersion

BUILT_IN = PolicyVersion(scope=PolicyScope.chain, version=0)


def governing(store_id: str | None, region_id: str | None, newest: Iterable[PolicyVersion]) -> PolicyVersion:
    """Which of the scopes' newest versions a store's returns are checked against: its own, its
    region's, the chain's, or the built-in default."""
    candidates = [(PolicyScope.store, store_id), (PolicyScope.region, region_id), (PolicyScope.chain, None)]
    by_scope = {(version.scope, version.scope_id): version for version in newest}
    return next((by_scope[key] for key in candidates if key in by_scope), BUILT_IN)


def apply_change(policy: ReturnPolicy, change: PolicyChange) -> ReturnPolicy:
    """The policy with the change's rules set; the rules it does not name stay as they are."""
    categories = (policy.non_returnable_categories | set(change.non_returnable_categories_added)) - set(
        change.non_returnable_categories_removed
    )
    return replace(
        policy,
        return_window_days=_given(change.return_window_days, policy.return_window_days),
        receipt_required=_given(change.receipt_required, policy.receipt_required),
        receipt_exempt_below_minor=_given(change.receipt_exempt_below_minor, policy.receipt_exempt_below_minor),
        approval_amount_minor=_given(change.approval_amount_minor, policy.approval_amount_minor),
        non_returnable_categories=frozenset(categories),
        allowed_tenders=policy.allowed_tenders if change.allowed_tenders is None else frozenset(change.allowed_tenders),
    )


def _given(value, current):
    return current if value is None else value
