"""Returns, refunds and exchanges: checked against the store's policy and decided when requested,
or later by a store manager; and the requests in a caller's scope, such as a store manager's inbox of
those waiting for their approval."""

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.complaints.domain import returns as rules
from services.complaints.domain.returns import ReturnDecision, ReturnStatus
from services.complaints.service.policies import in_force
from services.complaints.domain.access import visible_to
from services.complaints.service.commands import DeclineReturn, RequestReturn, ReturnFilters
from services.complaints.service.context import Context, for_change, store_in_scope
from services.complaints.service.customers import customer_for
from services.complaints.store.models import Complaint, ReturnRequestRow
from services.shared.errors import InvalidField, NotFound
from services.shared.events import returns as events
from services.shared.events.envelope import Event
from services.shared.events.fields import Money, Tier
from services.shared.outbox import add_events
from services.shared.topics import RETURNS


async def request_return(
    session: AsyncSession, ctx: Context, command: RequestReturn
) -> tuple[ReturnRequestRow, dict[str, str]]:
    """The new request, decided as far as the policy and the requester allow, and why each broken
    rule applies."""
    store = await store_in_scope(session, ctx, command.store_id)
    if command.complaint_id is not None:
        linked = await session.get(Complaint, command.complaint_id)
        if linked is None or linked.store_id != store.id:
            raise InvalidField("complaint_id", f"no complaint {command.complaint_id} at store {store.id}")
    asked = command.request
    today = ctx.now.astimezone(ZoneInfo(store.timezone)).date()
    rules.check_paperwork(
        ctx.who, exception_reason=command.exception_reason, purchased_on=asked.purchased_on, today=today,
        store_id=store.id,
    )
    policy, version = await in_force(session, store.id, store.region_id)
    rules.check_currency(command.currency, policy, store.id)
    result = rules.check_return(asked, policy, today)
    customer = await customer_for(session, ctx, command.customer) if command.customer else None
    decision = rules.decide(result, ctx.who, command.exception_reason)
    request = ReturnRequestRow(
        id=uuid.uuid4(), store_id=store.id, region_id=store.region_id, complaint_id=command.complaint_id,
        customer_id=customer.id if customer else None, kind=asked.kind, tender=asked.tender,
        amount_minor=asked.amount_minor, currency=command.currency, receipt_number=asked.receipt_number,
        no_receipt_reason=asked.no_receipt_reason, product_category=asked.product_category,
        purchased_on=asked.purchased_on, status=decision.status,
        broken_rules=list(result.broken), approver=decision.approver, exception_reason=command.exception_reason,
        requested_by=ctx.who.sub, created_at=ctx.now, decided_at=ctx.now if decision.decided else None,
        policy_scope=version.scope, policy_scope_id=version.scope_id, policy_version=version.version,
    )
    session.add(request)
    requested = events.ReturnRequested(
        **_about(request), complaint_id=command.complaint_id,
        customer_ref=customer.customer_ref if customer else None, receipt_number=asked.receipt_number,
        no_receipt_reason=asked.no_receipt_reason, product_category=asked.product_category,
        days_since_purchase=(today - asked.purchased_on).days, requested_by=ctx.who.sub, at=ctx.now,
    )
    add_events(session, RETURNS, [requested, *_decided(request, ctx)], ctx.now, subject=str(request.id))
    return request, {str(rule): text for rule, text in result.details.items()}


async def approve(session: AsyncSession, ctx: Context, return_id: uuid.UUID) -> ReturnRequestRow:
    """A store manager approves a request waiting for approval of its amount."""
    request = await _for_decision(session, ctx, return_id)
    return _record(session, ctx, request, rules.approve(ReturnStatus(request.status), ctx.who.sub), None)


async def grant_exception(session: AsyncSession, ctx: Context, return_id: uuid.UUID, reason: str) -> ReturnRequestRow:
    """A store manager grants an exception, with a reason, to a rejected or pending request."""
    request = await _for_decision(session, ctx, return_id)
    broken = tuple(events.PolicyRule(rule) for rule in request.broken_rules)
    decision = rules.grant_exception(ReturnStatus(request.status), broken, ctx.who.sub)
    return _record(session, ctx, request, decision, reason)


