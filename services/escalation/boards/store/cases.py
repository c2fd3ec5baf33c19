"""The cases changelog applied to the read model, and what the boards ask of it.

Replicas may share one database and need not know of each other: a batch locks the offset rows of
its partitions and applies only the records at or after the stored offsets, so each partition's rows
are always exactly a prefix of its changelog, whoever applied it, and a replica behind the others
applies nothing twice (a tombstone, a DELETE, is never undone by an older record)."""

import base64
import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, case, delete, false, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.sql.elements import ColumnClause

from services.escalation.boards.store.models import BoardCase, BoardOffset
from services.escalation.domain.cases import Case
from services.shared.db import insert_statement

SEVERITY_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3}
BOARD_ORDER = (  # (column, descending): breached first, then paged, then by severity, then oldest
    (BoardCase.breaches, True), (BoardCase.paged, True), (BoardCase.severity_rank, False), (BoardCase.filed_at, False),
    (BoardCase.complaint_id, False),
)
OPEN = BoardCase.resolved_at.is_(None)


class InvalidCursor(ValueError):
    """A `next` cursor this API did not give."""


@dataclass(frozen=True)
class Change:
    """One record of the cases changelog: the case's row, or None for a tombstone (the case expired)."""

    partition: int
    offset: int
    complaint_id: uuid.UUID
    row: dict | None


def change(partition: int, offset: int, key: bytes, value: bytes | None) -> Change:
    """Raises if the record is not a case of the worker's table."""
    complaint_id = uuid.UUID(bytes=key)
    return Change(partition, offset, complaint_id, None if value is None else _row(Case.model_validate_json(value), offset))


def _row(case: Case, offset: int) -> dict:
    return {
        "complaint_id": case.complaint_id, "changelog_offset": offset, "region_id": case.region_id,
        "store_id": case.store_id, "category": str(case.category), "severity": str(case.severity),
        "severity_rank": SEVERITY_RANK.get(case.severity, len(SEVERITY_RANK)), "mood": str(case.mood),
        "channel": str(case.channel), "tier": str(case.assignee.tier), "staff_id": case.assignee.staff_id,
        "reason": case.reason, "filed_at": case.filed_at, "acknowledged_at": case.acknowledged_at,
        "resolved_at": case.resolved_at, "acknowledge_by": case.acknowledge_by, "resolve_by": case.resolve_by,
        "breaches": len(case.breaches), "breached_tiers": ",".join(str(mark.tier) for mark in case.breaches),
        "first_breach_at": min((mark.at for mark in case.breaches), default=None), "paged": bool(case.pages),
    }


async def start(sessions: async_sessionmaker, partitions: Iterable[int]) -> dict[int, int]:
    """The next offset of each partition (0 for one never read), its row made if missing."""
    async with sessions.begin() as session:
        stmt = insert_statement(session, BoardOffset).on_conflict_do_nothing(index_elements=["changelog_partition"])
        await session.execute(stmt, [{"changelog_partition": p, "next_offset": 0} for p in partitions])
        return dict((await session.execute(select(BoardOffset.changelog_partition, BoardOffset.next_offset))).all())


async def apply(sessions: async_sessionmaker, changes: Sequence[Change], ends: dict[int, int]) -> set[str]:
    """Applies a batch of records in one transaction and moves each partition's offset to its end in
    `ends` (past the records that could not be read, too). Returns the regions whose cases changed."""
    last = {each.complaint_id: each for each in changes}  # within a batch the last record of a case is the case
    async with sessions.begin() as session:
        stored = await _locked(session, sorted(ends))
        fresh = [each for each in last.values() if each.offset >= stored.get(each.partition, 0)]
        rows = [each.row for each in fresh if each.row is not None]
        if rows:
            upsert = insert_statement(session, BoardCase)
            await session.execute(upsert.on_conflict_do_update(
                index_elements=[BoardCase.complaint_id],
                set_={column.name: upsert.excluded[column.name] for column in BoardCase.__table__.columns
                      if column.name != "complaint_id"},
                where=BoardCase.changelog_offset < upsert.excluded.changelog_offset,
            ), rows)
        # the regions of the records another replica applied first too: this replica's viewers see those changes now
        regions = {each.row["region_id"] for each in changes if each.row is not None}
        if gone := [each.complaint_id for each in fresh if each.row is None]:
            deleted = delete(BoardCase).where(BoardCase.complaint_id.in_(gone)).returning(BoardCase.region_id)
            regions |= set((await session.scalars(deleted)).all())
        moved = insert_statement(session, BoardOffset)
        await session.execute(moved.on_conflict_do_update(
            index_elements=[BoardOffset.changelog_partition], set_={"next_offset": moved.excluded.next_offset},
            where=BoardOffset.next_offset < moved.excluded.next_offset,
        ), [{"changelog_partition": partition, "next_offset": end} for partition, end in ends.items()])
    return regions


