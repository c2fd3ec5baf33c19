"""What routes get from the application: the caller's context, sessions to read with, the unit of
work to change things in, the settings and the time; routes never read `app.state` themselves."""

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy.ext.asyncio import async_sessionmaker

from services.complaints.service.context import Context
from services.complaints.settings import ComplaintsSettings
from services.shared.auth import Authorize
from services.shared.outbox import UnitOfWork
from services.shared.principal import Principal, Role


def context_for(*roles: Role):
    """The context of a caller with one of `roles`."""
    authorize = Authorize(*roles)

    def dependency(request: Request, who: Annotated[Principal, Depends(authorize)]) -> Context:
        state = request.app.state
        return Context(
            who=who, now=state.clock(), ref_key=state.ref_key, csat_survey_days=state.settings.csat_survey_days
        )

    return Depends(dependency)


def _sessions(request: Request) -> async_sessionmaker:
    return request.app.state.sessions


def _uow(request: Request) -> UnitOfWork:
    return request.app.state.uow


def _settings(request: Request) -> ComplaintsSettings:
    return request.app.state.settings


def _now(request: Request) -> datetime:
    return request.app.state.clock()


def endpoint_of(request: Request) -> str:
    """The route a request came in by, as the record of a contact read names it."""
    return f"{request.method} {request.scope['route'].path}"


Sessions = Annotated[async_sessionmaker, Depends(_sessions)]
Work = Annotated[UnitOfWork, Depends(_uow)]
Settings = Annotated[ComplaintsSettings, Depends(_settings)]
Now = Annotated[datetime, Depends(_now)]
Endpoint = Annotated[str, Depends(endpoint_of)]

IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key", description="Retrying with the same key returns the first response instead of acting twice."
    ),
]
