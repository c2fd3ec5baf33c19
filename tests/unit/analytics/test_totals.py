"""A store's running totals for satisfaction and loss prevention: what each complaint, escalation and return
event adds, counted exactly once, and how Prometheus reads them from the worker."""

import math
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from services.analytics.domain.totals import DURATION_BUCKETS, METRICS, RECENT_IDS, Histogram, Series, StoreTotals, count
from services.analytics.metrics import TotalsExposition
from services.shared.events import complaints as c
from services.shared.events import coordination as co
from services.shared.events import escalations as e
from services.shared.events import returns as r
from services.shared.events.envelope import Envelope, Event, wrap
from tests.support.builders import example

EVENTS = (*c.EVENTS, *e.EVENTS, *r.EVENTS)
FILED = datetime(2026, 11, 23, 9, 15, tzinfo=UTC)  # when the contracts' example complaint is filed
KAMPPI, SELLO = "hel-kamppi", "esp-sello"
AT_KAMPPI = {"region": "uusimaa", "store": KAMPPI}
OTHER = UUID(int=2)  # a second complaint at the store


def filed(**changes: Any) -> c.ComplaintFiled:
    return example(c.ComplaintFiled, filed_at=FILED, **changes)


def acknowledged(after: timedelta, **changes: Any) -> c.ComplaintAcknowledged:
    return example(c.ComplaintAcknowledged, at=FILED + after, **changes)


def resolved(after: timedelta, **changes: Any) -> c.ComplaintResolved:
    return example(c.ComplaintResolved, at=FILED + after, **changes)


def day(store: str = KAMPPI) -> list[Event]:
    """One event of every type at `store`, in the contracts' order: a complaint filed, worked, resolved, reopened,
    closed and rated, escalated and paged, and a return requested, approved, rejected and excepted."""
    return [example(event_class, store_id=store) for event_class in EVENTS]


def envelope(event: Event) -> Envelope:
    return wrap(event, source="/tests", time=FILED)


def counted(*events: Event, totals: StoreTotals | None = None) -> StoreTotals:
    """The totals after counting each event, each in its own envelope, as the worker does."""
    totals = StoreTotals() if totals is None else totals
    for event in events:
        assert count(totals, envelope(event)), f"{event} was not counted"
    return totals


def stored(totals: StoreTotals) -> StoreTotals:
    return StoreTotals.model_validate_json(totals.model_dump_json())


def value(totals: StoreTotals, metric: str, **labels: str) -> float:
    """The value of the series with exactly these labels (besides region and store); 0 when never counted."""
    wanted = {**AT_KAMPPI, **labels}
    return sum(series.value for series in totals.series.values() if (series.metric, series.labels) == (metric, wanted))


def labelled(totals: StoreTotals, metric: str) -> list[dict[str, str]]:
    """The label sets the metric has series for."""
    return [series.labels for series in totals.series.values() if series.metric == metric]


def histogram(totals: StoreTotals, metric: str) -> Histogram | None:
    [series] = [series for series in totals.series.values() if series.metric == metric] or [None]
    return series.histogram if series else None


def one_in(bound: float, bounds: tuple[float, ...] = DURATION_BUCKETS) -> list[int]:
    """Per-bucket counts (the last +Inf) of a single observation in the bucket of `bound`."""
    counts = [0] * (len(bounds) + 1)
    counts[[*bounds, math.inf].index(bound)] = 1
    return counts


# ---- complaints --------------------------------------------------------------------------------


def test_a_filed_complaint_is_counted_by_category_channel_severity_and_mood():
    totals = counted(
        filed(),
        filed(complaint_id=OTHER, category="wait_time", channel="phone", severity="low", mood="calm"),
    )
    assert labelled(totals, "retail_complaints_filed") == [
        {**AT_KAMPPI, "category": "return_refund_exchange", "channel": "in_store", "severity": "high", "mood": "angry"},
        {**AT_KAMPPI, "category": "wait_time", "channel": "phone", "severity": "low", "mood": "calm"},
    ]
    assert value(totals, "retail_complaints_filed", category="wait_time", channel="phone", severity="low",
                 mood="calm") == 1


def test_complaints_alike_add_up_in_one_series():
    totals = counted(filed(), filed(complaint_id=OTHER))
    assert value(totals, "retail_complaints_filed", category="return_refund_exchange", channel="in_store",
                 severity="high", mood="angry") == 2


