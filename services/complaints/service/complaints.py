"""Filing complaints, moving them through their lifecycle, and finding them."""

import uuid
from collections.abc import Iterable
from datetime import datetime
from types import SimpleNamespace

from sqlalchemy import Insert, Table, and_, bindparam, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from services.complaints.domain.access import channel_error, tier_of, visible_to
from services.complaints.domain.customers import REPEAT_WINDOW
from services.complaints.domain.lifecycle import Action, Status, first_contact, transition
from services.complaints.service import commands
from services.complaints.service.context import Context, for_change, region_in_scope
from services.complaints.service.csat import issue_survey
from services.complaints.service.customers import customer_filing
from services.complaints.service.history import entry, entry_values
from services.complaints.service.surveys import record_delivery
from services.complaints.store.models import Complaint, HistoryEntry, Note
from services.complaints.store.outbox import OUTBOX
from services.shared.errors import InvalidField, NotFound
from services.shared.events import complaints as events
from services.shared.events.envelope import Event
from services.shared.outbox import add_events, event_rows
from services.shared.topics import COMPLAINTS


async def file_complaint(session: AsyncSession, ctx: Context, command: commands.FileComplaint) -> SimpleNamespace:
    """Files the complaint: its row, its history's first entry and its event in the outbox, written by
    INSERTs of its own rather than the session's unit of work (which cost a sixth of the CPU of this, the
    API's hot path), the store locked first so that one store's events commit in the order of their
    outbox rows. The complaint answered has a Complaint's attributes, but is not one (see `_LATER`)."""
    if reason := channel_error(ctx.who, command.channel):
        raise InvalidField("channel", reason)
    region_id = await region_in_scope(session, ctx, command.store_id)
    customer_id, ref, prior = await customer_filing(session, ctx, command.customer, ctx.now - REPEAT_WINDOW)
    amount, contact = command.amount, command.customer
    row = dict(
        id=uuid.uuid4(), store_id=command.store_id, region_id=region_id, customer_id=customer_id,
        contact_name=contact.name, contact_email=contact.email, contact_phone=contact.phone,
        channel=command.channel, category=command.category, severity=command.severity, mood=command.mood,
        description=command.description, receipt_ref=command.receipt_ref, product_category=command.product_category,
        amount_minor=amount.minor_units if amount else None, currency=amount.currency if amount else None,
        staff_involved=command.staff_involved, status=Status.open, filed_by=ctx.who.sub, reassigned=False,
        reopen_count=0, created_at=ctx.now, updated_at=ctx.now,
    )
    filed = events.ComplaintFiled(
        complaint_id=row["id"], store_id=command.store_id, region_id=region_id,
        customer_ref=ref, channel=command.channel, category=command.category,
        severity=command.severity, mood=command.mood, filed_by=ctx.who.sub, filed_at=ctx.now,
        has_receipt=bool(command.receipt_ref), product_category=command.product_category,
        amount=amount.model_dump() if amount else None, staff_involved=command.staff_involved,
        prior_complaints_30d=prior,
    )
    [event] = event_rows(session, COMPLAINTS, [filed], ctx.now, subject=str(row["id"]))
    first = entry_values(row["id"], filed, ctx.now, by=ctx.who.sub)
    await _write_filing(session, row, event, first)
    return SimpleNamespace(
        **_LATER, **row, customer=SimpleNamespace(customer_ref=ref), notes=[], history=[SimpleNamespace(**first)]
    )


# The columns a complaint gets later in its life. A filing answers with the complaint as written, read
# as a Complaint is (views.complaint_out), not as one: making the mapped objects cost 4% of its CPU.
_LATER = dict.fromkeys((
    "assignee", "assignee_role", "assigned_at", "acknowledge_by", "resolve_by", "resolution_technique",
    "resolution_outcome", "resolution_summary", "resolution_steps", "acknowledged_at", "resolved_at", "closed_at",
))


