"""The customer's satisfaction survey: issued when a complaint is resolved, answered once with its
token before it expires."""

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.complaints.service.commands import AnswerSurvey
from services.complaints.service.context import Context
from services.complaints.store.models import Complaint, CsatSurvey, Store
from services.complaints.store.stores import lock_store
from services.shared.errors import Conflict, Gone, NotFound
from services.shared.events import complaints as events
from services.shared.outbox import add_events
from services.shared.topics import COMPLAINTS


def issue_survey(session: AsyncSession, ctx: Context, complaint: Complaint) -> str:
    """The survey's one-time token; only its hash is kept (its delivery holds the token until it is sent)."""
    token = secrets.token_urlsafe(32)
    session.add(
        CsatSurvey(
            token_hash=token_hash(token), complaint_id=complaint.id, issued_at=ctx.now,
            expires_at=ctx.now + timedelta(days=ctx.csat_survey_days),
        )
    )
    return token


async def open_survey(session: AsyncSession, token: str, now: datetime) -> tuple[str, datetime]:
    """The store a survey still waiting for its answer is about, and when it expires."""
    survey = await session.get(CsatSurvey, token_hash(token))
    if survey is None:
        raise NotFound("no such survey")
    _answerable(survey, now)
    complaint = await session.get(Complaint, survey.complaint_id)
    store = await session.get(Store, complaint.store_id)
    return store.name, survey.expires_at


async def answer_survey(session: AsyncSession, token: str, command: AnswerSurvey, now: datetime) -> None:
    survey = await session.get(CsatSurvey, token_hash(token))
    if survey is None:
        raise NotFound("no such survey")
    complaint = await session.get(Complaint, survey.complaint_id)
    await lock_store(session, complaint.store_id)
    survey = (
        await session.execute(
            select(CsatSurvey).where(CsatSurvey.token_hash == survey.token_hash).with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one()
    _answerable(survey, now)
    survey.answered_at, survey.score, survey.comment = now, command.score, command.comment
    submitted = events.CsatSubmitted(
        complaint_id=complaint.id, store_id=complaint.store_id, region_id=complaint.region_id,
        score=command.score, has_comment=bool(command.comment), at=now,
    )
    add_events(session, COMPLAINTS, [submitted], now, subject=str(complaint.id))


def _answerable(survey: CsatSurvey, now: datetime) -> None:
    if survey.answered_at is not None:
        raise Conflict("this survey was already answered")
    if now > survey.expires_at:
        raise Gone("this survey has expired")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
