"""The store row as the lock that orders one store's changes (and so its events in the outbox)."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.complaints.store.models import Store


async def lock_store(session: AsyncSession, store_id: str) -> Store | None:
    """Locks the store's row until the transaction ends (PostgreSQL; SQLite locks the whole database)."""
    return (await session.execute(select(Store).where(Store.id == store_id).with_for_update())).scalar_one_or_none()
