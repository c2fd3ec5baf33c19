"""Satisfaction and loss-prevention reports: the numbers a reader sees for the windows of a range, after real events
were counted into a store's totals and their changes into the windows, as the analytics worker does."""

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID

import pytest

from services.analytics.domain.reports import (
    Csat, Duration, LossPrevention, Satisfaction, Sums, loss_prevention, satisfaction,
)
from services.analytics.domain.signals import SignalRules
from services.analytics.domain.totals import StoreTotals, count
from services.analytics.domain.windows import Granularity, Window, WindowRules, start_of
from services.shared.events import complaints as c
from services.shared.events import escalations as e
from services.shared.events import returns as r
from services.shared.events.envelope import Event, wrap
from services.shared.topics import COMPLAINTS, ESCALATIONS, RETURNS
from tests.support.builders import example

ZONE = WindowRules().timezone
FILED = datetime(2026, 11, 23, 9, 15, tzinfo=UTC)  # when the contracts' example complaint is filed
NINE, TEN = datetime(2026, 11, 23, 9, tzinfo=UTC), datetime(2026, 11, 23, 10, tzinfo=UTC)
KAMPPI, SELLO = "hel-kamppi", "esp-sello"
TOPICS = {event_class: topic.name for topic in (COMPLAINTS, ESCALATIONS, RETURNS) for event_class in topic.events}
NO_DURATION = Duration(count=0, mean_seconds=None, p50_within_seconds=None, p90_within_seconds=None)

E = TypeVar("E", bound=Event)


def complaint(n: int) -> UUID:
    return UUID(int=n)


def filed(n: int = 1, **changes: Any) -> c.ComplaintFiled:
    return example(c.ComplaintFiled, **{"complaint_id": complaint(n), "filed_at": FILED, **changes})


def acknowledged(n: int, after: timedelta, **changes: Any) -> c.ComplaintAcknowledged:
    return example(c.ComplaintAcknowledged, complaint_id=complaint(n), at=FILED + after, **changes)


def resolved(n: int, after: timedelta, **changes: Any) -> c.ComplaintResolved:
    return example(c.ComplaintResolved, complaint_id=complaint(n), at=FILED + after, **changes)


def at(event_class: type[E], after: timedelta = timedelta(minutes=5), **changes: Any) -> E:
    """The example event, happening `after` the example complaint was filed."""
    return example(event_class, at=FILED + after, **changes)


def happened(event: Event) -> datetime:
    return event.filed_at if isinstance(event, c.ComplaintFiled) else event.at  # type: ignore[attr-defined]


Windows = dict[tuple[str, Granularity, datetime], Window]


def windows(*events: Event) -> Windows:
    """Each store's hourly and daily windows, by store, granularity and start, after counting the events in order
    as the worker does: into the store's totals (which also raise loss-prevention signals on a return event), and
    the changes counting made into the windows of the time the event happened, each event at its topic's next
    offset. The windows are stored as JSON and read back, as the reports API reads them."""
    totals: dict[str, StoreTotals] = defaultdict(StoreTotals)
    found: Windows = defaultdict(Window)
    for offset, event in enumerate(events):
        store, position = totals[event.store_id], (TOPICS[type(event)], offset)
        envelope = wrap(event, source="/tests", time=happened(event))
        assert count(store, envelope, position), f"{event} was not counted"
        if isinstance(event, r.ReturnEvent):
            store.signals(event.region_id, event.store_id, envelope.time, SignalRules())
        changes = store.take_changes()
        for granularity in Granularity:
            window = found[event.store_id, granularity, start_of(envelope.time, granularity, ZONE)]
            assert window.record(changes, position)
    return {key: Window.model_validate_json(window.model_dump_json()) for key, window in found.items()}


def hours(found: Windows, *starts: datetime, stores: tuple[str, ...] = (KAMPPI, SELLO)) -> list[Window]:
    """The hourly windows of the stores, of the hours starting at `starts` (every hour when none are given)."""
    return [window for (store, granularity, start), window in found.items()
            if granularity is Granularity.hour and store in stores and (not starts or start in starts)]


def days(found: Windows) -> list[Window]:
    return [window for (_, granularity, _), window in found.items() if granularity is Granularity.day]