def test_an_acknowledgement_is_counted_and_timed_once_from_filing():
    totals = counted(filed(), acknowledged(timedelta(minutes=2)))
    assert value(totals, "retail_complaints_acknowledged") == 1
    assert histogram(totals, "retail_complaint_acknowledge_seconds") == Histogram(
        buckets=one_in(300.0), sum=120.0, count=1
    )
    counted(acknowledged(timedelta(minutes=30), by="mgr-0007"), totals=totals)
    assert value(totals, "retail_complaints_acknowledged") == 2
    assert histogram(totals, "retail_complaint_acknowledge_seconds") == Histogram(
        buckets=one_in(300.0), sum=120.0, count=1
    )


@pytest.mark.parametrize(
    ("after", "bound"),
    [
        (timedelta(seconds=60), 60.0),
        (timedelta(seconds=61), 300.0),
        (timedelta(days=3), 3 * 24 * 3600.0),
        (timedelta(days=3, seconds=1), math.inf),
    ],
    ids=["on a bound", "just past it", "on the last bound", "past every bound"],
)
def test_a_time_falls_in_the_first_bucket_it_does_not_exceed(after, bound):
    totals = counted(filed(), acknowledged(after))
    assert histogram(totals, "retail_complaint_acknowledge_seconds").buckets == one_in(bound)


def test_an_acknowledgement_stamped_before_its_filing_is_timed_at_zero_seconds():
    totals = counted(filed(), acknowledged(-timedelta(seconds=30)))
    assert histogram(totals, "retail_complaint_acknowledge_seconds") == Histogram(
        buckets=one_in(60.0), sum=0.0, count=1
    )


def test_a_resolution_is_counted_by_first_contact_and_issues_a_csat_survey():
    totals = counted(
        filed(), filed(complaint_id=OTHER),
        resolved(timedelta(minutes=25), first_contact=True),
        resolved(timedelta(hours=2), complaint_id=OTHER, first_contact=False),
    )
    assert labelled(totals, "retail_complaints_resolved") == [
        {**AT_KAMPPI, "first_contact": "true"},
        {**AT_KAMPPI, "first_contact": "false"},
    ]
    assert value(totals, "retail_complaints_resolved", first_contact="true") == 1
    assert value(totals, "retail_complaints_resolved", first_contact="false") == 1
    assert value(totals, "retail_csat_surveys_issued") == 2
    assert histogram(totals, "retail_complaint_resolve_seconds") == Histogram(
        buckets=[0, 0, 0, 1, 0, 1, 0, 0, 0, 0], sum=1500.0 + 7200.0, count=2  # up to 30 minutes, up to 4 hours
    )


def test_a_complaint_reopened_and_resolved_again_counts_two_resolutions_but_times_only_the_first():
    totals = counted(
        filed(),
        resolved(timedelta(minutes=25)),
        example(c.ComplaintReopened, at=FILED + timedelta(days=1)),
        resolved(timedelta(days=2), first_contact=False),
    )
    assert value(totals, "retail_complaints_reopened") == 1
    assert value(totals, "retail_complaints_resolved", first_contact="true") == 1
    assert value(totals, "retail_complaints_resolved", first_contact="false") == 1
    assert value(totals, "retail_csat_surveys_issued") == 2
    assert histogram(totals, "retail_complaint_resolve_seconds") == Histogram(
        buckets=one_in(1800.0), sum=1500.0, count=1
    )


STEPS = ("defuse", "isolate_core_problem", "address_concerns")


def steps(*taken: str) -> dict[str, bool]:
    return {step: step in taken for step in STEPS}


def reopened(after: timedelta, **changes: Any) -> c.ComplaintReopened:
    return example(c.ComplaintReopened, at=FILED + after, **changes)


def test_each_step_a_resolution_took_is_counted_and_every_step_is_exposed_from_the_first():
    totals = counted(
        filed(), filed(complaint_id=OTHER),
        resolved(timedelta(minutes=25), steps=steps("defuse", "isolate_core_problem")),
        resolved(timedelta(hours=2), complaint_id=OTHER, steps=steps("defuse")),
    )
    assert {step: value(totals, "retail_resolution_steps", step=step) for step in STEPS} == {
        "defuse": 2, "isolate_core_problem": 1, "address_concerns": 0
    }
    assert sorted(labels["step"] for labels in labelled(totals, "retail_resolution_steps")) == sorted(STEPS)
    assert sorted(labels["step"] for labels in labelled(totals, "retail_reopened_resolution_steps")) == sorted(STEPS)
    assert all(value(totals, "retail_reopened_resolution_steps", step=step) == 0 for step in STEPS)


