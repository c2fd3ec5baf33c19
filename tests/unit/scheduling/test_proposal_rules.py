"""When complaints call for training: windows of the site's own calendar, the register complaints'
rise above the usual rate, what counts as an escalation, the briefing a problem calls for, and who
was on shift."""

from datetime import UTC, date, datetime
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest

from services.scheduling.domain.proposals import (
    RateRule, ShiftSpan, Window, above_usual_rate, briefing_for, cause_ref, is_escalation, staff_on_shift, window_of,
)
from services.shared.events.complaints import Category
from services.shared.events.escalations import EscalationBreached, EscalationPaged, EscalationRaised, EscalationRouted
from services.shared.events.scheduling import TrainingKind
from tests.support.builders import example

HELSINKI = ZoneInfo("Europe/Helsinki")
RULE = RateRule(window_days=7, rise_factor=2.0, min_count=3, baseline_windows=8)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_a_week_window_is_the_sites_local_week_from_monday():
    monday_night_local = utc(2027, 3, 7, 22, 30)  # Monday 8 March 00:30 in Helsinki
    assert window_of(monday_night_local, HELSINKI, 7) == Window(date(2027, 3, 8), 7)
    assert window_of(monday_night_local, ZoneInfo("UTC"), 7) == Window(date(2027, 3, 1), 7)
    assert window_of(utc(2027, 3, 10, 12), HELSINKI, 1) == Window(date(2027, 3, 10), 1)


def test_a_window_lasts_as_long_as_its_local_days_across_the_clock_change():
    start, end = Window(date(2027, 3, 22), 7).period(HELSINKI)
    assert (start, end) == (utc(2027, 3, 21, 22), utc(2027, 3, 28, 21))  # EET to EEST: an hour shorter


def test_the_windows_before_one_are_one_span_ending_where_it_starts():
    window = Window(date(2027, 3, 8), 7)
    before = window.before(8)
    assert before == Window(date(2027, 1, 11), 56)
    assert before.period(HELSINKI)[1] == window.period(HELSINKI)[0]


def test_a_cause_is_named_by_the_site_and_the_windows_first_day():
    assert cause_ref("hel-kamppi", Window(date(2027, 3, 8), 7)) == "hel-kamppi/2027-03-08"


@pytest.mark.parametrize(("count", "baseline", "called_for"), [
    (3, 0, True),  # a site with no history: the minimum count is enough
    (2, 0, False),  # below the minimum count, however quiet the site usually is
    (5, 16, True),  # 5 > 2 × 2 a window
    (4, 16, False),  # 4 is exactly 2 × 2: not above it
    (10, 80, False),  # a site that always has 10 a week
])
def test_register_training_is_called_for_above_the_usual_rate_and_the_minimum(count, baseline, called_for):
    assert above_usual_rate(count, baseline, RULE) is called_for


def test_an_escalation_is_a_routing_above_the_front_line_a_page_or_a_raise():
    routed = example(EscalationRouted)
    assert is_escalation(routed)  # to the store manager
    assert not is_escalation(example(EscalationRouted, assignee={"tier": "associate", "staff_id": "emp-1042"}))
    assert is_escalation(example(EscalationPaged, page_id=uuid4()))
    assert is_escalation(example(EscalationRaised))
    assert not is_escalation(example(EscalationBreached))  # the raise that follows it counts


@pytest.mark.parametrize(("category", "kind"), [
    (Category.billing_transaction, TrainingKind.register),
    (Category.return_refund_exchange, TrainingKind.returns),
    (Category.promotion_pricing, TrainingKind.promotions_briefing),
    (Category.staff_conduct, TrainingKind.de_escalation_role_play),
    (Category.wait_time, TrainingKind.de_escalation_role_play),
])
def test_a_common_problem_calls_for_the_briefing_of_its_kind(category, kind):
    assert briefing_for(category) is kind


def test_the_staff_on_shift_at_any_of_the_moments_each_once():
    shifts = [
        ShiftSpan("emp-1042", utc(2027, 3, 8, 7), utc(2027, 3, 8, 15)),
        ShiftSpan("emp-1043", utc(2027, 3, 8, 15), utc(2027, 3, 8, 21)),
        ShiftSpan("mgr-0007", utc(2027, 3, 8, 7), utc(2027, 3, 8, 21)),
        ShiftSpan("emp-1042", utc(2027, 3, 9, 7), utc(2027, 3, 9, 15)),
    ]
    assert staff_on_shift(shifts, [utc(2027, 3, 8, 10), utc(2027, 3, 9, 8)]) == ["emp-1042", "mgr-0007"]
    assert staff_on_shift(shifts, [utc(2027, 3, 8, 15)]) == ["emp-1043", "mgr-0007"]  # a shift's end is not in it
    assert staff_on_shift(shifts, [utc(2027, 3, 10, 10)]) == []
