"""What the complaints worker keeps of the escalations, on SQLite and on real PostgreSQL: whom a
complaint was routed or raised to, at which tier and by when, each event applied once; an assignment
by hand stands against a move the escalation made before it; an unknown complaint changes nothing."""

from datetime import datetime, timedelta
from uuid import UUID

import pytest
from sqlalchemy import func, select

from services.complaints.service import escalations
from services.complaints.store.models import ProcessedEvent
from services.shared.events.envelope import Envelope, wrap
from services.shared.events.escalations import Assignee, EscalationBreached, EscalationRaised, EscalationRouted
from services.shared.events.fields import Tier
from services.shared.intake import apply_once
from services.shared.principal import Role


@pytest.fixture
def api(api_per_database):
    return api_per_database


def routed(complaint: dict, staff_id: str | None, tier: Tier, at: datetime) -> Envelope:
    event = EscalationRouted(
        complaint_id=complaint["id"], store_id=complaint["store_id"], region_id=complaint["region_id"],
        assignee=Assignee(tier=tier, staff_id=staff_id), acknowledge_by=at + timedelta(minutes=15),
        resolve_by=at + timedelta(hours=4), reason="severity medium → associate", at=at,
    )
    return wrap(event, source="/services/escalation", time=at)


def raised(complaint: dict, staff_id: str | None, tier: Tier, at: datetime) -> Envelope:
    event = EscalationRaised(
        complaint_id=complaint["id"], store_id=complaint["store_id"], region_id=complaint["region_id"],
        from_tier=Tier.associate, assignee=Assignee(tier=tier, staff_id=staff_id),
        acknowledge_by=at + timedelta(minutes=15), resolve_by=at + timedelta(hours=4),
        reason="acknowledge deadline passed at tier associate", at=at,
    )
    return wrap(event, source="/services/escalation", time=at)


async def apply(api, envelope: Envelope) -> bool:
    return await apply_once(api.app.state.sessions, ProcessedEvent, envelope, envelope.time, escalations.effects())


async def shown(api, complaint_id: str) -> dict:
    response = await api.client.get(f"/v1/complaints/{complaint_id}", headers=api.token(Role.senior_manager, sub="sm-1"))
    assert response.status_code == 200, response.text
    return response.json()


def holder(complaint: dict) -> tuple:
    return complaint["assignee"], complaint["assignee_role"], complaint["acknowledge_by"] is not None


async def test_a_complaint_takes_its_routing_and_then_its_raise_each_event_once(api):
    complaint = (await api.file()).json()
    filed_at = datetime.fromisoformat(complaint["created_at"])
    first = routed(complaint, "emp-7001", Tier.associate, filed_at)
    assert await apply(api, first) is True
    seen = await shown(api, complaint["id"])
    assert holder(seen) == ("emp-7001", "associate", True)
    assert datetime.fromisoformat(seen["resolve_by"]) == filed_at + timedelta(hours=4)

    later = filed_at + timedelta(minutes=16)
    assert await apply(api, raised(complaint, None, Tier.regional_coordinator, later)) is True
    assert await apply(api, first) is False, "a replay is applied once"
    assert holder(await shown(api, complaint["id"])) == (None, "regional_coordinator", True)
    queue = await api.client.get("/v1/complaints", params={"tier": "regional_coordinator"},
                                 headers=api.token(Role.regional_coordinator, sub="rc-7001"))
    assert complaint["id"] in {item["id"] for item in queue.json()["items"]}

    await api.resolve(complaint["id"])
    reopened = await api.client.post(f"/v1/complaints/{complaint['id']}/reopen", json={},
                                     headers=api.token(Role.associate))
    assert reopened.status_code == 200, reopened.text
    assert (reopened.json()["assignee_role"], reopened.json()["resolve_by"]) == ("regional_coordinator", None)
    assert [(step["event"], step["tier"], step["assignee"]) for step in reopened.json()["history"]] == [
        ("complaint.filed", None, None),
        ("escalation.routed", "associate", "emp-7001"),
        ("complaint.resolved", None, None),
        ("complaint.reopened", None, None),
        ("escalation.raised", "regional_coordinator", None),
    ], "each move once, in the order of their times (the raise is dated 16 minutes after filing: after the rest here)"
    raise_step = reopened.json()["history"][-1]
    assert (raise_step["reason"], raise_step["by"]) == ("acknowledge deadline passed at tier associate", None)


async def test_an_assignment_by_hand_stands_against_an_earlier_move_and_yields_to_a_later_one(api):
    complaint = (await api.file()).json()
    filed_at = datetime.fromisoformat(complaint["created_at"])
    assigned = await api.client.post(f"/v1/complaints/{complaint['id']}/assign", headers=api.token(Role.store_manager),
                                     json={"assignee": "emp-7002", "assignee_role": "associate"})
    assert assigned.status_code == 200, assigned.text
    assert assigned.json()["acknowledge_by"] is None

    assert await apply(api, routed(complaint, "emp-7001", Tier.associate, filed_at)) is True
    assert holder(await shown(api, complaint["id"])) == ("emp-7002", "associate", False)
    assert await apply(api, raised(complaint, "crd-7001", Tier.coordinator, filed_at + timedelta(days=1))) is True
    seen = await shown(api, complaint["id"])
    assert holder(seen) == ("crd-7001", "coordinator", False), "acknowledged stays so"
    assert [(step["event"], step["assignee"]) for step in seen["history"]] == [
        ("complaint.filed", None), ("escalation.routed", "emp-7001"),
        ("complaint.assigned", "emp-7002"), ("escalation.raised", "crd-7001"),
    ], "the routing the assignment overtook is still part of the timeline, at the time it was made"


async def test_a_page_or_breach_moves_nothing_and_an_unknown_complaint_is_skipped(api):
    complaint = (await api.file()).json()
    at = datetime.fromisoformat(complaint["created_at"])
    breach = EscalationBreached(
        complaint_id=complaint["id"], store_id=complaint["store_id"], region_id=complaint["region_id"],
        tier=Tier.associate, deadline_kind="acknowledge", deadline=at, at=at,
    )
    assert await apply(api, wrap(breach, source="/services/escalation", time=at)) is False
    unknown = routed({**complaint, "id": UUID(int=7)}, "emp-7001", Tier.associate, at)
    assert await apply(api, unknown) is True
    assert await apply(api, unknown) is False
    assert holder(await shown(api, complaint["id"])) == (None, None, False)
    async with api.app.state.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ProcessedEvent).where(
            ProcessedEvent.event_id == unknown.id)) == 1
