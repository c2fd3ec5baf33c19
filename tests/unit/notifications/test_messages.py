"""What a notification says: what happened, where and why it reaches the person, in plain English and
with ids only; an acknowledge link on the kinds that ask for acknowledgement and on no other; a text
message short enough for one SMS besides the link; follow-ups of a page that say why they come."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest

from services.notifications.domain.addressing import Notice, notice
from services.notifications.domain.messages import ACKNOWLEDGED, SHORT, URGENT, Kind, message
from services.shared.delivery.channels import Message
from services.shared.events import coordination, escalations, scheduling

COMPLAINT = UUID("0c6f8e1e-6a0b-4b43-9d0e-2f1f4f6f1a01")
AT = datetime(2026, 11, 23, 9, 15, 1, tzinfo=UTC)
EXPIRES = AT + timedelta(hours=2)
LINK = "https://notifications.chain.example/v1/acknowledgements/9b1f3c1e-2d4a-4f6b-8c7d-0e1f2a3b4c5d.1795432501.c2ln"
EVENTS = (*escalations.EVENTS, *coordination.EVENTS, *scheduling.EVENTS)


def example(event_class, **changes):
    return event_class.model_validate({**event_class.model_json_schema()["examples"][0], **changes})


def page(about: str = "severity critical", step: int = 0, **changes) -> Message:
    fields = {"store_id": "hel-kamppi", "region_id": "uusimaa", "complaint_id": COMPLAINT, "about": about, "at": AT,
              "acknowledge_url": LINK, "expires_at": EXPIRES, "step": step}
    return message(Kind.page, **{**fields, **changes})


def said(told: Notice, step: int = 0) -> Message:
    """The message of a notice, with a link when its kind asks for one, as the sender makes it."""
    acknowledged = told.kind in ACKNOWLEDGED
    return message(told.kind, store_id=told.store_id, region_id=told.region_id, complaint_id=told.complaint_id,
                   about=told.about, at=told.at, acknowledge_url=LINK if acknowledged else None,
                   expires_at=EXPIRES if acknowledged else None, step=step)


def every_notice() -> list[Notice]:
    return [told for event_class in EVENTS if (told := notice(example(event_class))) is not None]


def gist(short: str) -> str:
    return short.removesuffix(f" {LINK}")


# ---- escalations ---------------------------------------------------------------------------


def test_a_page_says_where_why_and_how_to_acknowledge():
    paged = page()
    assert paged.subject == "Page: complaint at hel-kamppi needs you now (severity critical)"
    assert paged.body.startswith(
        "A complaint at hel-kamppi (region uusimaa) was escalated to you at 2026-11-23 09:15 UTC: severity critical.\n"
    )
    assert f"Complaint: {COMPLAINT}" in paged.body
    assert f"\n{LINK}\n" in paged.body  # on a line of its own, so that mail clients keep it whole
    assert "works once, until 2026-11-23 11:15 UTC" in paged.body
    assert paged.short == f"{paged.subject} {LINK}"


def test_a_tier_raise_says_it_was_raised_to_the_person():
    raised = said(notice(example(escalations.EscalationRaised)))
    assert raised.subject == "Complaint at hel-kamppi raised to you (acknowledge deadline passed at tier associate)"
    assert "was raised to you at 2026-11-23 09:30 UTC" in raised.body
    assert str(COMPLAINT) in raised.body and LINK in raised.body


def test_an_assignment_says_the_complaint_was_routed_to_the_person():
    assigned = said(notice(example(escalations.EscalationRouted)))
    assert assigned.subject == "Complaint at hel-kamppi assigned to you (mood angry: store manager)"
    assert "was routed to you at 2026-11-23 09:15 UTC: mood angry: store manager." in assigned.body
    assert str(COMPLAINT) in assigned.body and LINK in assigned.body


def test_times_are_shown_in_utc_whatever_zone_they_come_in():
    helsinki = AT.astimezone(ZoneInfo("Europe/Helsinki"))
    assert "at 2026-11-23 09:15 UTC" in page(at=helsinki).body


# ---- follow-ups of an unacknowledged page ----------------------------------------------------


def test_the_first_follow_up_reminds_the_person_that_the_page_is_not_acknowledged():
    reminder = page(step=1)
    assert reminder.subject == "Reminder: page for complaint at hel-kamppi not acknowledged yet (severity critical)"
    assert reminder.body.startswith(
        "Reminder: a complaint at hel-kamppi (region uusimaa) was escalated to you at 2026-11-23 09:15 UTC and is not "
        "acknowledged yet: severity critical."
    )
    assert LINK in reminder.body and reminder.short.endswith(LINK)


@pytest.mark.parametrize("step", [2, 3, 7])
def test_later_follow_ups_tell_the_next_tier_that_the_one_below_did_not_acknowledge(step):
    upward = page(step=step)
    assert upward.subject == "Page: complaint at hel-kamppi comes to you, not acknowledged below (severity critical)"
    assert "The person on duty at the tier below yours did not acknowledge it; it comes to you." in upward.body
    assert "escalated to you" not in upward.body
    assert str(COMPLAINT) in upward.body and LINK in upward.body and upward.short.endswith(LINK)


@pytest.mark.parametrize("kind", sorted(set(Kind) - {Kind.page}))
def test_only_a_page_has_follow_ups(kind):
    told = next(told for told in every_notice() if told.kind == kind)
    with pytest.raises(ValueError, match="only a page has"):
        said(told, step=1)


def test_a_step_before_the_first_message_is_refused():
    with pytest.raises(ValueError, match="step -1"):
        page(step=-1)


# ---- coordination and training ------------------------------------------------------------


def test_a_policy_proposal_names_its_region_and_title_but_not_its_argument_or_author():
    proposed = example(coordination.PolicyProposed)
    told = said(notice(proposed))
    assert told.subject == f"Policy proposal from region uusimaa: {proposed.title}"
    assert "accept or reject it, on the region's board" in told.body
    assert proposed.proposal not in told.body and proposed.by not in told.body


def test_a_policy_decision_names_the_proposal_and_the_decision_but_not_its_rationale_or_author():
    decided = example(coordination.PolicyDecided)
    told = said(notice(decided))
    assert told.subject == f"Policy decision for region uusimaa: proposal {decided.proposal_id} accepted"
    assert decided.rationale not in told.body and decided.by not in told.body


def test_a_training_proposal_asks_the_manager_to_confirm_or_dismiss_it():
    told = said(notice(example(scheduling.TrainingProposed)))
    assert told.subject.startswith("Training proposed for hel-kamppi: register training for billing and register")
    assert "Confirm or dismiss it" in told.body


def test_a_scheduled_training_says_what_and_when():
    told = said(notice(example(scheduling.TrainingScheduled)))
    assert told.subject == "Training at hel-kamppi: returns training on 2026-11-26 07:00 UTC"
    assert told.body.startswith(
        "You are on a training session at hel-kamppi (region uusimaa): returns training on 2026-11-26 07:00 UTC."
    )


def test_a_cancelled_training_names_the_session():
    told = said(notice(example(scheduling.TrainingCancelled)))
    session = "5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d"
    assert told.subject == f"Training cancelled at hel-kamppi: returns training, session {session}"
    assert "was cancelled at 2026-11-25 12:00 UTC" in told.body


# ---- what every message holds and what none does -------------------------------------------


@pytest.mark.parametrize("told", every_notice(), ids=lambda told: told.kind)
def test_an_acknowledge_link_on_the_kinds_that_ask_for_acknowledgement_only(told):
    sent = said(told)
    carries = [LINK in sent.body, sent.short.endswith(f" {LINK}"), "Acknowledge it" in sent.body]
    assert carries == [told.kind in ACKNOWLEDGED] * 3
    assert LINK not in sent.subject


@pytest.mark.parametrize("kind", sorted(ACKNOWLEDGED))
@pytest.mark.parametrize("missing", ["acknowledge_url", "expires_at", "complaint_id"])
def test_a_kind_that_asks_for_acknowledgement_is_refused_without_its_link(kind, missing):
    with pytest.raises(ValueError, match="needs its complaint id, acknowledge link"):
        message(kind, store_id="hel-kamppi", region_id="uusimaa", about="severity critical", at=AT,
                **{"complaint_id": COMPLAINT, "acknowledge_url": LINK, "expires_at": EXPIRES, missing: None})


@pytest.mark.parametrize("told", [told for told in every_notice() if told.kind not in ACKNOWLEDGED],
                         ids=lambda told: told.kind)
def test_any_other_kind_is_refused_a_link(told):
    with pytest.raises(ValueError, match="carries no acknowledge link"):
        message(told.kind, store_id=told.store_id, region_id=told.region_id, complaint_id=None, about=told.about,
                at=told.at, acknowledge_url=LINK, expires_at=EXPIRES)


def test_a_store_kind_is_refused_without_its_store():
    with pytest.raises(ValueError, match="needs its store id"):
        page(store_id=None)


@pytest.mark.parametrize("told", every_notice(), ids=lambda told: told.kind)
@pytest.mark.parametrize("length", [None, 500])
def test_the_text_message_fits_one_sms_besides_the_link_and_the_body_keeps_everything(told, length):
    if length is not None:
        told = replace(told, about="why " * (length // 4))
    sent = said(told)
    assert len(gist(sent.short)) <= SHORT
    assert sent.subject == gist(sent.short)
    assert told.about in sent.body
    if length is not None:
        assert sent.subject.endswith("…)") or sent.subject.endswith("…")


def test_a_short_reason_is_never_cut():
    reason = "severity critical; no store manager on duty: the coordinator in charge"
    assert f"({reason})" in page(reason).short


@pytest.mark.parametrize("event_class", EVENTS, ids=lambda event_class: event_class.__name__)
def test_no_message_names_a_person_or_carries_free_text_beyond_the_events_reason_or_title(event_class):
    event = example(event_class)
    told = notice(event)
    if told is None:
        return
    named = [getattr(event, name, None) for name in ("by", "trainer", "staff_id", "coach")]
    named += [getattr(getattr(event, name, None), "staff_id", None) for name in ("assignee", "recipient")]
    named += [*getattr(event, "trainees", []), *getattr(event, "staff_ids", [])]
    people = {person for person in named if person}
    free_text = {getattr(event, name) for name in ("proposal", "rationale") if hasattr(event, name)}
    for step in (0, 1, 2) if told.kind == Kind.page else (0,):
        sent = said(told, step)
        for text in (sent.subject, sent.body, sent.short):
            assert not any(person in text for person in people | free_text), text
            assert "@" not in text.replace(LINK, "")


def test_only_a_page_is_urgent_and_only_escalations_ask_for_acknowledgement():
    assert URGENT == {Kind.page}
    assert ACKNOWLEDGED == {Kind.page, Kind.tier_raise, Kind.assignment}
