"""The chain's regions and stores, and the return policies: the chain's default and each store's own."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.complaints.domain.returns import ReturnPolicy
from services.complaints.service.context import UnknownStore
from services.complaints.store.models import CHAIN_SCOPE, Region, ReturnPolicyRow, Store
from services.shared.db import insert_statement
from services.shared.errors import InvalidField
from services.shared.events.returns import Tender
from services.shared.principal import Principal


async def put_region(session: AsyncSession, region_id: str, name: str) -> None:
    region = await session.get(Region, region_id) or Region(id=region_id)
    region.name = name
    session.add(region)


async def put_store(session: AsyncSession, store_id: str, region_id: str, name: str, timezone: str) -> None:
    if await session.get(Region, region_id) is None:
        raise InvalidField("region_id", f"unknown region {region_id!r}")
    store = await session.get(Store, store_id) or Store(id=store_id)
    store.region_id, store.name, store.timezone = region_id, name, timezone
    session.add(store)


async def stores_in_scope(session: AsyncSession, who: Principal) -> list[Store]:
    stores = (await session.execute(select(Store).order_by(Store.id))).scalars()
    return [store for store in stores if who.scope_error(store.region_id, store.id) is None]


async def policy_for(session: AsyncSession, store_id: str | None) -> ReturnPolicy:
    """The store's own policy, else the chain default, else the built-in default."""
    scopes = [CHAIN_SCOPE] if store_id is None else [store_id, CHAIN_SCOPE]
    rows = {row.scope: row for row in (
        await session.execute(select(ReturnPolicyRow).where(ReturnPolicyRow.scope.in_(scopes)))
    ).scalars()}
    row = next((rows[scope] for scope in scopes if scope in rows), None)
    if row is None:
        return ReturnPolicy()
    return ReturnPolicy(
        return_window_days=row.return_window_days, receipt_required=row.receipt_required,
        approval_amount_minor=row.approval_amount_minor,
        non_returnable_categories=frozenset(row.non_returnable_categories),
        allowed_tenders=frozenset(Tender(t) for t in row.allowed_tenders), currency=row.currency,
    )


async def set_policy(session: AsyncSession, store_id: str | None, policy: ReturnPolicy) -> None:
    """Creates or replaces the chain's policy (no store) or a store's own, in one statement, so
    concurrent first writes leave one row."""
    if store_id is not None and await session.get(Store, store_id) is None:
        raise UnknownStore(store_id)
    values = {
        "return_window_days": policy.return_window_days, "receipt_required": policy.receipt_required,
        "approval_amount_minor": policy.approval_amount_minor,
        "non_returnable_categories": sorted(policy.non_returnable_categories),
        "allowed_tenders": sorted(map(str, policy.allowed_tenders)), "currency": policy.currency,
    }
    statement = insert_statement(session, ReturnPolicyRow).values(scope=store_id or CHAIN_SCOPE, **values)
    await session.execute(statement.on_conflict_do_update(index_elements=["scope"], set_=values))
