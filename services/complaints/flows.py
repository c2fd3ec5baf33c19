"""What the API does: each flow checks scope and rules, changes the store, and writes the events
of the change to the outbox, all inside the caller's transaction."""

import base64
import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from services.complaints.api import schemas
from services.complaints.customers import customer_ref
from services.complaints.domain.lifecycle import Action, Status, transition
from services.complaints.domain.returns import ReturnPolicy, ReturnRequest, check_return
from services.complaints.errors import Conflict, Gone, InvalidField, NotFound
from services.complaints.store.models import (
    CHAIN_SCOPE, Complaint, CsatSurvey, Customer, Note, ReturnPolicyRow, ReturnRequestRow, Store,
)
from services.complaints.store.outbox import add_events, lock_store
from services.shared.principal import Principal, Role
from services.shared.events import complaints as events
from services.shared.events import returns as return_events
from services.shared.events.fields import Money, Tier
from services.shared.topics import COMPLAINTS, RETURNS

CONTACT_ROLES = frozenset({Role.associate, Role.store_manager, Role.coordinator, Role.regional_coordinator})


@dataclass(frozen=True)
class Context:
    """Who acts, when, and the keys the flows need."""

    who: Principal
    now: datetime
    ref_key: bytes
    csat_survey_days: int = 14

    @property
    def sees_contact_data(self) -> bool:
        return self.who.role in CONTACT_ROLES


# ---- complaints ---------------------------------------------------------------------------


async def _store_in_scope(session: AsyncSession, ctx: Context, store_id: str) -> Store:
    store = await lock_store(session, store_id)
    if store is None:
        raise InvalidField("store_id", f"unknown store {store_id!r}")
    ctx.who.require_scope(store.region_id, store.id)
    return store


async def _customer(session: AsyncSession, ctx: Context, contact: schemas.Contact) -> Customer:
    """Finds or creates the customer; one statement, so the same customer filing at two stores at
    once (two transactions that lock different stores) cannot create them twice."""
    ref = customer_ref(ctx.ref_key, contact.email, contact.phone)
    await session.execute(
        _insert(session, Customer).values(id=uuid.uuid4(), customer_ref=ref).on_conflict_do_nothing(
            index_elements=["customer_ref"]
        )
    )
    customer = (
        await session.execute(select(Customer).where(Customer.customer_ref == ref).with_for_update())
    ).scalar_one()
    customer.name = contact.name or customer.name
    customer.email = contact.email or customer.email
    customer.phone = contact.phone or customer.phone
    customer.erased_at = None
    return customer


async def file_complaint(session: AsyncSession, ctx: Context, body: schemas.NewComplaint) -> Complaint:
    store = await _store_in_scope(session, ctx, body.store_id)
    customer = await _customer(session, ctx, body.customer)
    prior = (
        await session.execute(
            select(func.count()).select_from(Complaint).where(
                Complaint.customer_id == customer.id, Complaint.created_at >= ctx.now - timedelta(days=30)
            )
        )
    ).scalar_one()
    complaint = Complaint(
        id=uuid.uuid4(), store_id=store.id, region_id=store.region_id, customer=customer, notes=[],
        channel=body.channel, category=body.category, severity=body.severity, mood=body.mood,
        description=body.description, receipt_ref=body.receipt_ref, product_category=body.product_category,
        amount_minor=body.amount.minor_units if body.amount else None,
        currency=body.amount.currency if body.amount else None, staff_involved=body.staff_involved,
        status=Status.open, filed_by=ctx.who.sub, reassigned=False, reopen_count=0,
        created_at=ctx.now, updated_at=ctx.now,
    )
    session.add(complaint)
    filed = events.ComplaintFiled(
        complaint_id=complaint.id, store_id=store.id, region_id=store.region_id,
        customer_ref=customer.customer_ref, channel=body.channel, category=body.category,
        severity=body.severity, mood=body.mood, filed_by=ctx.who.sub, filed_at=ctx.now,
        has_receipt=bool(body.receipt_ref), product_category=body.product_category,
        amount=Money(**body.amount.model_dump()) if body.amount else None, staff_involved=body.staff_involved,
        prior_complaints_30d=prior,
    )
    add_events(session, COMPLAINTS, [filed], ctx.now, subject=str(complaint.id))
    return complaint