def test_a_reopening_counts_the_steps_its_last_resolution_took():
    totals = counted(
        filed(), filed(complaint_id=OTHER),
        resolved(timedelta(minutes=25), steps=steps("defuse")),
        resolved(timedelta(minutes=30), complaint_id=OTHER, steps=steps(*STEPS)),  # never reopened
        reopened(timedelta(days=1)),
        resolved(timedelta(days=2), steps=steps("isolate_core_problem", "address_concerns"), first_contact=False),
        reopened(timedelta(days=3)),
    )
    assert {step: value(totals, "retail_reopened_resolution_steps", step=step) for step in STEPS} == {
        "defuse": 1, "isolate_core_problem": 1, "address_concerns": 1
    }
    assert {step: value(totals, "retail_resolution_steps", step=step) for step in STEPS} == {
        "defuse": 2, "isolate_core_problem": 2, "address_concerns": 2
    }
    assert list(totals.resolved_steps) == [str(OTHER)], "a reopened complaint's steps are counted once"


def test_a_closed_complaint_reopened_counts_its_resolutions_steps_too():
    totals = counted(filed(), resolved(timedelta(minutes=25), steps=steps("address_concerns")),
                     example(c.ComplaintClosed), reopened(timedelta(days=8)))
    assert value(totals, "retail_reopened_resolution_steps", step="address_concerns") == 1


def test_a_resolution_that_recorded_no_steps_counts_none_and_its_reopening_none_either():
    totals = counted(filed(), resolved(timedelta(minutes=25), steps=None), reopened(timedelta(days=1)))
    assert value(totals, "retail_complaints_reopened") == 1
    assert labelled(totals, "retail_resolution_steps") == labelled(totals, "retail_reopened_resolution_steps") == []


def test_a_resolution_without_steps_after_a_reopening_leaves_nothing_to_count_on_the_next():
    totals = counted(
        filed(), resolved(timedelta(minutes=25), steps=steps("defuse")), reopened(timedelta(days=1)),
        resolved(timedelta(days=2), steps=None, first_contact=False), reopened(timedelta(days=3)),
    )
    assert value(totals, "retail_reopened_resolution_steps", step="defuse") == 1


def test_only_the_latest_resolutions_steps_are_kept_for_a_reopening(monkeypatch):
    monkeypatch.setattr("services.analytics.domain.totals.MAX_RESOLVED", 2)
    ids = [UUID(int=n) for n in range(10, 13)]
    totals = counted(*(resolved(timedelta(minutes=n), complaint_id=i, steps=steps("defuse")) for n, i in enumerate(ids)))
    assert list(totals.resolved_steps) == [str(i) for i in ids[1:]]
    counted(reopened(timedelta(days=1), complaint_id=ids[0]), totals=totals)
    assert value(totals, "retail_reopened_resolution_steps", step="defuse") == 0


def test_the_steps_kept_for_a_reopening_survive_storing_the_totals():
    totals = stored(counted(filed(), resolved(timedelta(minutes=25), steps=steps("isolate_core_problem"))))
    counted(reopened(timedelta(days=1)), totals=totals)
    assert value(totals, "retail_reopened_resolution_steps", step="isolate_core_problem") == 1


def test_a_closed_complaint_is_forgotten_so_open_complaints_do_not_pile_up():
    totals = counted(filed(), filed(complaint_id=OTHER))
    assert len(totals.open) == 2
    counted(example(c.ComplaintClosed), totals=totals)
    assert list(totals.open) == [str(OTHER)]


@pytest.mark.parametrize(
    ("later", "counter", "timer"),
    [
        (acknowledged(timedelta(minutes=2)), "retail_complaints_acknowledged", "retail_complaint_acknowledge_seconds"),
        (resolved(timedelta(minutes=25)), "retail_csat_surveys_issued", "retail_complaint_resolve_seconds"),
    ],
    ids=["acknowledged", "resolved"],
)
def test_a_complaint_filed_before_the_workers_history_is_counted_but_not_timed(later, counter, timer):
    totals = counted(later)
    assert value(totals, counter) == 1
    assert histogram(totals, timer) is None