def satisfied(*events: Event) -> Satisfaction:
    """The satisfaction report of every hour of the events."""
    return satisfaction(Sums(hours(windows(*events))))


def losses(*events: Event) -> LossPrevention:
    """The loss-prevention report of every hour of the events."""
    return loss_prevention(Sums(hours(windows(*events))))


# ---- nothing to report -------------------------------------------------------------------------


def test_a_report_of_no_windows_counts_nothing_and_has_no_rates():
    assert satisfaction(Sums([])) == Satisfaction(
        complaints_filed=0, by_category={}, by_channel={}, by_severity={}, by_mood={},
        acknowledged=0, resolved=0, first_contact_resolution_rate=None, reopened=0, reopen_rate=None,
        resolution_steps={}, reopened_by_resolution_step={},
        csat=Csat(surveys_issued=0, answers=0, response_rate=None, mean=None,
                  distribution={"1": 0, "2": 0, "3": 0, "4": 0, "5": 0}),
        time_to_acknowledge=NO_DURATION, time_to_resolve=NO_DURATION,
        routed_by_tier={}, escalation_rate_by_tier={}, raised_by_tier={}, sla_breaches_by_tier={}, sla_breach_rate=None,
        pages=0,
    )
    assert loss_prevention(Sums([])) == LossPrevention(
        return_requests=0, by_kind={}, by_tender={}, without_receipt=0, no_receipt_share=None, decisions={},
        value_euros=0.0, value_euros_by_tender={}, policy_exceptions=0, policy_exception_rate=None,
        policy_exception_value_euros=0.0, exceptions_by_rule={}, rejections_by_rule={}, declines_by_reason={},
        signals_raised={},
        signals_by_training={"completed": 0, "not_completed": 0},
    )


def test_a_satisfaction_report_of_loss_prevention_events_only_counts_nothing():
    events = [at(r.ReturnRequested), at(r.ReturnApproved), at(r.ReturnRejected), at(r.ReturnExceptionGranted)]
    assert satisfied(*events) == satisfaction(Sums([]))


def test_a_loss_prevention_report_of_complaints_and_escalations_only_counts_nothing():
    events = [
        filed(), acknowledged(1, timedelta(minutes=2)), resolved(1, timedelta(minutes=25)), at(e.EscalationRouted),
    ]
    assert losses(*events) == loss_prevention(Sums([]))


# ---- satisfaction ------------------------------------------------------------------------------


def test_complaints_filed_are_counted_by_category_channel_severity_and_mood():
    report = satisfied(
        filed(1), filed(2),  # return_refund_exchange, in store, high, angry
        filed(3, category="wait_time", channel="phone", severity="low", mood="calm"),
        filed(4, category="wait_time", channel="web", severity="critical", mood="angry"),
    )
    assert report.complaints_filed == 4
    assert report.by_category == {"return_refund_exchange": 2, "wait_time": 2}
    assert report.by_channel == {"in_store": 2, "phone": 1, "web": 1}
    assert report.by_severity == {"critical": 1, "high": 2, "low": 1}
    assert report.by_mood == {"angry": 3, "calm": 1}


def test_first_contact_resolution_and_reopen_rates_are_shares_of_the_resolutions():
    report = satisfied(
        filed(1), filed(2), filed(3),
        resolved(1, timedelta(minutes=20), first_contact=True),
        resolved(2, timedelta(minutes=30), first_contact=True),
        resolved(3, timedelta(minutes=40), first_contact=False),
        example(c.ComplaintReopened, complaint_id=complaint(1), at=FILED + timedelta(hours=2)),
        resolved(1, timedelta(hours=3), first_contact=False),  # resolved again: a second resolution
    )
    assert (report.resolved, report.first_contact_resolution_rate) == (4, 0.5)
    assert (report.reopened, report.reopen_rate) == (1, 0.25)


def test_rates_are_rounded_to_four_places():
    report = satisfied(
        filed(1), filed(2), filed(3),
        resolved(1, timedelta(minutes=20)), resolved(2, timedelta(minutes=30)),
        resolved(3, timedelta(minutes=40), first_contact=False),
    )
    assert report.first_contact_resolution_rate == 0.6667


