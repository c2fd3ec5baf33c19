"""Return policies: the chain default's, a region's and a store's own, each a list of versions; the
one in force, an admin's new version, and each scope's history with its provenance."""

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from services.complaints.api import schemas
from services.complaints.api.deps import Sessions, Work, context_for
from services.complaints.api.views import PolicyHistoryOut, policy_version_out
from services.complaints.domain.access import ADMINS, POLICY_HISTORY_READERS, READERS
from services.complaints.service import policies
from services.complaints.service.context import Context
from services.complaints.service.policies import CHAIN, Scope
from services.shared.auth import Authorize
from services.shared.events.returns import PolicyScope
from services.shared.principal import Principal

router = APIRouter(prefix="/v1", tags=["return policies"], responses=schemas.ERRORS)
Admin = Annotated[Context, context_for(*ADMINS)]
Reader = Annotated[Principal, Depends(Authorize(*READERS))]
HistoryReader = Annotated[Principal, Depends(Authorize(*POLICY_HISTORY_READERS))]
IN_FORCE = "The policy the scope's returns are checked against now"
SET = "A new version of the scope's own policy, unless it is that policy already; its provenance is the caller"
HISTORY = "Every version of the scope's own policy, newest first, with its rules and provenance: the admin who set it, or " \
    "the accepted policy proposal (who proposed and decided it, when, and the change)"


async def _in_force(sessions, scope: Scope) -> schemas.ReturnPolicyIO:
    async with sessions() as session:
        policy, _ = await policies.policy_in_force(session, scope)
    return schemas.ReturnPolicyIO.of(policy)


async def _set(uow, ctx: Context, scope: Scope, body: schemas.ReturnPolicyIO) -> Response:
    async with uow.begin() as session:
        await policies.set_by_admin(session, scope, body.policy(), ctx.who, ctx.now)
    return Response(status_code=204)


async def _history(sessions, who: Principal, kind: PolicyScope, scope_id: str | None) -> PolicyHistoryOut:
    async with sessions() as session:
        scope = await policies.scope_in_view(session, who, kind, scope_id)
        _, in_force = await policies.policy_in_force(session, scope)
        versions = await policies.history(session, scope)
    return PolicyHistoryOut(
        scope=kind, scope_id=scope_id, in_force=in_force, versions=[policy_version_out(row) for row in versions]
    )


@router.get("/return-policy", response_model=schemas.ReturnPolicyIO, summary="The chain's default return policy")
async def get_chain_policy(_: Reader, sessions: Sessions) -> schemas.ReturnPolicyIO:
    return await _in_force(sessions, CHAIN)


@router.put("/return-policy", status_code=204, summary="Set the chain's default return policy", description=SET)
async def put_chain_policy(body: schemas.ReturnPolicyIO, ctx: Admin, uow: Work) -> Response:
    return await _set(uow, ctx, CHAIN, body)


@router.get("/return-policy/history", response_model=PolicyHistoryOut, summary="The chain default's versions",
            description=HISTORY)
async def chain_policy_history(who: HistoryReader, sessions: Sessions) -> PolicyHistoryOut:
    return await _history(sessions, who, PolicyScope.chain, None)


@router.get("/regions/{region_id}/return-policy", response_model=schemas.ReturnPolicyIO,
            summary="A region's return policy", description=f"{IN_FORCE}: its own, else the chain's.")
async def get_region_policy(region_id: schemas.RegionId, who: Reader, sessions: Sessions) -> schemas.ReturnPolicyIO:
    async with sessions() as session:
        await policies.scope_in_view(session, who, PolicyScope.region, region_id)
    return await _in_force(sessions, Scope(PolicyScope.region, region_id))


@router.put("/regions/{region_id}/return-policy", status_code=204, summary="Set a region's own return policy",
            description=f"{SET}. It holds at the region's stores without a policy of their own.")
async def put_region_policy(region_id: schemas.RegionId, body: schemas.ReturnPolicyIO, ctx: Admin, uow: Work) -> Response:
    return await _set(uow, ctx, Scope(PolicyScope.region, region_id), body)


@router.get("/regions/{region_id}/return-policy/history", response_model=PolicyHistoryOut,
            summary="A region's return policy versions", description=HISTORY)
async def region_policy_history(region_id: schemas.RegionId, who: HistoryReader, sessions: Sessions) -> PolicyHistoryOut:
    return await _history(sessions, who, PolicyScope.region, region_id)


@router.get("/stores/{store_id}/return-policy", response_model=schemas.ReturnPolicyIO, summary="A store's return policy",
            description=f"{IN_FORCE}: its own, else its region's, else the chain's.")
async def get_store_policy(store_id: schemas.StoreId, _: Reader, sessions: Sessions) -> schemas.ReturnPolicyIO:
    return await _in_force(sessions, Scope(PolicyScope.store, store_id))


@router.put("/stores/{store_id}/return-policy", status_code=204, summary="Set a store's own return policy",
            description=SET)
async def put_store_policy(store_id: schemas.StoreId, body: schemas.ReturnPolicyIO, ctx: Admin, uow: Work) -> Response:
    return await _set(uow, ctx, Scope(PolicyScope.store, store_id), body)


@router.get("/stores/{store_id}/return-policy/history", response_model=PolicyHistoryOut,
            summary="A store's own return policy versions", description=HISTORY)
async def store_policy_history(store_id: schemas.StoreId, who: HistoryReader, sessions: Sessions) -> PolicyHistoryOut:
    return await _history(sessions, who, PolicyScope.store, store_id)