async def _write_filing(session: AsyncSession, complaint: dict, event: dict, first: dict) -> None:
    """The complaint, its event and its history's first entry: one statement on PostgreSQL (the INSERTs
    in WITH clauses), so the store's lock is held two round trips the shorter; three elsewhere."""
    if session.bind.dialect.name == "postgresql":
        values = {f"{prefix}{name}": value for prefix, row in (("c_", complaint), ("o_", event), ("h_", first))
                  for name, value in row.items()}
        await session.execute(_FILE_AT_ONCE, values)
        return
    for table, row in ((Complaint.__table__, complaint), (OUTBOX.table.__table__, event), (HistoryEntry.__table__, first)):
        await session.execute(insert(table), row)


def _inserting(table: Table, prefix: str, columns: Iterable[str]) -> Insert:
    return insert(table).values({name: bindparam(prefix + name, type_=table.c[name].type) for name in columns})


_FILE_AT_ONCE = _inserting(
    OUTBOX.table.__table__, "o_", ("event_id", "topic", "key", "payload", "created_at")
).add_cte(
    _inserting(Complaint.__table__, "c_", [name for name in Complaint.__table__.c.keys() if name not in _LATER]).cte(
        "complaint"
    ),
    _inserting(
        HistoryEntry.__table__, "h_", ("complaint_id", "event", "at", "by", "tier", "assignee", "reason")
    ).cte("first_entry"),
)