def test_a_complaint_acknowledged_after_it_was_closed_is_counted_but_not_timed():
    totals = counted(filed(), example(c.ComplaintClosed), acknowledged(timedelta(days=8)))
    assert value(totals, "retail_complaints_acknowledged") == 1
    assert histogram(totals, "retail_complaint_acknowledge_seconds") is None


def test_csat_answers_fill_the_score_histogram():
    totals = counted(*(example(c.CsatSubmitted, score=score) for score in (1, 4, 4, 5)))
    assert histogram(totals, "retail_csat_score") == Histogram(buckets=[1, 0, 0, 2, 1, 0], sum=14.0, count=4)


@pytest.mark.parametrize("event_class", [c.ComplaintAssigned, c.ComplaintNoteAdded, c.CustomerErased])
def test_events_that_change_no_total_add_no_series(event_class):
    assert counted(example(event_class)).series == {}


# ---- escalations -------------------------------------------------------------------------------


def test_routing_and_raising_are_counted_by_the_tier_they_go_to():
    totals = counted(
        example(e.EscalationRouted, assignee={"tier": "associate"}),
        example(e.EscalationRouted, complaint_id=OTHER),  # to the store manager
        example(e.EscalationRaised),  # to the coordinator
    )
    assert labelled(totals, "retail_escalations_routed") == [
        {**AT_KAMPPI, "tier": "associate"},
        {**AT_KAMPPI, "tier": "store_manager"},
    ]
    assert labelled(totals, "retail_escalations_raised") == [{**AT_KAMPPI, "tier": "coordinator"}]
    assert value(totals, "retail_escalations_raised", tier="coordinator") == 1


def test_an_sla_breach_is_counted_by_tier_and_deadline():
    totals = counted(
        example(e.EscalationBreached),  # associate, acknowledge
        example(e.EscalationBreached, tier="store_manager", deadline_kind="resolve"),
        example(e.EscalationBreached, complaint_id=OTHER),
    )
    assert value(totals, "retail_sla_breaches", tier="associate", deadline="acknowledge") == 2
    assert value(totals, "retail_sla_breaches", tier="store_manager", deadline="resolve") == 1
    assert len(labelled(totals, "retail_sla_breaches")) == 2


def test_a_page_is_counted_without_who_was_paged():
    totals = counted(example(e.EscalationPaged), example(e.EscalationPaged, recipient={"tier": "coordinator"}))
    assert labelled(totals, "retail_pages") == [AT_KAMPPI]
    assert value(totals, "retail_pages") == 2


# ---- returns -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("receipt_number", "receipt"), [(None, "no"), ("R-2026-000123", "yes")])
def test_a_return_request_is_counted_with_whether_it_had_a_receipt(receipt_number, receipt):
    totals = counted(example(r.ReturnRequested, receipt_number=receipt_number))
    assert labelled(totals, "retail_return_requests") == [
        {**AT_KAMPPI, "kind": "refund", "tender": "credit", "receipt": receipt}
    ]


def test_an_approved_return_is_counted_with_its_value_in_euros():
    totals = counted(
        example(r.ReturnApproved),  # a 129.90 refund to credit
        example(r.ReturnApproved, amount={"minor_units": 1000}),
    )
    assert value(totals, "retail_returns", kind="refund", tender="credit", decision="approved") == 2
    assert value(totals, "retail_returns_value_euros", kind="refund", tender="credit") == pytest.approx(139.90)


def test_a_rejected_return_is_counted_once_per_rule_it_broke_and_gives_back_nothing():
    totals = counted(example(r.ReturnRejected, rules=["return_window", "receipt_required"]))
    assert value(totals, "retail_returns", kind="return", tender="cash", decision="rejected") == 1
    assert value(totals, "retail_return_rejections", rule="return_window") == 1
    assert value(totals, "retail_return_rejections", rule="receipt_required") == 1
    assert labelled(totals, "retail_returns_value_euros") == []