async def _locked(session: AsyncSession, partitions: list[int]) -> dict[int, int]:
    """The stored next offset of each partition, its row made if missing and locked until the end of the
    transaction (in the order of the partitions, so batches of other replicas wait instead of deadlocking)."""
    stmt = insert_statement(session, BoardOffset)
    stmt = stmt.on_conflict_do_update(
        index_elements=[BoardOffset.changelog_partition], set_={"next_offset": BoardOffset.next_offset},
    ).returning(BoardOffset.changelog_partition, BoardOffset.next_offset)
    return dict((await session.execute(stmt, [{"changelog_partition": p, "next_offset": 0} for p in partitions])).all())


async def summary_counts(session: AsyncSession, region_id: str) -> list:
    """The region's open complaints counted by store, tier, category and severity together (few rows)."""
    return (await session.execute(
        select(BoardCase.store_id, BoardCase.tier, BoardCase.category, BoardCase.severity, func.count().label("open"),
               func.sum(case((BoardCase.breaches > 0, 1), else_=0)).label("breached"),
               func.sum(case((BoardCase.paged, 1), else_=0)).label("paged"))
        .where(BoardCase.region_id == region_id, OPEN)
        .group_by(BoardCase.store_id, BoardCase.tier, BoardCase.category, BoardCase.severity)
    )).all()


async def listed(session: AsyncSession, region_id: str, limit: int, after: str | None) -> tuple[list[BoardCase], str | None]:
    """The region's open complaints in board order, at most `limit` of them after the cursor `after`,
    and the cursor of the next ones (None at the end)."""
    query = select(BoardCase).where(BoardCase.region_id == region_id, OPEN)
    if after is not None:
        query = query.where(_after(BOARD_ORDER, _decoded(after)))
    ordered = [column.desc() if descending else column for column, descending in BOARD_ORDER]
    cases = list((await session.scalars(query.order_by(*ordered).limit(limit + 1))).all())
    return cases[:limit], (cursor(cases[limit - 1]) if len(cases) > limit else None)


def cursor(row: BoardCase) -> str:
    values = [row.breaches, row.paged, row.severity_rank, row.filed_at.isoformat(), str(row.complaint_id)]
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode()


def _decoded(after: str) -> list:
    try:
        breaches, paged, rank, filed_at, complaint_id = json.loads(base64.urlsafe_b64decode(after.encode()))
        return [int(breaches), bool(paged), int(rank), datetime.fromisoformat(filed_at), uuid.UUID(complaint_id)]
    except (ValueError, TypeError) as error:
        raise InvalidCursor(f"not a cursor of this board: {after!r}") from error


def _after(order: Sequence[tuple[ColumnClause, bool]], values: Sequence) -> ColumnElement[bool]:
    """Rows after `values` in `order`: the keyset of a page."""
    if not order:
        return false()
    column, descending = order[0]
    value = literal(values[0], column.type)  # not the bare value: `paged < True` is refused
    beyond = column < value if descending else column > value
    return or_(beyond, and_(column == value, _after(order[1:], values[1:])))


async def steady(session: AsyncSession, region_id: str, since: datetime) -> dict[str, tuple[int, int]]:
    """Each site's complaints open since before `since` and not breached since: (open, of them breached)."""
    rows = await session.execute(
        select(BoardCase.store_id, func.count(), func.count(BoardCase.first_breach_at))
        .where(BoardCase.region_id == region_id, OPEN, BoardCase.filed_at <= since,
               or_(BoardCase.first_breach_at.is_(None), BoardCase.first_breach_at <= since))
        .group_by(BoardCase.store_id)
    )
    return {store: (count, breached) for store, count, breached in rows}


async def touched(session: AsyncSession, region_id: str, since: datetime) -> list:
    """The region's cases filed, breached or resolved after `since` (and not resolved before it)."""
    return (await session.execute(
        select(BoardCase.store_id, BoardCase.filed_at, BoardCase.first_breach_at.label("breached_at"), BoardCase.resolved_at)
        .where(BoardCase.region_id == region_id, or_(OPEN, BoardCase.resolved_at > since),
               or_(BoardCase.filed_at > since, BoardCase.first_breach_at > since, BoardCase.resolved_at.is_not(None)))
    )).all()
