"""The chain's regions and stores (their return policies are `service.policies`)."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.complaints.store.models import Region, Store
from services.shared.errors import InvalidField
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