def test_a_policy_exception_counts_its_value_and_each_rule_set_aside():
    totals = counted(example(r.ReturnExceptionGranted, rules=["return_window", "approval_amount"]))  # 89.90
    assert value(totals, "retail_returns", kind="refund", tender="gift_card", decision="exception") == 1
    assert value(totals, "retail_returns_value_euros", kind="refund", tender="gift_card") == pytest.approx(89.90)
    assert value(totals, "retail_policy_exceptions", rule="return_window") == 1
    assert value(totals, "retail_policy_exceptions", rule="approval_amount") == 1
    assert value(totals, "retail_policy_exceptions_value_euros") == pytest.approx(89.90)
    assert labelled(totals, "retail_return_rejections") == []


def test_a_declined_return_is_counted_by_its_reasons_category_and_gives_back_nothing():
    totals = counted(example(r.ReturnDeclined), example(r.ReturnDeclined, reason="suspected_abuse"))  # 349.90 each
    assert value(totals, "retail_returns", kind="refund", tender="cash", decision="declined") == 2
    assert value(totals, "retail_returns_declined", reason="item_condition") == 1
    assert value(totals, "retail_returns_declined", reason="suspected_abuse") == 1
    assert labelled(totals, "retail_returns_value_euros") == []


def test_returns_are_counted_by_decision():
    totals = counted(example(r.ReturnApproved), example(r.ReturnRejected), example(r.ReturnExceptionGranted),
                     example(r.ReturnDeclined))
    assert sorted(labels["decision"] for labels in labelled(totals, "retail_returns")) == [
        "approved", "declined", "exception", "rejected"
    ]


# ---- exactly once ------------------------------------------------------------------------------


@pytest.mark.parametrize("event_class", EVENTS, ids=lambda event_class: event_class.__name__)
def test_an_event_counted_again_changes_nothing(event_class):
    totals = counted(filed(complaint_id=OTHER))
    again = envelope(example(event_class))
    assert count(totals, again) is True
    before = totals.model_dump()
    assert count(totals, again) is False
    assert totals.model_dump() == before


def test_a_whole_day_replayed_after_a_restart_is_counted_once():
    envelopes = [envelope(event) for event in day()]
    totals = StoreTotals()
    assert [count(totals, each) for each in envelopes] == [True] * len(envelopes)
    before = totals.model_dump()
    assert [count(totals, each) for each in envelopes] == [False] * len(envelopes)
    assert totals.model_dump() == before


def test_the_same_event_in_a_new_envelope_is_a_new_event():
    totals = counted(example(e.EscalationPaged), example(e.EscalationPaged))
    assert value(totals, "retail_pages") == 2


def test_only_the_latest_ids_are_remembered_so_the_totals_do_not_grow_without_end():
    envelopes = [envelope(example(e.EscalationPaged)) for _ in range(RECENT_IDS + 10)]
    totals = StoreTotals()
    for each in envelopes:
        count(totals, each)
    assert totals.recent_ids == [str(each.id) for each in envelopes[-RECENT_IDS:]]
    assert count(totals, envelopes[-RECENT_IDS]) is False
    assert value(totals, "retail_pages") == RECENT_IDS + 10


def test_an_id_forgotten_counts_again_and_one_remembered_does_not_whether_read_back_or_replaced():
    envelopes = [envelope(example(e.EscalationPaged)) for _ in range(RECENT_IDS + 10)]
    totals = StoreTotals()
    for each in envelopes:
        count(totals, each)
    read_back = StoreTotals.model_validate_json(totals.model_dump_json())
    for store in (totals, read_back):
        assert count(store, envelopes[-1]) is False  # remembered
        assert count(store, envelopes[0]) is True  # forgotten: a copy this late is counted
        assert count(store, envelopes[0]) is False
    totals.recent_ids = [str(envelopes[1].id)]  # a list put in place of the one remembered
    assert count(totals, envelopes[1]) is False
    assert count(totals, envelopes[-1]) is True
    assert value(totals, "retail_pages") == RECENT_IDS + 12


def test_totals_stored_as_json_after_every_event_count_the_same_as_in_memory():
    envelopes = [envelope(event) for event in [*day(), resolved(timedelta(days=2)), acknowledged(timedelta(days=3))]]
    in_memory, totals = StoreTotals(), StoreTotals()
    for each in envelopes:
        count(in_memory, each)
        totals = stored(totals)
        assert count(totals, each)
    assert totals.model_dump() == in_memory.model_dump()  # the changes not yet taken are not stored
    assert histogram(totals, "retail_complaint_resolve_seconds").count == 1
    assert not any(count(stored(totals), each) for each in envelopes)


