"""The chain's return policies in versions (`domain.policies`): the one in force at a store, an
admin's change, an accepted policy proposal's change (which the complaints worker reads from the
coordination topic), and a scope's history."""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import structlog
from sqlalchemy import exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.complaints.domain.policies import apply_change, governing
from services.complaints.domain.returns import ReturnPolicy
from services.complaints.service.context import UnknownStore
from services.complaints.store.models import CHAIN_SCOPE, Region, ReturnPolicyVersionRow, Store
from services.shared.db import insert_statement
from services.shared.errors import Conflict, InvalidField, NotFound
from services.shared.events.coordination import Decision, PolicyDecided
from services.shared.events.envelope import Envelope
from services.shared.events.returns import PolicyScope, PolicyVersion, Tender
from services.shared.intake import Effects
from services.shared.principal import Principal
from services.shared.topics import COORDINATION, Topic

TOPICS: tuple[Topic, ...] = (COORDINATION,)
ADMIN, PROPOSAL = "admin", "proposal"
WRITE_ATTEMPTS = 20  # concurrent writers of one scope each take the next number; a loser tries the one after
log = structlog.get_logger()


@dataclass(frozen=True)
class Scope:
    """The chain (no id), a region or a store."""

    kind: PolicyScope
    id: str | None = None

    @property
    def key(self) -> str:
        return self.id or CHAIN_SCOPE


CHAIN = Scope(PolicyScope.chain)


class VersionsBusy(Conflict):
    def __init__(self, scope: Scope) -> None:
        super().__init__(f"the {scope.kind} policy {scope.key} is being changed by others; try again")


def version_of(row: ReturnPolicyVersionRow) -> PolicyVersion:
    return PolicyVersion(scope=row.scope, scope_id=None if row.scope_id == CHAIN_SCOPE else row.scope_id, version=row.version)


def policy_of(row: ReturnPolicyVersionRow | None) -> ReturnPolicy:
    if row is None:
        return ReturnPolicy()
    return ReturnPolicy(
        return_window_days=row.return_window_days, receipt_required=row.receipt_required,
        receipt_exempt_below_minor=row.receipt_exempt_below_minor, approval_amount_minor=row.approval_amount_minor,
        non_returnable_categories=frozenset(row.non_returnable_categories),
        allowed_tenders=frozenset(Tender(t) for t in row.allowed_tenders), currency=row.currency,
    )


async def newest(session: AsyncSession, scope: Scope) -> ReturnPolicyVersionRow | None:
    query = (
        select(ReturnPolicyVersionRow)
        .where(ReturnPolicyVersionRow.scope == scope.kind, ReturnPolicyVersionRow.scope_id == scope.key)
        .order_by(ReturnPolicyVersionRow.version.desc()).limit(1)
    )
    return (await session.execute(query)).scalar_one_or_none()


async def in_force(
    session: AsyncSession, store_id: str | None, region_id: str | None
) -> tuple[ReturnPolicy, PolicyVersion]:
    """The policy a store's returns (or, without a store, a region's stores without their own policy)
    are checked against now, and its version."""
    rows = []
    for scope in (Scope(PolicyScope.store, store_id), Scope(PolicyScope.region, region_id), CHAIN):
        if (scope is CHAIN or scope.id) and (row := await newest(session, scope)) is not None:
            rows.append(row)
    version = governing(store_id, region_id, [version_of(row) for row in rows])
    return policy_of(next((row for row in rows if version_of(row) == version), None)), version


async def scope_in_view(session: AsyncSession, who: Principal, kind: PolicyScope, scope_id: str | None) -> Scope:
    """The chain, or a known region or store the caller may see (a store by its region too)."""
    if kind is PolicyScope.store:
        store = await session.get(Store, scope_id)
        if store is None:
            raise NotFound(f"no store {scope_id}")
        who.require_scope(store.region_id, store.id)
    elif kind is PolicyScope.region:
        if await session.get(Region, scope_id) is None:
            raise NotFound(f"no region {scope_id}")
        who.require_scope(scope_id)
    return Scope(kind, scope_id)


async def policy_in_force(session: AsyncSession, scope: Scope) -> tuple[ReturnPolicy, PolicyVersion]:
    """What the scope's returns are checked against: for a store, the store's; for a region, its
    stores' without a policy of their own; for the chain, the chain default."""
    match scope.kind:
        case PolicyScope.store:
            store = await session.get(Store, scope.id)
            return await in_force(session, scope.id, store.region_id if store else None)
        case PolicyScope.region:
            return await in_force(session, None, scope.id)
    return await in_force(session, None, None)


