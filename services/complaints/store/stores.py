"""The store row as the lock that orders one store's changes (and so its events in the outbox)."""

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.complaints.store.models import Store


async def lock_store(session: AsyncSession, store_id: str) -> Store | None:
    """Locks the store's row until the transaction ends (PostgreSQL; SQLite locks the whole database)."""
    return (await session.execute(select(Store).where(Store.id == store_id).with_for_update())).scalar_one_or_none()


async def lock_store_region(session: AsyncSession, store_id: str) -> str | None:
    """Locks the store's row as `lock_store` does, and answers its region (None: no such store)."""
    return (await session.execute(_LOCK_REGION, {"store_id": store_id})).scalar_one_or_none()


_LOCK_REGION = select(Store.__table__.c.region_id).where(Store.__table__.c.id == bindparam("store_id")).with_for_update()
