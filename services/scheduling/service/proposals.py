"""Training proposed where complaints call for it, once per cause; the site manager confirms or dismisses it.

The worker keeps each complaint's facts (category, mood, escalation) and, as they arrive, applies the
rules of `domain.proposals`. A cause has a unique key per site (site, cause, window or problem): the
proposal's row is inserted only if no row has that key, and its TrainingProposed goes into the outbox
in the same transaction, so a replay, a restart or a second worker never proposes it twice."""

import uuid
from datetime import datetime
from functools import partial
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.scheduling.domain import proposals as rules
from services.scheduling.domain.proposals import ProposalStatus, RateRule, ShiftSpan, Window
from services.scheduling.domain.shifts import ShiftStatus
from services.scheduling.service import directory
from services.scheduling.settings import SchedulingSettings
from services.scheduling.store.complaints import ComplaintFact, keep_fact
from services.scheduling.store.development import TrainingProposal
from services.scheduling.store.models import ShiftRow, Site, StaffMember
from services.scheduling.store.training import TrainingSession
from services.shared.db import insert_statement
from services.shared.errors import Conflict, InvalidField, NotFound
from services.shared.events.complaints import ComplaintFiled
from services.shared.events.coordination import ProblemDetected
from services.shared.events.envelope import Envelope
from services.shared.events.escalations import EscalationEvent, EscalationPaged, EscalationRaised, EscalationRouted
from services.shared.events.fields import MAX_ITEMS
from services.shared.events.scheduling import TrainingCause, TrainingKind, TrainingProposed
from services.shared.outbox import add_events
from services.shared.principal import Principal
from services.shared.topics import SCHEDULING


class AlreadyDecided(Conflict):
    def __init__(self, proposal: TrainingProposal) -> None:
        super().__init__(f"training proposal {proposal.id} was {proposal.status} already")


def rate_rule(settings: SchedulingSettings) -> RateRule:
    return RateRule(settings.training_window_days, settings.training_rise_factor, settings.training_min_complaints,
                    settings.training_baseline_windows)


async def on_filed(session: AsyncSession, envelope: Envelope, now: datetime, *, rule: RateRule) -> None:
    filed: ComplaintFiled = envelope.data  # type: ignore[assignment]
    fact = await keep_fact(session, filed.complaint_id, filed.store_id, filed.region_id, category=filed.category,
                           mood=filed.mood, severity=filed.severity, channel=filed.channel, filed_at=filed.filed_at)
    site = await session.get(Site, filed.store_id)
    if site is None:  # a site this service does not schedule: nobody to train
        return
    if filed.category is rules.REGISTER_CATEGORY:
        await _register_training(session, site, filed.filed_at, rule, now)
    await _role_play(session, site, fact, rule.window_days, now)


async def on_escalated(session: AsyncSession, envelope: Envelope, now: datetime, *, rule: RateRule) -> None:
    event: EscalationEvent = envelope.data  # type: ignore[assignment]
    if not rules.is_escalation(event):
        return
    fact = await keep_fact(session, event.complaint_id, event.store_id, event.region_id, escalated=True)
    site = await session.get(Site, event.store_id)
    if site is not None:
        await _role_play(session, site, fact, rule.window_days, now)


async def on_problem(session: AsyncSession, envelope: Envelope, now: datetime) -> None:
    """A briefing at each of the region's sites, for the staff based there."""
    problem: ProblemDetected = envelope.data  # type: ignore[assignment]
    kind = rules.briefing_for(problem.evidence.category)
    sites = (await session.scalars(select(Site).where(Site.region_id == problem.region_id).order_by(Site.id))).all()
    for site in sites:
        staff = await session.scalars(
            select(StaffMember.id).where(StaffMember.home_site_id == site.id).order_by(StaffMember.id).limit(MAX_ITEMS)
        )
        await _propose(session, site, kind, TrainingCause.common_problem, str(problem.problem_id), list(staff), now,
                       problem_id=problem.problem_id)


def effects(settings: SchedulingSettings) -> dict:  # event class -> effect (see service.intake)
    rule = rate_rule(settings)
    escalated = partial(on_escalated, rule=rule)
    return {
        ComplaintFiled: partial(on_filed, rule=rule),
        EscalationRouted: escalated,
        EscalationPaged: escalated,
        EscalationRaised: escalated,
        ProblemDetected: on_problem,
    }


async def _register_training(session: AsyncSession, site: Site, filed_at: datetime, rule: RateRule, now: datetime) -> None:
    zone = ZoneInfo(site.timezone)
    window = rules.window_of(filed_at, zone, rule.window_days)
    register = (ComplaintFact.site_id == site.id) & (ComplaintFact.category == rules.REGISTER_CATEGORY)
    moments = await _filed_in(session, register, window, zone)
    baseline_from, window_from = window.before(rule.baseline_windows).period(zone)[0], window.period(zone)[0]
    baseline = await session.scalar(
        select(func.count()).where(register, ComplaintFact.filed_at >= baseline_from, ComplaintFact.filed_at < window_from)
    )
    if rules.above_usual_rate(len(moments), baseline, rule):
        staff = await _on_shift(session, site.id, moments)
        await _propose(session, site, TrainingKind.register, TrainingCause.register_complaints,
                       rules.cause_ref(site.id, window), staff, now)