async def set_by_admin(session: AsyncSession, scope: Scope, policy: ReturnPolicy, who: Principal, now: datetime) -> None:
    """A new version of the scope's own policy, unless it already is that policy (so a PUT repeated
    adds nothing)."""
    if scope.kind is PolicyScope.store and await session.get(Store, scope.id) is None:
        raise UnknownStore(scope.key)
    if scope.kind is PolicyScope.region and await session.get(Region, scope.id) is None:
        raise InvalidField("region_id", f"unknown region {scope.key!r}", location="path")
    current = await newest(session, scope)
    if current is not None and policy_of(current) == policy:
        return
    await _add_version(session, scope, policy, now, source=ADMIN, changed_by=who.sub)


async def on_policy_decided(session: AsyncSession, envelope: Envelope, now: datetime) -> None:
    """An accepted proposal's change becomes a new version of its region's policy and of the own
    policy of every store in the region that has one, with the proposal as their provenance. A
    rejected proposal, or one without a change, changes nothing; so does a decision on a proposal
    already applied."""
    decided: PolicyDecided = envelope.data  # type: ignore[assignment]
    if decided.decision is not Decision.accepted or decided.change is None:
        return
    if await session.get(Region, decided.region_id) is None:  # another deployment's region, sharing the topic
        log.warning("policy decision for an unknown region skipped", event_id=str(envelope.id))
        return
    applied = exists().where(ReturnPolicyVersionRow.proposal_id == decided.proposal_id)
    if await session.scalar(select(applied)):
        return
    stores_with_own = (
        select(ReturnPolicyVersionRow.scope_id.distinct())
        .join(Store, Store.id == ReturnPolicyVersionRow.scope_id)
        .where(ReturnPolicyVersionRow.scope == PolicyScope.store, Store.region_id == decided.region_id)
        .order_by(ReturnPolicyVersionRow.scope_id)
    )
    region = Scope(PolicyScope.region, decided.region_id)
    targets = [region, *(Scope(PolicyScope.store, store_id) for store_id in (await session.scalars(stores_with_own)))]
    provenance = {
        "source": PROPOSAL, "changed_by": decided.by, "proposal_id": decided.proposal_id,
        "problem_id": decided.problem_id, "proposed_by": decided.proposed_by, "decided_at": decided.at,
        "rationale": decided.rationale or None, "change": decided.change.model_dump(mode="json", exclude_defaults=True),
    }
    for scope in targets:
        current, _ = await policy_in_force(session, scope)
        await _add_version(session, scope, apply_change(current, decided.change), now, **provenance)


async def history(session: AsyncSession, scope: Scope) -> list[ReturnPolicyVersionRow]:
    """The scope's own versions, newest first."""
    query = (
        select(ReturnPolicyVersionRow)
        .where(ReturnPolicyVersionRow.scope == scope.kind, ReturnPolicyVersionRow.scope_id == scope.key)
        .order_by(ReturnPolicyVersionRow.version.desc())
    )
    return list((await session.execute(query)).scalars())


def effects() -> Effects:
    return {PolicyDecided: (on_policy_decided,)}


async def _add_version(
    session: AsyncSession, scope: Scope, policy: ReturnPolicy, now: datetime, *, source: str, changed_by: str | None,
    proposal_id: UUID | None = None, problem_id: UUID | None = None, proposed_by: str | None = None,
    decided_at: datetime | None = None, rationale: str | None = None, change: dict | None = None,
) -> None:
    """Inserts the scope's next version. Writers of one scope at once each try the number after the
    newest they see; the database keeps one per number, so a loser sees the winner's and tries again."""
    values = {
        "scope": str(scope.kind), "scope_id": scope.key, "return_window_days": policy.return_window_days,
        "receipt_required": policy.receipt_required, "receipt_exempt_below_minor": policy.receipt_exempt_below_minor,
        "approval_amount_minor": policy.approval_amount_minor,
        "non_returnable_categories": sorted(policy.non_returnable_categories),
        "allowed_tenders": sorted(map(str, policy.allowed_tenders)), "currency": policy.currency,
        "created_at": now, "source": source, "changed_by": changed_by, "proposal_id": proposal_id,
        "problem_id": problem_id, "proposed_by": proposed_by, "decided_at": decided_at, "rationale": rationale,
        "change": change,
    }
    numbers = select(func.max(ReturnPolicyVersionRow.version)).where(
        ReturnPolicyVersionRow.scope == scope.kind, ReturnPolicyVersionRow.scope_id == scope.key
    )
    for _ in range(WRITE_ATTEMPTS):
        version = (await session.scalar(numbers) or 0) + 1
        inserted = await session.execute(
            insert_statement(session, ReturnPolicyVersionRow).values(version=version, **values)
            .on_conflict_do_nothing(index_elements=["scope", "scope_id", "version"])
        )
        if inserted.rowcount:
            return
    raise VersionsBusy(scope)