def test_acknowledgements_are_counted_and_only_the_first_of_a_complaint_is_timed():
    report = satisfied(
        filed(1), filed(2),
        acknowledged(1, timedelta(minutes=2)), acknowledged(1, timedelta(minutes=9), by="mgr-0007"),
        acknowledged(3, timedelta(minutes=1)),  # filed before the worker's history: counted, not timed
    )
    assert report.acknowledged == 3
    assert report.time_to_acknowledge == Duration(count=1, mean_seconds=120.0, p50_within_seconds=300.0,
                                                  p90_within_seconds=300.0)


def test_csat_response_rate_mean_and_distribution_come_from_the_surveys_and_answers():
    report = satisfied(
        *(filed(n) for n in range(1, 5)),
        *(resolved(n, timedelta(minutes=10 * n)) for n in range(1, 5)),  # four surveys issued
        *(at(c.CsatSubmitted, timedelta(hours=1), complaint_id=complaint(n), score=score)
          for n, score in ((1, 2), (2, 4), (3, 5))),
    )
    assert report.csat == Csat(surveys_issued=4, answers=3, response_rate=0.75, mean=3.6667,
                               distribution={"1": 0, "2": 1, "3": 0, "4": 1, "5": 1})


def test_time_to_acknowledge_gives_its_mean_and_the_buckets_its_median_and_90th_percentile_fall_in():
    waits = [timedelta(seconds=s) for s in (30, 45, 60, 120, 240, 300, 600, 1200, 7200)] + [timedelta(days=4)]
    report = satisfied(*(filed(n) for n in range(10)), *(acknowledged(n, wait) for n, wait in enumerate(waits)))
    assert report.time_to_acknowledge == Duration(
        count=10, mean_seconds=35539.5,  # (30 + 45 + 60 + 120 + 240 + 300 + 600 + 1200 + 7200 + 345600) / 10
        p50_within_seconds=300.0,  # the 5th is within 5 minutes
        p90_within_seconds=14400.0,  # the 9th is within 4 hours
    )


def test_a_percentile_beyond_the_last_bucket_is_not_given():
    waits = [timedelta(seconds=10)] * 8 + [timedelta(days=4)] * 2
    report = satisfied(*(filed(n) for n in range(10)), *(acknowledged(n, wait) for n, wait in enumerate(waits)))
    timed = report.time_to_acknowledge
    assert (timed.p50_within_seconds, timed.p90_within_seconds) == (60.0, None)
    slow = satisfied(filed(1), acknowledged(1, timedelta(days=3, seconds=1)))
    assert slow.time_to_acknowledge == Duration(count=1, mean_seconds=259201.0, p50_within_seconds=None,
                                                p90_within_seconds=None)


def test_a_percentile_on_a_bucket_bound_is_within_that_bound():
    waits = [timedelta(minutes=1)] * 9 + [timedelta(minutes=2)]
    report = satisfied(*(filed(n) for n in range(10)), *(acknowledged(n, wait) for n, wait in enumerate(waits)))
    timed = report.time_to_acknowledge
    assert (timed.p50_within_seconds, timed.p90_within_seconds) == (60.0, 60.0)


def test_time_to_resolve_times_the_first_resolution_only():
    report = satisfied(
        filed(1), filed(2),
        resolved(1, timedelta(minutes=25)),
        resolved(2, timedelta(hours=2), first_contact=False),
        example(c.ComplaintReopened, complaint_id=complaint(1), at=FILED + timedelta(days=1)),
        resolved(1, timedelta(days=2), first_contact=False),
    )
    assert report.resolved == 3
    assert report.time_to_resolve == Duration(count=2, mean_seconds=4350.0, p50_within_seconds=1800.0,
                                              p90_within_seconds=14400.0)