# ---- what Prometheus reads ---------------------------------------------------------------------


def exposition(*stores: StoreTotals) -> str:
    """The text a scrape of a worker owning these stores' totals returns."""
    table = {str(i).encode(): totals.model_dump_json().encode() for i, totals in enumerate(stores)}  # like faust's
    return b"".join(TotalsExposition([table], clock=lambda: FILED)()).decode()


def scrape(*stores: StoreTotals) -> dict[str, list[Sample]]:
    """The samples of each metric family in the scrape, by family name."""
    return {family.name: family.samples for family in text_string_to_metric_families(exposition(*stores))}


def test_every_metric_counted_is_exposed():
    totals = counted(*day())
    assert set(scrape(totals)) == {series.metric for series in totals.series.values()}
    assert len(set(scrape(totals))) >= 15


def test_counters_are_exposed_with_the_total_suffix():
    families = scrape(counted(*day()))
    for name in (name for name in families if METRICS[name].kind == "counter"):
        assert {sample.name for sample in families[name]} == {f"{name}_total"}, name
    assert [s.value for s in families["retail_returns_value_euros"] if s.labels["tender"] == "credit"] == [129.9]


def test_a_histogram_is_exposed_as_cumulative_buckets_ending_in_inf_with_its_sum_and_count():
    totals = counted(*(example(c.CsatSubmitted, score=score) for score in (1, 4, 4, 5)))
    samples = scrape(totals)["retail_csat_score"]
    assert [(s.labels["le"], s.value) for s in samples if s.name == "retail_csat_score_bucket"] == [
        ("1.0", 1), ("2.0", 1), ("3.0", 1), ("4.0", 3), ("5.0", 4), ("+Inf", 4),
    ]
    assert {s.name: s.value for s in samples if s.name != "retail_csat_score_bucket"} == {
        "retail_csat_score_sum": 14.0, "retail_csat_score_count": 4.0,
    }


def test_every_histogram_has_rising_buckets_up_to_inf_that_hold_its_count():
    families = scrape(counted(*day(), filed(complaint_id=OTHER), acknowledged(timedelta(days=5), complaint_id=OTHER)))
    assert {name for name in families if METRICS[name].kind == "histogram"} == {
        "retail_complaint_acknowledge_seconds", "retail_complaint_resolve_seconds", "retail_csat_score",
    }
    for name in (name for name in families if METRICS[name].kind == "histogram"):
        samples = families[name]
        buckets = [s for s in samples if s.name == f"{name}_bucket"]
        bounds = [float(s.labels["le"]) for s in buckets]
        assert bounds == [*METRICS[name].buckets, math.inf], name
        assert [s.value for s in buckets] == sorted(s.value for s in buckets), name
        [total] = [s.value for s in samples if s.name == f"{name}_count"]
        assert buckets[-1].value == total > 0, name
        assert [s.name for s in samples].count(f"{name}_sum") == 1, name


def test_each_series_carries_exactly_its_metrics_labels():
    for name, samples in scrape(counted(*day())).items():
        for sample in samples:
            assert set(sample.labels) - {"le"} == set(METRICS[name].labels), sample


def test_no_complaint_customer_return_or_staff_id_is_exposed():
    events = day()
    text = exposition(counted(*events))
    filing, reopening, page, approval = (
        next(event for event in events if isinstance(event, kind))
        for kind in (c.ComplaintFiled, c.ComplaintReopened, e.EscalationPaged, r.ReturnApproved)
    )
    identifiers = {
        str(filing.complaint_id), filing.customer_ref, filing.filed_by, reopening.by, str(page.page_id),
        page.recipient.staff_id, str(approval.return_id),
    }
    assert [identifier for identifier in identifiers if identifier in text] == []


def test_the_totals_of_every_store_the_worker_owns_are_exposed():
    kamppi = counted(*day(KAMPPI))
    sello = counted(*day(SELLO), filed(store_id=SELLO, complaint_id=OTHER))
    families = scrape(kamppi, sello)
    for name, samples in families.items():
        assert {sample.labels["store"] for sample in samples} == {KAMPPI, SELLO}, name
    assert {(s.labels["store"], s.value) for s in families["retail_complaints_filed"]} == {(KAMPPI, 1), (SELLO, 2)}


