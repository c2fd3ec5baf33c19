"""The customer's satisfaction survey: answered once, with the token, without a staff login."""

from typing import Annotated

from fastapi import APIRouter, Path, Response

from services.complaints.api import schemas
from services.complaints.api.deps import Now, Work
from services.complaints.service import csat

router = APIRouter(prefix="/v1/csat", tags=["csat"])


@router.post(
    "/{token}",
    status_code=204,
    summary="Answer a satisfaction survey",
    responses={
        404: {"model": schemas.Problem, "description": "Unknown token"},
        409: {"model": schemas.Problem, "description": "Already answered"},
        410: {"model": schemas.Problem, "description": "Expired"},
    },
)
async def answer(
    token: Annotated[str, Path(min_length=20, max_length=100)], body: schemas.CsatIn, uow: Work, now: Now
) -> Response:
    async with uow.begin() as session:
        await csat.answer_survey(session, token, body.command(), now)
    return Response(status_code=204)
