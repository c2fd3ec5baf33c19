"""What routes get from the application: the caller, sessions to read with, the unit of work to
change things in, and the time; routes never read `app.state` themselves."""

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy.ext.asyncio import async_sessionmaker

from services.scheduling.domain.shifts import Limits
from services.scheduling.service.shifts import Actor
from services.shared.auth import Authorize
from services.shared.outbox import UnitOfWork
from services.shared.principal import Principal, Role


def actor_for(*roles: Role):
    authorize = Authorize(*roles)

    def dependency(request: Request, who: Annotated[Principal, Depends(authorize)]) -> Actor:
        state = request.app.state
        return Actor(who, state.clock(), Limits(max_shift=timedelta(hours=state.settings.max_shift_hours)))

    return Depends(dependency)


def _sessions(request: Request) -> async_sessionmaker:
    return request.app.state.sessions


def _uow(request: Request) -> UnitOfWork:
    return request.app.state.uow


def _now(request: Request) -> datetime:
    return request.app.state.clock()


Sessions = Annotated[async_sessionmaker, Depends(_sessions)]
Work = Annotated[UnitOfWork, Depends(_uow)]
Now = Annotated[datetime, Depends(_now)]
IdempotencyKeyHeader = Annotated[
    str | None,
    Header(alias="Idempotency-Key", description="Retrying with the same key returns the first response instead of acting twice."),
]
