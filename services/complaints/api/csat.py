"""The customer's satisfaction survey: answered once, with the token, without a staff login."""

from typing import Annotated

from fastapi import APIRouter, Path, Response

from services.complaints.api import schemas
from services.complaints.api.deps import Now, Sessions, Work
from services.complaints.service import csat

router = APIRouter(prefix="/v1/csat", tags=["csat"])
Token = Annotated[str, Path(min_length=20, max_length=100)]
REFUSALS = {
    404: {"model": schemas.Problem, "description": "Unknown token"},
    409: {"model": schemas.Problem, "description": "Already answered"},
    410: {"model": schemas.Problem, "description": "Expired"},
}


@router.get("/{token}", summary="A survey still waiting for its answer: which store it is about, and until when",
            responses=REFUSALS)
async def survey(token: Token, sessions: Sessions, now: Now) -> schemas.SurveyOut:
    async with sessions() as session:
        store_name, answer_by = await csat.open_survey(session, token, now)
    return schemas.SurveyOut(store_name=store_name, answer_by=answer_by)


@router.post(
    "/{token}",
    status_code=204,
    summary="Answer a satisfaction survey",
    responses=REFUSALS,
)
async def answer(token: Token, body: schemas.CsatIn, uow: Work, now: Now) -> Response:
    async with uow.begin() as session:
        await csat.answer_survey(session, token, body.command(), now)
    return Response(status_code=204)