def test_escalations_are_counted_by_tier_with_the_escalation_rate_per_complaint_filed():
    report = satisfied(
        *(filed(n) for n in range(1, 5)),
        at(e.EscalationRouted, complaint_id=complaint(1), assignee={"tier": "associate"}),
        at(e.EscalationRouted, complaint_id=complaint(2), assignee={"tier": "associate"}),
        at(e.EscalationRouted, complaint_id=complaint(3)),  # to the store manager
        at(e.EscalationRaised, timedelta(minutes=30), complaint_id=complaint(1)),  # to the coordinator
    )
    assert report.routed_by_tier == {"associate": 2, "store_manager": 1}
    assert report.escalation_rate_by_tier == {"associate": 0.5, "store_manager": 0.25}
    assert report.raised_by_tier == {"coordinator": 1}


def test_the_sla_breach_rate_is_missed_deadlines_per_routing_decision():
    report = satisfied(
        filed(1), filed(2), filed(3),
        *(at(e.EscalationRouted, complaint_id=complaint(n), assignee={"tier": "associate"}) for n in (1, 2, 3)),
        at(e.EscalationBreached, timedelta(minutes=15), complaint_id=complaint(1)),  # associate, acknowledge
        at(e.EscalationBreached, timedelta(hours=4), complaint_id=complaint(1), tier="store_manager",
           deadline_kind="resolve"),
        at(e.EscalationPaged, timedelta(seconds=1), complaint_id=complaint(2)),
    )
    assert report.sla_breaches_by_tier == {"associate": 1, "store_manager": 1}
    assert report.sla_breach_rate == 0.6667
    assert report.pages == 1


def test_a_range_holding_only_later_events_has_counts_but_no_rates_to_divide_by():
    found = windows(
        filed(1), at(e.EscalationRouted, complaint_id=complaint(1)), resolved(1, timedelta(minutes=25)),
        example(c.ComplaintReopened, complaint_id=complaint(1), at=TEN + timedelta(minutes=5)),
        at(c.CsatSubmitted, timedelta(minutes=55), complaint_id=complaint(1), score=4),
        at(e.EscalationBreached, timedelta(minutes=50), complaint_id=complaint(1)),
    )
    report = satisfaction(Sums(hours(found, TEN)))
    assert (report.complaints_filed, report.resolved, report.reopened, report.reopen_rate) == (0, 0, 1, None)
    assert report.first_contact_resolution_rate is None
    assert report.csat == Csat(surveys_issued=0, answers=1, response_rate=None, mean=4.0,
                               distribution={"1": 0, "2": 0, "3": 0, "4": 1, "5": 0})
    assert (report.sla_breaches_by_tier, report.sla_breach_rate) == ({"associate": 1}, None)
    assert (report.routed_by_tier, report.escalation_rate_by_tier) == ({}, {})


def test_routing_without_a_complaint_filed_in_the_range_gives_no_escalation_rate():
    report = satisfied(at(e.EscalationRouted))
    assert (report.routed_by_tier, report.escalation_rate_by_tier) == ({"store_manager": 1}, {})
    assert report.sla_breach_rate == 0.0


# ---- loss prevention ---------------------------------------------------------------------------


def test_return_requests_are_counted_by_kind_and_tender_with_the_share_without_a_receipt():
    report = losses(
        at(r.ReturnRequested),  # a refund to credit without a receipt
        at(r.ReturnRequested, return_id=UUID(int=2)),
        at(r.ReturnRequested, kind="return", tender="cash", receipt_number="R-2026-000123", no_receipt_reason=None),
        at(r.ReturnRequested, kind="exchange", tender="debit", receipt_number="R-2026-000124", no_receipt_reason=None),
    )
    assert report.return_requests == 4
    assert report.by_kind == {"exchange": 1, "refund": 2, "return": 1}
    assert report.by_tender == {"cash": 1, "credit": 2, "debit": 1}
    assert (report.without_receipt, report.no_receipt_share) == (2, 0.5)


