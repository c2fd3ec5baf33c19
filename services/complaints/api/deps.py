"""What every route needs: the caller's context, and who may do what."""

from typing import Annotated

from fastapi import Depends, Header, Request

from services.complaints.flows import Context
from services.shared.auth import Authorize
from services.shared.principal import Principal, Role

STAFF = (Role.associate, Role.store_manager, Role.coordinator, Role.regional_coordinator, Role.senior_manager)
READERS = (*STAFF, Role.ops, Role.service)
FRONT_LINE = (Role.associate, Role.store_manager, Role.coordinator, Role.regional_coordinator)
ADMINS = (Role.senior_manager, Role.service)


def context_for(*roles: Role):
    authorize = Authorize(*roles)

    def dependency(request: Request, who: Annotated[Principal, Depends(authorize)]) -> Context:
        state = request.app.state
        return Context(
            who=who, now=state.clock(), ref_key=state.ref_key, csat_survey_days=state.settings.csat_survey_days
        )

    return Depends(dependency)


IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key", description="Retrying with the same key returns the first response instead of acting twice."
    ),
]
