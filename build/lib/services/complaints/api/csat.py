"""The customer's satisfaction survey: answered once, with the token, without a staff login."""

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from services.complaints import flows
from services.complaints.api import schemas

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
async def answer(token: Annotated[str, Path(min_length=20, max_length=100)], body: schemas.CsatIn, request: Request) -> Response:
    state = request.app.state
    async with state.sessions() as session, session.begin():
        await flows.answer_survey(session, token, body, state.clock())
    state.after_commit()
    return Response(status_code=204)