def test_decisions_values_exceptions_and_rejections_are_reported():
    report = losses(
        *(at(r.ReturnRequested) for _ in range(4)),
        at(r.ReturnApproved),  # 129.90 refunded to credit
        at(r.ReturnApproved, kind="exchange", tender="debit", amount={"minor_units": 2500}),
        at(r.ReturnRejected, rules=["return_window", "receipt_required"]),  # 45.90 in cash: nothing given back
        at(r.ReturnExceptionGranted),  # 89.90 to a gift card, the return window set aside
    )
    assert report.decisions == {"approved": 2, "exception": 1, "rejected": 1}
    assert report.value_euros == 244.8
    assert report.value_euros_by_tender == {"credit": 129.9, "debit": 25.0, "gift_card": 89.9}
    assert (report.policy_exceptions, report.policy_exception_rate) == (1, 0.25)
    assert report.policy_exception_value_euros == 89.9
    assert report.exceptions_by_rule == {"return_window": 1}
    assert report.rejections_by_rule == {"receipt_required": 1, "return_window": 1}
    assert report.signals_raised == {}


def test_declines_are_reported_as_a_decision_by_reason_and_give_back_nothing():
    report = losses(at(r.ReturnRequested), at(r.ReturnRequested, return_id=UUID(int=2)),
                    at(r.ReturnDeclined), at(r.ReturnDeclined, return_id=UUID(int=2), reason="other"))
    assert report.decisions == {"declined": 2}
    assert report.declines_by_reason == {"item_condition": 1, "other": 1}
    assert report.value_euros == 0


def test_the_steps_resolutions_took_are_reported_with_those_of_the_reopened():
    taken = {"defuse": True, "isolate_core_problem": False, "address_concerns": True}
    report = satisfied(
        filed(1), filed(2), resolved(1, timedelta(minutes=20), steps=taken),
        resolved(2, timedelta(minutes=30), steps={**taken, "address_concerns": False}),
        at(c.ComplaintReopened, timedelta(minutes=40), complaint_id=complaint(1)),
    )
    assert report.resolution_steps == {"address_concerns": 1, "defuse": 2}
    assert report.reopened_by_resolution_step == {"address_concerns": 1, "defuse": 1}


def test_euro_values_add_up_to_the_cent():
    report = losses(
        *(at(r.ReturnApproved, amount={"minor_units": 10}) for _ in range(3)),
        *(at(r.ReturnExceptionGranted, amount={"minor_units": 10}) for _ in range(3)),
    )
    assert (report.value_euros, report.value_euros_by_tender) == (0.6, {"credit": 0.3, "gift_card": 0.3})
    assert report.policy_exception_value_euros == 0.3


def test_exceptions_without_requests_in_the_range_have_no_rate():
    report = losses(at(r.ReturnExceptionGranted, rules=["return_window", "approval_amount"]))
    assert (report.policy_exceptions, report.policy_exception_rate, report.no_receipt_share) == (1, None, None)
    assert report.exceptions_by_rule == {"approval_amount": 1, "return_window": 1}


def requests_by(staff: str, n: int, receipt: bool = True) -> list[r.ReturnRequested]:
    receipt_fields = {"receipt_number": "R-2026-000123", "no_receipt_reason": None} if receipt else {}
    return [at(r.ReturnRequested, requested_by=staff, **receipt_fields) for _ in range(n)]


def test_loss_prevention_signals_raised_are_counted_by_metric():
    report = losses(
        *requests_by("emp-1001", 5), *requests_by("emp-1002", 5), *requests_by("emp-1003", 5),
        *requests_by("emp-1042", 5, receipt=False),  # stands out: none of the peers' returns lack a receipt
        at(r.ReturnExceptionGranted, requested_by="emp-1042"),  # one in five: stands out against none
        at(r.ReturnApproved),  # both still stand out: not raised again
    )
    assert report.signals_raised == {"no_receipt_rate": 1, "policy_exception_rate": 1}
    assert (report.return_requests, report.no_receipt_share, report.policy_exception_rate) == (20, 0.25, 0.05)


# ---- adding windows up -------------------------------------------------------------------------


