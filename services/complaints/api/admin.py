"""The chain's regions and stores (their return policies are `api.policies`), and customers' erasure requests."""

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from services.complaints.api import schemas
from services.complaints.api.deps import Sessions, Work, context_for
from services.complaints.api.views import ErasureOut, StoreOut, store_out
from services.complaints.domain.access import ADMINS, READERS
from services.complaints.service import chain
from services.complaints.service.context import Context
from services.complaints.service.erasure import erase_customer
from services.shared.auth import Authorize
from services.shared.principal import Principal

router = APIRouter(prefix="/v1", tags=["chain"], responses=schemas.ERRORS)
Admin = Annotated[Principal, Depends(Authorize(*ADMINS))]
Reader = Annotated[Principal, Depends(Authorize(*READERS))]


@router.put("/regions/{region_id}", status_code=204, summary="Create or rename a region")
async def put_region(region_id: schemas.RegionId, body: schemas.RegionIn, _: Admin, uow: Work) -> Response:
    await uow.put(lambda session: chain.put_region(session, region_id, body.name))
    return Response(status_code=204)


@router.put("/stores/{store_id}", status_code=204, summary="Create or update a store")
async def put_store(store_id: schemas.StoreId, body: schemas.StoreIn, _: Admin, uow: Work) -> Response:
    await uow.put(lambda session: chain.put_store(session, store_id, body.region_id, body.name, body.timezone))
    return Response(status_code=204)


@router.get("/stores", response_model=list[StoreOut], summary="The stores in your scope")
async def list_stores(who: Reader, sessions: Sessions) -> list[StoreOut]:
    async with sessions() as session:
        return [store_out(store) for store in await chain.stores_in_scope(session, who)]


@router.post(
    "/customers/erasure",
    response_model=ErasureOut,
    summary="Erase a customer's personal data (GDPR); statistics are kept",
)
async def erase(body: schemas.ErasureIn, ctx: Annotated[Context, context_for(*ADMINS)], uow: Work) -> ErasureOut:
    async with uow.begin() as session:
        ref, complaints = await erase_customer(session, ctx, body.command())
    return ErasureOut(customer_ref=ref, complaints=complaints, erased_at=ctx.now)
