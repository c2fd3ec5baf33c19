"""Complaints' POSTs that accept an Idempotency-Key (see `services.shared.idempotency`)."""

from fastapi import Request
from fastapi.responses import Response

from services.complaints.store.models import IdempotencyKey
from services.shared import idempotency
from services.shared.principal import Principal


async def run_once(request: Request, who: Principal, key: str | None, work: idempotency.Work) -> Response:
    """Runs `work` in one transaction and answers with its (status, body), once per key."""
    state = request.app.state
    return await idempotency.run_once(state.uow, IdempotencyKey, state.clock, request, who.sub, key, work)