def test_a_report_of_two_stores_adds_up_their_windows():
    found = windows(
        filed(1), filed(2), acknowledged(1, timedelta(minutes=2)), resolved(1, timedelta(minutes=30)),
        filed(3, store_id=SELLO, category="wait_time"), acknowledged(3, timedelta(minutes=20), store_id=SELLO),
        resolved(3, timedelta(hours=2), store_id=SELLO, first_contact=False),
        at(r.ReturnRequested), at(r.ReturnApproved),
        at(r.ReturnRequested, store_id=SELLO, receipt_number="R-2026-000123", no_receipt_reason=None),
        at(r.ReturnApproved, store_id=SELLO, amount={"minor_units": 1000}),
    )
    kamppi = satisfaction(Sums(hours(found, stores=(KAMPPI,))))
    both = satisfaction(Sums(hours(found)))
    assert (kamppi.complaints_filed, kamppi.resolved, kamppi.first_contact_resolution_rate) == (2, 1, 1.0)
    assert (both.complaints_filed, both.resolved, both.first_contact_resolution_rate) == (3, 2, 0.5)
    assert both.by_category == {"return_refund_exchange": 2, "wait_time": 1}
    assert both.time_to_acknowledge == Duration(count=2, mean_seconds=660.0, p50_within_seconds=300.0,
                                                p90_within_seconds=1800.0)
    assert both.time_to_resolve == Duration(count=2, mean_seconds=4500.0, p50_within_seconds=1800.0,
                                            p90_within_seconds=14400.0)
    assert both.csat.surveys_issued == 2
    returns = loss_prevention(Sums(hours(found)))
    assert (returns.return_requests, returns.without_receipt, returns.no_receipt_share) == (2, 1, 0.5)
    assert (returns.value_euros, returns.value_euros_by_tender) == (139.9, {"credit": 139.9})


def test_a_report_of_two_hours_adds_up_the_hours():
    found = windows(
        filed(1), filed(2), acknowledged(1, timedelta(minutes=2)),  # in the 9 o'clock hour
        acknowledged(2, timedelta(minutes=50)), filed(3, filed_at=TEN + timedelta(minutes=30)),  # in the 10 o'clock one
        at(e.EscalationRouted, complaint_id=complaint(1)),
        at(e.EscalationRouted, timedelta(hours=1), complaint_id=complaint(3)),
    )
    nine, ten, both = (satisfaction(Sums(hours(found, *starts))) for starts in ((NINE,), (TEN,), (NINE, TEN)))
    assert [report.complaints_filed for report in (nine, ten, both)] == [2, 1, 3]
    assert [report.acknowledged for report in (nine, ten, both)] == [1, 1, 2]
    assert [report.time_to_acknowledge.p90_within_seconds for report in (nine, ten, both)] == [300.0, 3600.0, 3600.0]
    assert both.time_to_acknowledge.mean_seconds == 1560.0  # (120 + 3000) / 2
    assert [report.escalation_rate_by_tier for report in (nine, ten, both)] == [
        {"store_manager": 0.5}, {"store_manager": 1.0}, {"store_manager": 0.6667}
    ]


def test_a_days_window_reports_the_same_as_its_hours_added_up():
    events = [
        filed(1), filed(2, mood="calm"), acknowledged(1, timedelta(minutes=2)), resolved(1, timedelta(hours=3)),
        at(c.CsatSubmitted, timedelta(hours=5), score=5), at(e.EscalationRouted), at(e.EscalationBreached),
        at(r.ReturnRequested), at(r.ReturnExceptionGranted, timedelta(hours=6)),
        at(r.ReturnRejected, timedelta(hours=8), rules=["return_window", "receipt_required"]),
    ]
    found = windows(*events)
    assert len(hours(found)) == 5 and len(days(found)) == 1
    assert satisfaction(Sums(days(found))) == satisfaction(Sums(hours(found))) == satisfied(*events)
    assert loss_prevention(Sums(days(found))) == loss_prevention(Sums(hours(found))) == losses(*events)
    assert satisfaction(Sums(days(found))).complaints_filed == 2


@pytest.mark.parametrize("copies", [2, 3])
def test_sums_adds_up_every_window_it_is_given_histograms_included(copies):
    """The reports API passes each window of the range once; Sums itself adds whatever it is given."""
    found = hours(windows(filed(1), acknowledged(1, timedelta(minutes=2)), at(r.ReturnApproved)))
    report, returns = satisfaction(Sums(found * copies)), loss_prevention(Sums(found * copies))
    assert (report.complaints_filed, report.time_to_acknowledge.count, report.time_to_acknowledge.mean_seconds) == (
        copies, copies, 120.0
    )
    assert returns.value_euros == round(129.9 * copies, 2)