async def load_complaint(session: AsyncSession, ctx: Context, complaint_id: uuid.UUID) -> Complaint:
    complaint = (
        await session.execute(
            select(Complaint).where(Complaint.id == complaint_id)
            .options(selectinload(Complaint.customer), selectinload(Complaint.notes))
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    if complaint is None:
        raise NotFound(f"no complaint {complaint_id}")
    ctx.who.require_scope(complaint.region_id, complaint.store_id)
    return complaint


async def _for_change(session: AsyncSession, ctx: Context, model: type, key: uuid.UUID, missing: str):
    """Loads a store's row to change it: checks the caller's scope, then locks the store and the
    row, in that order everywhere (so changes cannot deadlock), and reloads the row."""
    found = await session.get(model, key)
    if found is None:
        raise NotFound(missing)
    ctx.who.require_scope(found.region_id, found.store_id)
    await lock_store(session, found.store_id)
    query = select(model).where(model.id == key).with_for_update().execution_options(populate_existing=True)
    return (await session.execute(query)).scalar_one()


async def act(
    session: AsyncSession, ctx: Context, complaint_id: uuid.UUID, action: Action, body: object = None
) -> Complaint:
    """Moves a complaint by one action of its lifecycle and records the matching event."""
    complaint = await _for_change(session, ctx, Complaint, complaint_id, f"no complaint {complaint_id}")
    complaint.status = transition(Status(complaint.status), action)
    complaint.updated_at = ctx.now
    common = {"complaint_id": complaint.id, "store_id": complaint.store_id, "region_id": complaint.region_id}
    by = {"by": ctx.who.sub, "at": ctx.now}
    if action is Action.acknowledge:
        complaint.acknowledged_at = ctx.now
        event = events.ComplaintAcknowledged(**common, **by)
    elif action is Action.assign:
        assert isinstance(body, schemas.AssignIn)
        complaint.reassigned = complaint.reassigned or body.assignee != complaint.filed_by
        complaint.assignee, complaint.assignee_role = body.assignee, body.assignee_role
        complaint.acknowledged_at = complaint.acknowledged_at or ctx.now
        event = events.ComplaintAssigned(**common, assignee=body.assignee, assignee_role=body.assignee_role, **by)
    elif action is Action.add_note:
        assert isinstance(body, schemas.NoteIn)
        note = Note(id=uuid.uuid4(), complaint_id=complaint.id, author=ctx.who.sub, text=body.text, created_at=ctx.now)
        session.add(note)
        event = events.ComplaintNoteAdded(**common, note_id=note.id, **by)
    elif action is Action.resolve:
        assert isinstance(body, schemas.ResolveIn)
        complaint.resolution_technique, complaint.resolution_outcome = body.technique, body.outcome
        complaint.resolution_summary = body.summary
        complaint.acknowledged_at = complaint.acknowledged_at or ctx.now
        complaint.resolved_at = ctx.now
        first_contact = not complaint.reassigned and complaint.reopen_count == 0 and ctx.who.sub == complaint.filed_by
        event = events.ComplaintResolved(
            **common, technique=body.technique, outcome=body.outcome, first_contact=first_contact,
            by_role=Tier(ctx.who.role), **by,
        )
    elif action is Action.reopen:
        if isinstance(body, schemas.ReopenIn) and body.reason:
            session.add(Note(id=uuid.uuid4(), complaint_id=complaint.id, author=ctx.who.sub, text=body.reason,
                             created_at=ctx.now))
        complaint.reopen_count += 1
        complaint.resolved_at = complaint.closed_at = None
        event = events.ComplaintReopened(**common, **by)
    else:
        complaint.closed_at = ctx.now
        event = events.ComplaintClosed(**common, **by)
    add_events(session, COMPLAINTS, [event], ctx.now, subject=str(complaint.id))
    await session.flush()
    return await load_complaint(session, ctx, complaint.id)


def issue_survey(session: AsyncSession, ctx: Context, complaint: Complaint) -> str:
    token = secrets.token_urlsafe(32)
    session.add(
        CsatSurvey(
            token_hash=_hash(token), complaint_id=complaint.id, issued_at=ctx.now,
            expires_at=ctx.now + timedelta(days=ctx.csat_survey_days),
        )
    )
    return token


async def answer_survey(session: AsyncSession, token: str, body: schemas.CsatIn, now: datetime) -> None:
    survey = await session.get(CsatSurvey, _hash(token))
    if survey is None:
        raise NotFound("no such survey")
    complaint = await session.get(Complaint, survey.complaint_id)
    await lock_store(session, complaint.store_id)
    survey = (
        await session.execute(
            select(CsatSurvey).where(CsatSurvey.token_hash == survey.token_hash).with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one()
    if survey.answered_at is not None:
        raise Conflict("this survey was already answered")
    if now > survey.expires_at:
        raise Gone("this survey has expired")
    survey.answered_at, survey.score, survey.comment = now, body.score, body.comment
    submitted = events.CsatSubmitted(
        complaint_id=complaint.id, store_id=complaint.store_id, region_id=complaint.region_id,
        score=body.score, has_comment=bool(body.comment), at=now,
    )
    add_events(session, COMPLAINTS, [submitted], now, subject=str(complaint.id))


def _insert(session: AsyncSession, model: type):
    """An INSERT that can say what to do on a conflict (PostgreSQL and SQLite both can)."""
    return (postgresql_insert if session.bind.dialect.name == "postgresql" else sqlite_insert)(model)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Filters:
    store_id: str | None = None
    region_id: str | None = None
    status: Status | None = None
    category: events.Category | None = None
    severity: events.Severity | None = None
    mood: events.Mood | None = None
    assignee: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None


async def list_complaints(
    session: AsyncSession, ctx: Context, filters: Filters, cursor: str | None, limit: int
) -> tuple[list[Complaint], str | None]:
    """Newest first; the cursor is the (created_at, id) of the last item of the previous page."""
    ctx.who.require_scope(filters.region_id, filters.store_id)
    query = select(Complaint)
    if ctx.who.store_id and ctx.who.role in {Role.associate, Role.store_manager}:
        query = query.where(Complaint.store_id == ctx.who.store_id)
    elif ctx.who.region_id and ctx.who.role in {Role.coordinator, Role.regional_coordinator}:
        query = query.where(Complaint.region_id == ctx.who.region_id)
    for column, value in (
        (Complaint.store_id, filters.store_id), (Complaint.region_id, filters.region_id),
        (Complaint.status, filters.status), (Complaint.category, filters.category),
        (Complaint.severity, filters.severity), (Complaint.mood, filters.mood), (Complaint.assignee, filters.assignee),
    ):
        if value is not None:
            query = query.where(column == value)
    if filters.created_from:
        query = query.where(Complaint.created_at >= filters.created_from)
    if filters.created_to:
        query = query.where(Complaint.created_at < filters.created_to)
    if cursor:
        created_at, last_id = _decode_cursor(cursor)
        query = query.where(
            or_(Complaint.created_at < created_at, and_(Complaint.created_at == created_at, Complaint.id < last_id))
        )
    rows = list(
        (
            await session.execute(
                query.options(selectinload(Complaint.customer))
                .order_by(Complaint.created_at.desc(), Complaint.id.desc())
                .limit(limit + 1)
            )
        )
        .scalars()
    )
    page, more = rows[:limit], len(rows) > limit
    return page, _encode_cursor(page[-1]) if more else None


def _encode_cursor(complaint: Complaint) -> str:
    return base64.urlsafe_b64encode(f"{complaint.created_at.isoformat()}|{complaint.id}".encode()).decode()


def _decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        created_at, last_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        return datetime.fromisoformat(created_at), uuid.UUID(last_id)
    except ValueError:
        raise InvalidField("cursor", "not a cursor from a previous page") from None


# ---- returns ------------------------------------------------------------------------------


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
        allowed_tenders=frozenset(return_events.Tender(t) for t in row.allowed_tenders), currency=row.currency,
    )


async def set_policy(session: AsyncSession, store_id: str | None, body: schemas.ReturnPolicyIO) -> None:
    """Creates or replaces a policy in one statement, so concurrent first writes leave one row."""
    values = {"scope": store_id or CHAIN_SCOPE, **body.model_dump(mode="json")}
    statement = _insert(session, ReturnPolicyRow).values(**values)
    await session.execute(
        statement.on_conflict_do_update(index_elements=["scope"], set_={k: v for k, v in values.items() if k != "scope"})
    )


async def request_return(session: AsyncSession, ctx: Context, body: schemas.ReturnIn) -> tuple[ReturnRequestRow, dict]:
    store = await _store_in_scope(session, ctx, body.store_id)
    if body.complaint_id is not None:
        linked = await session.get(Complaint, body.complaint_id)
        if linked is None or linked.store_id != store.id:
            raise InvalidField("complaint_id", f"no complaint {body.complaint_id} at store {store.id}")
    if body.exception_reason and ctx.who.role is not Role.store_manager:
        raise InvalidField("exception_reason", "only a store manager may grant an exception")
    today = ctx.now.astimezone(ZoneInfo(store.timezone)).date()
    if body.purchased_on > today:
        raise InvalidField("purchased_on", f"{body.purchased_on} is after today ({today}) at store {store.id}")
    policy = await policy_for(session, store.id)
    if body.amount.currency != policy.currency:
        raise InvalidField("amount.currency", f"store {store.id} refunds in {policy.currency}")
    result = check_return(
        ReturnRequest(
            kind=body.kind, tender=body.tender, amount_minor=body.amount.minor_units,
            product_category=body.product_category, purchased_on=body.purchased_on,
            receipt_number=body.receipt_number, no_receipt_reason=body.no_receipt_reason,
        ),
        policy,
        today,
    )
    customer = await _customer(session, ctx, body.customer) if body.customer else None
    manager = ctx.who.role is Role.store_manager
    if result.accepted or (manager and not result.broken):
        status, approver = "approved", (ctx.who.sub if result.needs_approval else None)
    elif body.exception_reason:
        status, approver = "exception_granted", ctx.who.sub
    elif result.broken:
        status, approver = "rejected", None
    else:
        status, approver = "pending_approval", None
    request = ReturnRequestRow(
        id=uuid.uuid4(), store_id=store.id, region_id=store.region_id, complaint_id=body.complaint_id,
        customer_id=customer.id if customer else None, kind=body.kind, tender=body.tender,
        amount_minor=body.amount.minor_units, currency=body.amount.currency, receipt_number=body.receipt_number,
        no_receipt_reason=body.no_receipt_reason, product_category=body.product_category,
        purchased_on=body.purchased_on, status=status, broken_rules=list(result.broken), approver=approver,
        exception_reason=body.exception_reason, requested_by=ctx.who.sub, created_at=ctx.now,
        decided_at=None if status == "pending_approval" else ctx.now,
    )
    session.add(request)
    requested = return_events.ReturnRequested(
        **_return_common(request), complaint_id=body.complaint_id,
        customer_ref=customer.customer_ref if customer else None, receipt_number=body.receipt_number,
        no_receipt_reason=body.no_receipt_reason, product_category=body.product_category,
        days_since_purchase=(today - body.purchased_on).days, requested_by=ctx.who.sub, at=ctx.now,
    )
    add_events(session, RETURNS, [requested, *_decision_events(request, ctx)], ctx.now, subject=str(request.id))
    return request, {str(rule): text for rule, text in result.details.items()}


async def decide_return(
    session: AsyncSession, ctx: Context, return_id: uuid.UUID, *, exception_reason: str | None
) -> ReturnRequestRow:
    """A store manager approves a pending request, or grants an exception (with a reason) to a
    rejected or pending one."""
    request = await _for_change(session, ctx, ReturnRequestRow, return_id, f"no return request {return_id}")
    if exception_reason is None and request.status != "pending_approval":
        raise Conflict(f"only a pending_approval request can be approved; this one is {request.status}")
    if exception_reason is not None and request.status not in {"pending_approval", "rejected"}:
        raise Conflict(f"an exception is for rejected or pending requests; this one is {request.status}")
    if exception_reason is not None and request.status == "pending_approval" and not request.broken_rules:
        raise Conflict("this request breaks no rule: approve it instead")
    request.status = "exception_granted" if exception_reason is not None else "approved"
    request.approver, request.exception_reason, request.decided_at = ctx.who.sub, exception_reason, ctx.now
    add_events(session, RETURNS, _decision_events(request, ctx), ctx.now, subject=str(request.id))
    return request


def _return_common(request: ReturnRequestRow) -> dict:
    return {
        "return_id": request.id, "store_id": request.store_id, "region_id": request.region_id,
        "kind": request.kind, "tender": request.tender,
        "amount": Money(minor_units=request.amount_minor, currency=request.currency),
    }


def _decision_events(request: ReturnRequestRow, ctx: Context) -> list:
    common = _return_common(request)
    if request.status == "approved":
        return [return_events.ReturnApproved(**common, approver=request.approver, at=ctx.now)]
    if request.status == "rejected":
        return [
            return_events.ReturnRejected(
                **common, rules=request.broken_rules, product_category=request.product_category, at=ctx.now
            )
        ]
    if request.status == "exception_granted":
        rules = request.broken_rules or [return_events.PolicyRule.approval_amount]
        return [
            return_events.ReturnExceptionGranted(
                **common, rules=rules, approver=request.approver, approver_role=Tier.store_manager,
                requested_by=request.requested_by, at=ctx.now,
            )
        ]
    return []


async def load_return(session: AsyncSession, ctx: Context, return_id: uuid.UUID) -> ReturnRequestRow:
    request = await session.get(ReturnRequestRow, return_id)
    if request is None:
        raise NotFound(f"no return request {return_id}")
    ctx.who.require_scope(request.region_id, request.store_id)
    return request


# ---- erasure ------------------------------------------------------------------------------


async def erase_customer(session: AsyncSession, ctx: Context, body: schemas.ErasureIn) -> tuple[str, int]:
    """Removes a customer's personal data (contact, descriptions, notes, survey comments) and
    keeps everything the statistics need; announces it once per store that held their data."""
    ref = body.customer_ref or customer_ref(ctx.ref_key, body.email, body.phone)
    customer = (await session.execute(select(Customer).where(Customer.customer_ref == ref))).scalar_one_or_none()
    if customer is None:
        raise NotFound("no customer with that contact or reference")
    complaint_rows = (
        await session.execute(select(Complaint.id, Complaint.store_id, Complaint.region_id).where(
            Complaint.customer_id == customer.id))
    ).all()
    return_rows = (
        await session.execute(select(ReturnRequestRow.store_id, ReturnRequestRow.region_id).where(
            ReturnRequestRow.customer_id == customer.id))
    ).all()
    stores = sorted({(row.store_id, row.region_id) for row in [*complaint_rows, *return_rows]})
    for store_id, _region in stores:  # in one order everywhere, so erasures cannot deadlock
        await lock_store(session, store_id)
    complaint_ids = [row.id for row in complaint_rows]
    customer.name = customer.email = customer.phone = None
    customer.erased_at = ctx.now
    if complaint_ids:
        await session.execute(
            update(Complaint).where(Complaint.id.in_(complaint_ids)).values(description=None, resolution_summary=None)
        )
        await session.execute(update(Note).where(Note.complaint_id.in_(complaint_ids)).values(text=None))
        await session.execute(update(CsatSurvey).where(CsatSurvey.complaint_id.in_(complaint_ids)).values(comment=None))
    for store_id, region_id in stores:
        erased = events.CustomerErased(store_id=store_id, region_id=region_id, customer_ref=ref, at=ctx.now)
        add_events(session, COMPLAINTS, [erased], ctx.now, subject=ref)
    return ref, len(complaint_ids)
