"""What routes get from the application: the caller's context, sessions to read with, the unit of
work to change things in, the settings and the time; routes never read `app.state` themselves."""

from typing import Annotated

from fastapi import Depends, Request

from services.complaints.service.context import Context
from services.complaints.settings import ComplaintsSettings
from services.shared.auth import Authorize
from services.shared.database_app import IdempotencyKeyHeader, Now, Sessions, Work  # noqa: F401 - for the routes
from services.shared.principal import Principal, Role


def context_for(*roles: Role):
    """The context of a caller with one of `roles`."""
    authorize = Authorize(*roles)

    async def dependency(request: Request, who: Annotated[Principal, Depends(authorize)]) -> Context:
        state = request.app.state
        return Context(
            who=who, now=state.clock(), ref_key=state.ref_key, csat_survey_days=state.settings.csat_survey_days
        )

    return Depends(dependency)


# The dependencies are coroutines, though they do not wait: FastAPI runs a plain function in a thread.
async def _settings(request: Request) -> ComplaintsSettings:
    return request.app.state.settings


def endpoint_of(request: Request) -> str:
    """The route a request came in by, as the record of a contact read names it."""
    return f"{request.method} {request.scope['route'].path}"


async def _endpoint(request: Request) -> str:
    return endpoint_of(request)


Settings = Annotated[ComplaintsSettings, Depends(_settings)]
Endpoint = Annotated[str, Depends(_endpoint)]
