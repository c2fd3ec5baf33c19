"""The pure rules of training: programmes and their skills, who may take part in a session, what a
person's training came to, when a promotion is briefed, and which complaints a role-play plays."""

from datetime import UTC, date, datetime, timedelta
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest

from services.scheduling.api.schemas import SKILLS
from services.scheduling.domain.training import (
    PROGRAMMES, Booking, DoubleBooked, EnrolmentStatus, NotOnShift, OnShift, ResolvedComplaint, SessionFull, SessionStatus,
    TrainingStatus, check_place, check_room, check_session_times, is_new_hire, pick_scenarios, plan_briefing, sees_training,
    training_status,
)
from services.shared.errors import InvalidField
from services.shared.events.complaints import Category, Channel, Mood, Outcome, Severity, Technique
from services.shared.events.fields import Tier
from services.shared.events.scheduling import TrainingKind
from services.shared.principal import Principal, Role

HELSINKI = ZoneInfo("Europe/Helsinki")
HALF_HOUR = timedelta(minutes=30)


def local(*args) -> datetime:
    return datetime(*args, tzinfo=HELSINKI)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_every_programme_grants_directory_skills_and_onboarding_none():
    assert set(PROGRAMMES) == set(TrainingKind)
    assert all(set(p.skills) <= set(SKILLS) for p in PROGRAMMES.values())
    register = ("register_cash", "register_credit", "register_debit", "register_gift_card")
    assert PROGRAMMES[TrainingKind.register].skills == register
    assert PROGRAMMES[TrainingKind.returns].skills == ("returns_exchanges",)
    assert PROGRAMMES[TrainingKind.de_escalation_role_play].skills == ("de_escalation",)
    assert PROGRAMMES[TrainingKind.promotions_briefing].skills == ("promotions",)
    assert PROGRAMMES[TrainingKind.onboarding].skills == ()


@pytest.mark.parametrize(("session", "enrolment", "status"), [
    (SessionStatus.scheduled, EnrolmentStatus.enrolled, TrainingStatus.enrolled),
    (SessionStatus.scheduled, EnrolmentStatus.attended, TrainingStatus.attended),
    (SessionStatus.scheduled, EnrolmentStatus.absent, TrainingStatus.absent),
    (SessionStatus.completed, EnrolmentStatus.attended, TrainingStatus.completed),
    (SessionStatus.completed, EnrolmentStatus.absent, TrainingStatus.absent),
    (SessionStatus.cancelled, EnrolmentStatus.attended, TrainingStatus.cancelled),
])
def test_what_a_persons_place_in_a_session_came_to(session, enrolment, status):
    assert training_status(session, enrolment) is status


@pytest.mark.parametrize(("start", "end", "field"), [
    (utc(2027, 3, 2, 10), utc(2027, 3, 2, 9), "ends_at"),
    (utc(2027, 3, 2, 10), utc(2027, 3, 2, 10), "ends_at"),
    (utc(2027, 3, 1, 5), utc(2027, 3, 1, 7), "starts_at"),
])
def test_session_times_are_checked(start, end, field):
    with pytest.raises(InvalidField) as refused:
        check_session_times(start, end, utc(2027, 3, 1, 6))
    assert refused.value.field == field


def place(shifts, bookings=(), start=local(2027, 3, 2, 10), end=local(2027, 3, 2, 11)) -> None:
    check_place(field="staff_ids", staff_id="emp-1", site_id="hel-kamppi", zone=HELSINKI, start=start, end=end,
                shifts=shifts, bookings=bookings)


def test_a_session_lies_inside_a_shift_of_the_person_at_its_site():
    whole_day = OnShift("emp-1", Tier.associate, local(2027, 3, 2, 9), local(2027, 3, 2, 17))
    place([whole_day])
    place([OnShift("emp-1", Tier.associate, local(2027, 3, 2, 10), local(2027, 3, 2, 11))])  # exactly the shift
    with pytest.raises(NotOnShift) as refused:
        place([OnShift("emp-1", Tier.associate, local(2027, 3, 2, 10, 30), local(2027, 3, 2, 17))])
    assert refused.value.field == "staff_ids"
    assert "covering Tue 2027-03-02 10:00–11:00 (Europe/Helsinki)" in str(refused.value)
    with pytest.raises(NotOnShift):
        place([])


def test_nobody_is_in_two_sessions_at_once_but_back_to_back_is_fine():
    shift = [OnShift("emp-1", Tier.associate, local(2027, 3, 2, 9), local(2027, 3, 2, 17))]
    before = Booking(uuid4(), local(2027, 3, 2, 9), local(2027, 3, 2, 10))
    after = Booking(uuid4(), local(2027, 3, 2, 11), local(2027, 3, 2, 12))
    place(shift, [before, after])
    overlapping = Booking(uuid4(), local(2027, 3, 2, 10, 30), local(2027, 3, 2, 11, 30))
    with pytest.raises(DoubleBooked) as refused:
        place(shift, [before, overlapping])
    assert str(overlapping.session_id) in str(refused.value)


def test_capacity():
    session = uuid4()
    check_room(session, 3, 1, 2)
    with pytest.raises(SessionFull) as refused:
        check_room(session, 3, 2, 2)
    assert "capacity 3, 2 enrolled, 2 more asked" in str(refused.value)