async def decline(
    session: AsyncSession, ctx: Context, return_id: uuid.UUID, command: DeclineReturn
) -> ReturnRequestRow:
    """A store manager declines, with a reason, a request waiting for approval of its amount; the
    reason's text stays here, its category is published."""
    request = await _for_decision(session, ctx, return_id)
    decision = rules.decline(ReturnStatus(request.status), ctx.who.sub)
    request.decline_reason, request.decline_category = command.reason, command.category
    return _record(session, ctx, request, decision, None)


async def list_returns(
    session: AsyncSession, ctx: Context, filters: ReturnFilters, after: tuple[datetime, uuid.UUID] | None, limit: int
) -> tuple[list[ReturnRequestRow], bool]:
    """The requests in the caller's scope, newest first, after the (created_at, id) of the previous
    page's last one; and whether more follow."""
    ctx.who.require_scope(filters.region_id, filters.store_id)
    visible = visible_to(ctx.who)
    query = select(ReturnRequestRow)
    for column, value in (
        (ReturnRequestRow.store_id, visible.store_id), (ReturnRequestRow.region_id, visible.region_id),
        (ReturnRequestRow.store_id, filters.store_id), (ReturnRequestRow.region_id, filters.region_id),
        (ReturnRequestRow.status, filters.status),
    ):
        if value is not None:
            query = query.where(column == value)
    if after:
        created_at, last_id = after
        query = query.where(or_(
            ReturnRequestRow.created_at < created_at,
            and_(ReturnRequestRow.created_at == created_at, ReturnRequestRow.id < last_id),
        ))
    query = query.order_by(ReturnRequestRow.created_at.desc(), ReturnRequestRow.id.desc())
    rows = list((await session.execute(query.limit(limit + 1))).scalars())
    return rows[:limit], len(rows) > limit


async def load_return(session: AsyncSession, ctx: Context, return_id: uuid.UUID) -> ReturnRequestRow:
    request = await session.get(ReturnRequestRow, return_id)
    if request is None:
        raise NotFound(f"no return request {return_id}")
    ctx.who.require_scope(request.region_id, request.store_id)
    return request


async def _for_decision(session: AsyncSession, ctx: Context, return_id: uuid.UUID) -> ReturnRequestRow:
    return await for_change(session, ctx, ReturnRequestRow, return_id, f"no return request {return_id}")


def _record(
    session: AsyncSession, ctx: Context, request: ReturnRequestRow, decision: ReturnDecision, reason: str | None
) -> ReturnRequestRow:
    request.status, request.approver = decision.status, decision.approver
    request.exception_reason, request.decided_at = reason, ctx.now
    add_events(session, RETURNS, _decided(request, ctx), ctx.now, subject=str(request.id))
    return request


def _about(request: ReturnRequestRow) -> dict:
    return {
        "return_id": request.id, "store_id": request.store_id, "region_id": request.region_id,
        "kind": request.kind, "tender": request.tender,
        "amount": Money(minor_units=request.amount_minor, currency=request.currency),
    }


def _decided(request: ReturnRequestRow, ctx: Context) -> list[Event]:
    """The event announcing the request's decision; none while it waits for approval."""
    about = _about(request)
    match ReturnStatus(request.status):
        case ReturnStatus.approved:
            return [
                events.ReturnApproved(
                    **about, approver=request.approver, policy_version=policy_version_of(request), at=ctx.now
                )
            ]
        case ReturnStatus.rejected:
            return [
                events.ReturnRejected(
                    **about, rules=request.broken_rules, product_category=request.product_category,
                    policy_version=policy_version_of(request), at=ctx.now,
                )
            ]
        case ReturnStatus.exception_granted:
            return [
                events.ReturnExceptionGranted(
                    **about, rules=request.broken_rules or [events.PolicyRule.approval_amount],
                    approver=request.approver, approver_role=Tier.store_manager, requested_by=request.requested_by,
                    policy_version=policy_version_of(request), at=ctx.now,
                )
            ]
        case ReturnStatus.declined:
            return [
                events.ReturnDeclined(
                    **about, reason=request.decline_category, declined_by=request.approver,
                    requested_by=request.requested_by, policy_version=policy_version_of(request), at=ctx.now,
                )
            ]
    return []


def policy_version_of(request: ReturnRequestRow) -> events.PolicyVersion | None:
    """The policy version the request was checked against; None for one checked before versions were kept."""
    if request.policy_version is None:
        return None
    return events.PolicyVersion(
        scope=request.policy_scope, scope_id=request.policy_scope_id, version=request.policy_version
    )
