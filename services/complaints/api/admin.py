"""The chain's regions, stores and return policies, and customers' erasure requests."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy import select

from services.complaints import flows
from services.complaints.api import schemas
from services.complaints.api.deps import ADMINS, READERS, context_for
from services.complaints.errors import InvalidField
from services.complaints.flows import Context
from services.complaints.store.models import Region, Store
from services.shared.auth import Authorize
from services.shared.principal import Principal

router = APIRouter(prefix="/v1", tags=["chain"], responses=schemas.ERRORS)
Admin = Annotated[Principal, Depends(Authorize(*ADMINS))]
Reader = Annotated[Principal, Depends(Authorize(*READERS))]


@router.put("/regions/{region_id}", status_code=204, summary="Create or rename a region")
async def put_region(region_id: schemas.RegionId, body: schemas.RegionIn, request: Request, _: Admin) -> Response:
    async with request.app.state.sessions() as session, session.begin():
        region = await session.get(Region, region_id) or Region(id=region_id)
        region.name = body.name
        session.add(region)
    return Response(status_code=204)


@router.put("/stores/{store_id}", status_code=204, summary="Create or update a store")
async def put_store(store_id: schemas.StoreId, body: schemas.StoreIn, request: Request, _: Admin) -> Response:
    async with request.app.state.sessions() as session, session.begin():
        if await session.get(Region, body.region_id) is None:
            raise InvalidField("region_id", f"unknown region {body.region_id!r}")
        store = await session.get(Store, store_id) or Store(id=store_id)
        store.region_id, store.name, store.timezone = body.region_id, body.name, body.timezone
        session.add(store)
    return Response(status_code=204)


@router.get("/stores", response_model=list[schemas.StoreOut], summary="The stores in your scope")
async def list_stores(request: Request, who: Reader) -> list[schemas.StoreOut]:
    async with request.app.state.sessions() as session:
        stores = (await session.execute(select(Store).order_by(Store.id))).scalars()
        return [
            schemas.StoreOut(id=store.id, region_id=store.region_id, name=store.name, timezone=store.timezone)
            for store in stores
            if who.scope_error(store.region_id, store.id) is None
        ]


@router.get("/return-policy", response_model=schemas.ReturnPolicyIO, summary="The chain's default return policy")
async def get_chain_policy(request: Request, _: Reader) -> schemas.ReturnPolicyIO:
    async with request.app.state.sessions() as session:
        return _policy_out(await flows.policy_for(session, None))


@router.put("/return-policy", status_code=204, summary="Set the chain's default return policy")
async def put_chain_policy(body: schemas.ReturnPolicyIO, request: Request, _: Admin) -> Response:
    async with request.app.state.sessions() as session, session.begin():
        await flows.set_policy(session, None, body)
    return Response(status_code=204)


@router.get("/stores/{store_id}/return-policy", response_model=schemas.ReturnPolicyIO, summary="A store's return policy")
async def get_store_policy(store_id: str, request: Request, _: Reader) -> schemas.ReturnPolicyIO:
    async with request.app.state.sessions() as session:
        return _policy_out(await flows.policy_for(session, store_id))


@router.put("/stores/{store_id}/return-policy", status_code=204, summary="Set a store's own return policy")
async def put_store_policy(store_id: str, body: schemas.ReturnPolicyIO, request: Request, _: Admin) -> Response:
    async with request.app.state.sessions() as session, session.begin():
        if await session.get(Store, store_id) is None:
            raise InvalidField("store_id", f"unknown store {store_id!r}")
        await flows.set_policy(session, store_id, body)
    return Response(status_code=204)


@router.post(
    "/customers/erasure",
    response_model=schemas.ErasureOut,
    summary="Erase a customer's personal data (GDPR); statistics are kept",
)
async def erase(body: schemas.ErasureIn, request: Request, ctx: Annotated[Context, context_for(*ADMINS)]) -> schemas.ErasureOut:
    state = request.app.state
    async with state.sessions() as session, session.begin():
        ref, complaints = await flows.erase_customer(session, ctx, body)
    state.after_commit()
    return schemas.ErasureOut(customer_ref=ref, complaints=complaints, erased_at=ctx.now)


def _policy_out(policy) -> schemas.ReturnPolicyIO:
    return schemas.ReturnPolicyIO(
        return_window_days=policy.return_window_days, receipt_required=policy.receipt_required,
        approval_amount_minor=policy.approval_amount_minor,
        non_returnable_categories=sorted(policy.non_returnable_categories),
        allowed_tenders=sorted(policy.allowed_tenders), currency=policy.currency,
    )
