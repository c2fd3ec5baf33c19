"""What routes get from the application: the caller, sessions to read with, the unit of work to
change things in, and the time; routes never read `app.state` themselves."""

from typing import Annotated

from fastapi import Depends, Request

from services.scheduling.service.shifts import Actor, limits_of
from services.shared.auth import Authorize
from services.shared.database_app import IdempotencyKeyHeader, Now, Sessions, Work, run_once  # noqa: F401 - for the routes
from services.shared.principal import Principal, Role


def actor_for(*roles: Role):
    authorize = Authorize(*roles)

    def dependency(request: Request, who: Annotated[Principal, Depends(authorize)]) -> Actor:
        state = request.app.state
        return Actor(who, state.clock(), limits_of(state.settings))

    return Depends(dependency)