async def load_complaint(session: AsyncSession, ctx: Context, complaint_id: uuid.UUID) -> Complaint:
    complaint = (
        await session.execute(
            select(Complaint).where(Complaint.id == complaint_id)
            .options(selectinload(Complaint.customer), selectinload(Complaint.notes), selectinload(Complaint.history))
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    if complaint is None:
        raise NotFound(f"no complaint {complaint_id}")
    ctx.who.require_scope(complaint.region_id, complaint.store_id)
    return complaint


async def acknowledge(session: AsyncSession, ctx: Context, complaint_id: uuid.UUID) -> Complaint:
    complaint = await _move(session, ctx, complaint_id, Action.acknowledge)
    complaint.acknowledged_at, complaint.acknowledge_by = ctx.now, None
    return await _record(session, ctx, complaint, events.ComplaintAcknowledged(**_about(complaint, ctx)))


async def assign(session: AsyncSession, ctx: Context, complaint_id: uuid.UUID, command: commands.Assign) -> Complaint:
    complaint = await _move(session, ctx, complaint_id, Action.assign)
    complaint.reassigned = complaint.reassigned or command.assignee != complaint.filed_by
    complaint.assignee, complaint.assignee_role, complaint.assigned_at = command.assignee, command.assignee_role, ctx.now
    complaint.acknowledged_at, complaint.acknowledge_by = complaint.acknowledged_at or ctx.now, None
    assigned = events.ComplaintAssigned(
        **_about(complaint, ctx), assignee=command.assignee, assignee_role=command.assignee_role
    )
    return await _record(session, ctx, complaint, assigned, tier=command.assignee_role, assignee=command.assignee)


async def add_note(
    session: AsyncSession, ctx: Context, complaint_id: uuid.UUID, command: commands.AddNote
) -> Complaint:
    complaint = await _move(session, ctx, complaint_id, Action.add_note)
    note = Note(id=uuid.uuid4(), complaint_id=complaint.id, author=ctx.who.sub, text=command.text, created_at=ctx.now)
    session.add(note)
    return await _record(session, ctx, complaint, events.ComplaintNoteAdded(**_about(complaint, ctx), note_id=note.id))


async def resolve(
    session: AsyncSession, ctx: Context, complaint_id: uuid.UUID, command: commands.Resolve
) -> tuple[Complaint, str]:
    """Resolves the complaint and issues the customer's one-time CSAT survey token, whose link is sent
    to the customer (`service.surveys`) once this transaction commits."""
    complaint = await _move(session, ctx, complaint_id, Action.resolve)
    complaint.resolution_technique, complaint.resolution_outcome = command.technique, command.outcome
    complaint.resolution_summary = command.summary
    complaint.resolution_steps = command.steps.model_dump() if command.steps else None
    complaint.acknowledged_at, complaint.acknowledge_by = complaint.acknowledged_at or ctx.now, None
    complaint.resolved_at = ctx.now
    resolved = events.ComplaintResolved(
        **_about(complaint, ctx), technique=command.technique, outcome=command.outcome,
        first_contact=first_contact(
            filed_by=complaint.filed_by, resolved_by=ctx.who.sub, reassigned=complaint.reassigned,
            reopen_count=complaint.reopen_count,
        ),
        by_role=tier_of(ctx.who.role), steps=command.steps,
    )
    complaint = await _record(session, ctx, complaint, resolved)
    token = issue_survey(session, ctx, complaint)
    record_delivery(session, complaint, token, ctx.now)
    return complaint, token


async def reopen(session: AsyncSession, ctx: Context, complaint_id: uuid.UUID, command: commands.Reopen) -> Complaint:
    complaint = await _move(session, ctx, complaint_id, Action.reopen)
    if command.reason:
        session.add(Note(id=uuid.uuid4(), complaint_id=complaint.id, author=ctx.who.sub, text=command.reason,
                         created_at=ctx.now))
    complaint.reopen_count += 1
    # Open again, to be acknowledged again: the escalation restarts its deadlines at its tier and
    # publishes them (EscalationReopened), which the worker keeps on the complaint.
    complaint.resolved_at = complaint.closed_at = complaint.resolve_by = complaint.acknowledged_at = None
    return await _record(session, ctx, complaint, events.ComplaintReopened(**_about(complaint, ctx)))


async def close(session: AsyncSession, ctx: Context, complaint_id: uuid.UUID) -> Complaint:
    complaint = await _move(session, ctx, complaint_id, Action.close)
    complaint.closed_at = ctx.now
    return await _record(session, ctx, complaint, events.ComplaintClosed(**_about(complaint, ctx)))


async def _move(session: AsyncSession, ctx: Context, complaint_id: uuid.UUID, action: Action) -> Complaint:
    """Moves a complaint by one action of its lifecycle; the caller records the matching event."""
    complaint = await for_change(session, ctx, Complaint, complaint_id, f"no complaint {complaint_id}")
    complaint.status = transition(Status(complaint.status), action)
    complaint.updated_at = ctx.now
    return complaint


def _about(complaint: Complaint, ctx: Context) -> dict:
    return {
        "complaint_id": complaint.id, "store_id": complaint.store_id, "region_id": complaint.region_id,
        "by": ctx.who.sub, "at": ctx.now,
    }


async def _record(session: AsyncSession, ctx: Context, complaint: Complaint, event: Event, **moved: str) -> Complaint:
    add_events(session, COMPLAINTS, [event], ctx.now, subject=str(complaint.id))
    if not isinstance(event, events.ComplaintNoteAdded):  # a note is its own entry of the timeline
        session.add(entry(complaint.id, event, ctx.now, by=ctx.who.sub, **moved))
    await session.flush()
    return await load_complaint(session, ctx, complaint.id)


async def list_complaints(
    session: AsyncSession, ctx: Context, filters: commands.ComplaintFilters,
    after: tuple[datetime, uuid.UUID] | None, limit: int,
) -> tuple[list[Complaint], bool]:
    """Newest first, after the (created_at, id) of the previous page's last complaint; and whether
    more follow."""
    ctx.who.require_scope(filters.region_id, filters.store_id)
    visible = visible_to(ctx.who)
    query = select(Complaint)
    for column, value in (
        (Complaint.store_id, visible.store_id), (Complaint.region_id, visible.region_id),
        (Complaint.store_id, filters.store_id), (Complaint.region_id, filters.region_id),
        (Complaint.status, filters.status), (Complaint.category, filters.category),
        (Complaint.severity, filters.severity), (Complaint.mood, filters.mood), (Complaint.assignee, filters.assignee),
        (Complaint.assignee_role, filters.tier),
    ):
        if value is not None:
            query = query.where(column == value)
    if filters.created_from:
        query = query.where(Complaint.created_at >= filters.created_from)
    if filters.created_to:
        query = query.where(Complaint.created_at < filters.created_to)
    if after:
        created_at, last_id = after
        query = query.where(
            or_(Complaint.created_at < created_at, and_(Complaint.created_at == created_at, Complaint.id < last_id))
        )
    query = query.options(selectinload(Complaint.customer)).order_by(Complaint.created_at.desc(), Complaint.id.desc())
    rows = list((await session.execute(query.limit(limit + 1))).scalars())
    return rows[:limit], len(rows) > limit