def test_a_worker_that_owns_no_stores_exposes_nothing():
    assert exposition() == ""


def test_each_scrape_reads_the_totals_as_they_are_then():
    table = {KAMPPI.encode(): counted(filed()).model_dump_json().encode(),
             SELLO.encode(): counted(filed(store_id=SELLO)).model_dump_json().encode()}
    scraped = TotalsExposition([table], clock=lambda: FILED)

    def filed_per_store() -> dict[str, float]:
        return {sample.labels["store"]: sample.value for family in text_string_to_metric_families(b"".join(scraped()).decode())
                if family.name == "retail_complaints_filed" for sample in family.samples}

    assert filed_per_store() == {KAMPPI: 1, SELLO: 1}
    table[KAMPPI.encode()] = counted(filed(), filed(complaint_id=OTHER)).model_dump_json().encode()
    assert filed_per_store() == {KAMPPI: 2, SELLO: 1}
    del table[SELLO.encode()]  # its partition went to another worker
    assert filed_per_store() == {KAMPPI: 2}
    assert filed_per_store() == {KAMPPI: 2}


def test_label_values_are_escaped_as_the_text_format_requires():
    # The events' fields admit no such value today; the exposition does not rely on that.
    store = 'a "quoted" \\ back\nslash'
    totals = StoreTotals(series={"pages": Series(metric="retail_pages", labels={"region": "uusimaa", "store": store}, value=2)})
    [sample] = [sample for family in text_string_to_metric_families(exposition(totals)) for sample in family.samples]
    assert (sample.labels["store"], sample.value) == (store, 2)


# ---- metric names ------------------------------------------------------------------------------


@pytest.mark.parametrize("metric", METRICS.values(), ids=list(METRICS))
def test_metric_names_are_lower_snake_case_under_retail(metric):
    assert re.fullmatch(r"retail(_[a-z0-9]+)+", metric.name)
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", label) and label != "le" for label in metric.labels)


@pytest.mark.parametrize("metric", METRICS.values(), ids=list(METRICS))
def test_metric_names_leave_the_suffixes_prometheus_adds_to_it(metric):
    assert not metric.name.endswith(("_total", "_count", "_sum", "_bucket", "_created"))


@pytest.mark.parametrize(
    "metric", [metric for metric in METRICS.values() if metric.buckets == DURATION_BUCKETS], ids=lambda m: m.name
)
def test_durations_are_histograms_in_seconds(metric):
    assert (metric.kind, metric.name.endswith("_seconds")) == ("histogram", True)


@pytest.mark.parametrize(
    "metric", [metric for metric in METRICS.values() if "value" in metric.help.lower()], ids=lambda m: m.name
)
def test_money_is_counted_in_euros(metric):
    assert (metric.kind, metric.name.endswith("_euros")) == ("counter", True)


def test_a_regions_common_problems_and_policy_proposals_are_counted_per_region():
    detected = example(co.ProblemDetected)
    totals = counted(detected, example(co.ProblemAcknowledged), example(co.PolicyProposed),
                     example(co.PolicyDecided, decision="accepted"), example(co.PolicyDecided, decision="rejected"))
    exposed = {(s.name, frozenset(s.labels.items())): s.value for samples in scrape(totals).values() for s in samples}

    def sample(name: str, **labels: str) -> tuple:
        return name, frozenset({"region": detected.region_id, **labels}.items())

    assert exposed == {  # by region only: no store label
        sample("retail_common_problems_detected_total", category=detected.evidence.category): 1,
        sample("retail_common_problems_acknowledged_total"): 1,
        sample("retail_policy_proposals_total"): 1,
        sample("retail_policy_decisions_total", decision="accepted"): 1,
        sample("retail_policy_decisions_total", decision="rejected"): 1,
    }


def test_a_stores_signal_counters_are_exposed_at_zero_from_its_first_return_request():
    requested = example(r.ReturnRequested)
    samples = scrape(counted(requested))["retail_lossprevention_signals"]
    assert sorted((s.labels["metric"], s.value) for s in samples) == [("no_receipt_rate", 0.0), ("policy_exception_rate", 0.0)]