def test_a_new_hire_is_one_added_within_a_month_of_their_hire_date():
    assert is_new_hire(date(2027, 3, 15), date(2027, 3, 1))  # hired ahead of their start
    assert is_new_hire(date(2027, 1, 30), date(2027, 3, 1))
    assert not is_new_hire(date(2024, 1, 15), date(2027, 3, 1))


@pytest.mark.parametrize(("who", "sees"), [
    (Principal(sub="emp-1", role=Role.associate, region_id="uusimaa", store_id="hel-kamppi"), True),
    (Principal(sub="emp-2", role=Role.associate, region_id="uusimaa", store_id="hel-kamppi"), False),
    (Principal(sub="mgr-1", role=Role.store_manager, region_id="uusimaa", store_id="hel-kamppi"), True),
    (Principal(sub="mgr-2", role=Role.store_manager, region_id="uusimaa", store_id="esp-iso-omena"), False),
    (Principal(sub="rc-1", role=Role.regional_coordinator, region_id="uusimaa"), True),
    (Principal(sub="rc-2", role=Role.regional_coordinator, region_id="pirkanmaa"), False),
    (Principal(sub="sm-1", role=Role.senior_manager), True),
    (Principal(sub="svc-notify", role=Role.service), True),
    (Principal(sub="ops-1", role=Role.ops), False),
])
def test_who_sees_a_persons_training(who, sees):
    assert sees_training(who, "emp-1", "hel-kamppi", "uusimaa") is sees


def shift(staff: str, tier: Tier, start: datetime, end: datetime) -> OnShift:
    return OnShift(staff, tier, start, end)


def brief(shifts, busy=None, now=utc(2027, 3, 1, 6)):
    return plan_briefing(starts_on=date(2027, 3, 8), zone=HELSINKI, shifts=shifts, busy=busy or {}, now=now, length=HALF_HOUR,
                         lookback_days=7)


SATURDAY = [
    shift("mgr-1", Tier.store_manager, local(2027, 3, 6, 10), local(2027, 3, 6, 18)),
    shift("emp-1", Tier.associate, local(2027, 3, 6, 12), local(2027, 3, 6, 20)),
    shift("emp-2", Tier.associate, local(2027, 3, 6, 9), local(2027, 3, 6, 13)),
]


def test_a_briefing_is_on_the_last_day_with_a_manager_when_most_staff_are_on_shift():
    sunday_without_manager = shift("emp-1", Tier.associate, local(2027, 3, 7, 10), local(2027, 3, 7, 18))
    friday = [shift("mgr-2", Tier.store_manager, local(2027, 3, 5, 9), local(2027, 3, 5, 17)),
              shift("emp-3", Tier.associate, local(2027, 3, 5, 9), local(2027, 3, 5, 17))]
    briefing = brief([*friday, *SATURDAY, sunday_without_manager])
    assert (briefing.starts_at, briefing.ends_at) == (local(2027, 3, 6, 12), local(2027, 3, 6, 12, 30))
    assert briefing.trainer == "mgr-1" and briefing.attendees == ("emp-1", "emp-2")


def test_the_earlier_time_wins_a_tie_and_those_busy_then_are_left_out():
    busy = {"emp-1": [(local(2027, 3, 6, 12), local(2027, 3, 6, 13))]}
    briefing = brief(SATURDAY, busy)
    assert briefing.starts_at == local(2027, 3, 6, 10) and briefing.attendees == ("emp-2",)


def test_no_briefing_without_a_manager_with_staff_or_time_left_before_the_start():
    assert brief([shift("emp-1", Tier.associate, local(2027, 3, 6, 10), local(2027, 3, 6, 18))]) is None
    assert brief([shift("mgr-1", Tier.store_manager, local(2027, 3, 6, 10), local(2027, 3, 6, 18))]) is None
    regional = shift("rc-1", Tier.regional_coordinator, local(2027, 3, 6, 8), local(2027, 3, 6, 20))
    assert brief([SATURDAY[0], regional]) is None  # the region's coordinator is not the site's staff
    assert brief(SATURDAY, now=local(2027, 3, 6, 12, 1)) is None
    assert brief([*SATURDAY, shift("emp-9", Tier.associate, local(2027, 2, 27, 9), local(2027, 2, 27, 17))]) is not None


def resolved(mood: Mood, severity: Severity, category=Category.service, day: int = 1) -> ResolvedComplaint:
    return ResolvedComplaint(category, severity, mood, Channel.in_store, Technique.defuse, Outcome.apology, utc(2027, 2, day))


def test_role_play_plays_the_hardest_situations_first_each_once():
    calm = resolved(Mood.calm, Severity.critical)
    hostile_old, hostile_new = resolved(Mood.hostile, Severity.low, day=1), resolved(Mood.hostile, Severity.low, day=9)
    angry_high = resolved(Mood.angry, Severity.high)
    angry_high_billing = resolved(Mood.angry, Severity.high, Category.billing_transaction)
    picked = pick_scenarios([calm, hostile_old, angry_high, hostile_new, angry_high_billing], 4)
    assert picked[0] is hostile_new  # the latest of the same situation
    assert set(picked[1:3]) == {angry_high, angry_high_billing} and picked[3] is calm
    assert pick_scenarios([calm, hostile_old], 1) == [hostile_old]
    assert pick_scenarios([], 5) == []
