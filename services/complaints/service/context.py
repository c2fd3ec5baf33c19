"""Who acts and when, and the rows they act on: loaded within the caller's scope and locked in one
order everywhere (the store, then the row), so concurrent changes cannot deadlock."""

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.complaints.store.models import Store
from services.complaints.store.stores import lock_store, lock_store_region
from services.shared.errors import InvalidField, NotFound
from services.shared.principal import Principal


class UnknownStore(InvalidField):
    def __init__(self, store_id: str) -> None:
        super().__init__("store_id", f"unknown store {store_id!r}")


@dataclass(frozen=True)
class Context:
    """Who acts, when, and the keys the commands need."""

    who: Principal
    now: datetime
    ref_key: bytes
    csat_survey_days: int = 14


async def store_in_scope(session: AsyncSession, ctx: Context, store_id: str) -> Store:
    """The store, locked, when the caller may act on it."""
    store = await lock_store(session, store_id)
    if store is None:
        raise UnknownStore(store_id)
    ctx.who.require_scope(store.region_id, store.id)
    return store


async def region_in_scope(session: AsyncSession, ctx: Context, store_id: str) -> str:
    """The store's region, the store locked, when the caller may act on it (`store_in_scope` without
    loading the store)."""
    region_id = await lock_store_region(session, store_id)
    if region_id is None:
        raise UnknownStore(store_id)
    ctx.who.require_scope(region_id, store_id)
    return region_id


async def for_change(session: AsyncSession, ctx: Context, model: type, key: uuid.UUID, missing: str):
    """Loads a store's row to change it: checks the caller's scope, then locks the store and the
    row, and reloads the row."""
    found = await session.get(model, key)
    if found is None:
        raise NotFound(missing)
    ctx.who.require_scope(found.region_id, found.store_id)
    await lock_store(session, found.store_id)
    query = select(model).where(model.id == key).with_for_update().execution_options(populate_existing=True)
    return (await session.execute(query)).scalar_one()