async def _role_play(session: AsyncSession, site: Site, fact: ComplaintFact, window_days: int, now: datetime) -> None:
    """Once a complaint of an angry or hostile customer is both filed and escalated, whichever came first."""
    if not fact.escalated or fact.mood not in rules.HOSTILE_MOODS:
        return
    zone = ZoneInfo(site.timezone)
    window = rules.window_of(fact.filed_at, zone, window_days)
    hostile = ((ComplaintFact.site_id == site.id) & ComplaintFact.escalated
               & ComplaintFact.mood.in_([mood.value for mood in rules.HOSTILE_MOODS]))
    staff = await _on_shift(session, site.id, await _filed_in(session, hostile, window, zone))
    await _propose(session, site, TrainingKind.de_escalation_role_play, TrainingCause.hostile_escalations,
                   rules.cause_ref(site.id, window), staff, now)


async def _filed_in(session: AsyncSession, which, window: Window, zone: ZoneInfo) -> list[datetime]:
    start, end = window.period(zone)
    return list(await session.scalars(
        select(ComplaintFact.filed_at).where(which, ComplaintFact.filed_at >= start, ComplaintFact.filed_at < end)
    ))


async def _on_shift(session: AsyncSession, site_id: str, moments: list[datetime]) -> list[str]:
    """The staff on the site's published shifts at any of the moments."""
    rows = await session.execute(
        select(ShiftRow.staff_id, ShiftRow.starts_at, ShiftRow.ends_at).where(
            ShiftRow.site_id == site_id, ShiftRow.status == ShiftStatus.published,
            ShiftRow.starts_at <= max(moments), ShiftRow.ends_at > min(moments),
        )
    )
    return rules.staff_on_shift([ShiftSpan(*row) for row in rows], moments)[:MAX_ITEMS]


async def _propose(session: AsyncSession, site: Site, kind: TrainingKind, cause: TrainingCause, ref: str,
                   staff_ids: list[str], now: datetime, problem_id: uuid.UUID | None = None) -> None:
    proposal_id = uuid.uuid4()
    inserted = await session.execute(
        insert_statement(session, TrainingProposal)
        .values(id=proposal_id, site_id=site.id, region_id=site.region_id, kind=kind, cause=cause, cause_ref=ref,
                staff_ids=staff_ids, problem_id=problem_id, proposed_at=now, status=ProposalStatus.proposed)
        .on_conflict_do_nothing(index_elements=["site_id", "cause", "cause_ref"])
    )
    if inserted.rowcount == 1:
        proposed = TrainingProposed(
            store_id=site.id, region_id=site.region_id, proposal_id=proposal_id, kind=kind, cause=cause, cause_ref=ref,
            staff_ids=staff_ids, problem_id=problem_id, at=now,
        )
        add_events(session, SCHEDULING, [proposed], now, subject=str(proposal_id))


async def list_proposals(session: AsyncSession, who: Principal, site_id: str | None, region_id: str | None,
                         status: ProposalStatus | None, limit: int) -> list[TrainingProposal]:
    """The proposals of the caller's sites, newest first."""
    who.require_scope(region_id, site_id)
    query = select(TrainingProposal).order_by(TrainingProposal.proposed_at.desc(), TrainingProposal.id).limit(limit)
    query = directory.in_scope(query, who, TrainingProposal, site_id=site_id, region_id=region_id, status=status)
    return list(await session.scalars(query))


async def load_proposal(session: AsyncSession, who: Principal, proposal_id: uuid.UUID, *, for_update: bool = False
                        ) -> TrainingProposal:
    query = select(TrainingProposal).where(TrainingProposal.id == proposal_id)
    if for_update:  # a second decision waits for the first, then finds it decided
        query = query.with_for_update().execution_options(populate_existing=True)
    proposal = (await session.scalars(query)).one_or_none()
    if proposal is None or who.scope_error(proposal.region_id, proposal.site_id):
        raise NotFound(f"no training proposal {proposal_id} in your scope")
    return proposal


async def decide(session: AsyncSession, who: Principal, proposal_id: uuid.UUID, status: ProposalStatus,
                 reason: str | None, now: datetime) -> TrainingProposal:
    proposal = await load_proposal(session, who, proposal_id, for_update=True)
    if proposal.status != ProposalStatus.proposed:
        raise AlreadyDecided(proposal)
    proposal.status, proposal.decided_by, proposal.decided_at, proposal.reason = status, who.sub, now, reason
    return proposal


async def answer_with_session(session: AsyncSession, who: Principal, proposal_id: uuid.UUID, training: TrainingSession,
                              now: datetime) -> TrainingProposal:
    """Scheduling the training a proposal asked for confirms it (if it was not yet) and links the session."""
    proposal = await load_proposal(session, who, proposal_id, for_update=True)
    if (proposal.site_id, proposal.kind) != (training.site_id, training.kind):
        raise InvalidField("proposal_id", f"training proposal {proposal.id} asks for {proposal.kind} at site {proposal.site_id}")
    if proposal.status == ProposalStatus.dismissed or proposal.session_id is not None:
        answered = f"answered by training session {proposal.session_id}" if proposal.session_id else "dismissed"
        raise Conflict(f"training proposal {proposal.id} was {answered} already")
    if proposal.status == ProposalStatus.proposed:
        proposal.status, proposal.decided_by, proposal.decided_at = ProposalStatus.confirmed, who.sub, now
    proposal.session_id = training.id
    return proposal
