"""POSTs with an Idempotency-Key: the first response is stored with the change, in the same
transaction, and replayed to every retry, so a retried create never creates twice, even when the
retries race (the unique key makes all but one transaction roll back), and a retried action is
answered as the first was, not refused for what the first, still running when it came, just did.

A service declares the table on its own metadata (`class IdempotencyKey(IdempotencyKeyColumns,
Base)`); retention forgets a key after the service's keep time.
"""

import functools
import hashlib
from collections.abc import Awaitable, Callable
from datetime import datetime

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy import BigInteger, Integer, LargeBinary, Row, Select, String, UniqueConstraint, bindparam, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from services.shared.clock import Clock
from services.shared.errors import InvalidField
from services.shared.outbox import UnitOfWork

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 200

Work = Callable[[AsyncSession], Awaitable[tuple[int, BaseModel]]]


class IdempotencyKeyColumns:
    """The first response to a POST with an Idempotency-Key, replayed to every retry."""

    __table_args__ = (UniqueConstraint("principal", "key"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    principal: Mapped[str] = mapped_column(String(63))
    key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int]
    body: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(index=True)


def check_key(key: str) -> None:
    if not 1 <= len(key) <= MAX_KEY_LENGTH:
        raise InvalidField(HEADER, f"must be 1 to {MAX_KEY_LENGTH} characters")


def fingerprint(path: str, body: bytes) -> str:
    """What a retry must repeat to be replayed: the same path and the same body, byte for byte."""
    return hashlib.sha256(path.encode() + b"\n" + body).hexdigest()


async def run_once(
    uow: UnitOfWork, table: type[IdempotencyKeyColumns], clock: Clock, request: Request, principal: str,
    key: str | None, work: Work,
) -> Response:
    """Runs `work` in one transaction of `uow` and answers with its (status, body); with a key, the
    first answer is stored for `principal` and replayed to every retry of the same request."""
    if key is None:
        async with uow.begin() as session:
            status, body = await work(session)
        return JSONResponse(body.model_dump(mode="json"), status)
    check_key(key)
    request_hash = fingerprint(request.url.path, await request.body())
    try:
        async with uow.begin() as session:
            stored = await _stored(session, table, principal, key)
            if stored is None:
                status, body = await work(session)
                content = body.__pydantic_serializer__.to_json(body)  # as orjson.dumps(body.model_dump(mode="json"))
                await session.flush()  # the work's rows first, then the key: a failing key fails after them, as before
                await session.execute(insert(table.__table__), {
                    "principal": principal, "key": key, "request_hash": request_hash, "status_code": status,
                    "body": content, "created_at": clock(),
                })
    except Exception:  # noqa: BLE001 - the key taken, or the work refusing what a racing twin just did (a 409)
        async with uow.sessions() as session:
            stored = await _stored(session, table, principal, key)
        if stored is None:
            raise
    if stored is None:
        return Response(content, status, media_type="application/json")
    if stored.request_hash != request_hash:
        raise InvalidField(HEADER, "this key was already used for a different request")
    replayed = {"Idempotent-Replayed": "true"}
    return Response(stored.body, stored.status_code, media_type="application/json", headers=replayed)


async def _stored(session: AsyncSession, table: type[IdempotencyKeyColumns], principal: str, key: str) -> Row | None:
    """The stored answer's request_hash, status_code and body, if any."""
    return (await session.execute(_lookup(table), {"principal": principal, "key": key})).one_or_none()


@functools.cache
def _lookup(table: type[IdempotencyKeyColumns]) -> Select:
    """Built once per table: building it per request cost as much CPU as running it."""
    columns = table.__table__.c
    return select(columns.request_hash, columns.status_code, columns.body).where(
        columns.principal == bindparam("principal"), columns.key == bindparam("key")
    )
