"""POSTs with an Idempotency-Key: the first response is stored with the change, in the same
transaction, and replayed to every retry, so a retried create never creates twice, even when the
retries race (the unique key makes all but one transaction roll back)."""

import hashlib
from collections.abc import Awaitable, Callable

import orjson
from fastapi import Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.complaints.errors import InvalidField
from services.complaints.store.models import IdempotencyKey
from services.shared.principal import Principal
from services.shared.clock import Clock

Work = Callable[[AsyncSession], Awaitable[tuple[int, BaseModel]]]


async def run_once(request: Request, who: Principal, key: str | None, work: Work) -> Response:
    """Runs `work` in one transaction and answers with its (status, body)."""
    state = request.app.state
    if key is None:
        async with state.sessions() as session, session.begin():
            status, body = await work(session)
        state.after_commit()
        return JSONResponse(body.model_dump(mode="json"), status)
    if not 1 <= len(key) <= 200:
        raise InvalidField("Idempotency-Key", "must be 1 to 200 characters")
    fingerprint = hashlib.sha256(request.url.path.encode() + b"\n" + await request.body()).hexdigest()
    try:
        async with state.sessions() as session, session.begin():
            stored = await _stored(session, who, key)
            if stored is None:
                status, body = await work(session)
                content = orjson.dumps(body.model_dump(mode="json"))
                session.add(
                    IdempotencyKey(
                        principal=who.sub, key=key, request_hash=fingerprint, status_code=status, body=content,
                        created_at=state.clock(),
                    )
                )
                await session.flush()
    except IntegrityError:
        async with state.sessions() as session:
            stored = await _stored(session, who, key)
        if stored is None:
            raise
    if stored is None:
        state.after_commit()
        return Response(content, status, media_type="application/json")
    if stored.request_hash != fingerprint:
        raise InvalidField("Idempotency-Key", "this key was already used for a different request")
    return Response(stored.body, stored.status_code, media_type="application/json", headers={"Idempotent-Replayed": "true"})


async def _stored(session: AsyncSession, who: Principal, key: str) -> IdempotencyKey | None:
    query = select(IdempotencyKey).where(IdempotencyKey.principal == who.sub, IdempotencyKey.key == key)
    return (await session.execute(query)).scalar_one_or_none()
