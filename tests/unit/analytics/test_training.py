"""Loss-prevention signals by training status: a signal about a staff member counts as trained when they
had completed the returns training before it was raised, at the store, and not otherwise; in the metrics
and in the loss-prevention report."""

from datetime import datetime, timedelta
from uuid import uuid4

import pytest

from services.analytics.domain import training
from services.analytics.domain.reports import Sums, loss_prevention
from services.analytics.domain.signals import SignalRules
from services.analytics.domain.totals import StoreTotals, count
from services.analytics.domain.windows import Window
from services.shared.events import returns as r
from services.shared.events import scheduling as s
from services.shared.events.envelope import Event, wrap
from services.shared.events.signals import LossMetric
from tests.support.builders import example
from tests.support.tallies import AT, KAMPPI, REGION, returns_by_staff



def completed(kind: str, *attended: str, at: datetime = AT - timedelta(days=1)) -> s.TrainingCompleted:
    return example(s.TrainingCompleted, store_id=KAMPPI, region_id=REGION, session_id=uuid4(), kind=kind,
                   attended=list(attended), at=at)


def signalled(*before: Event) -> tuple[StoreTotals, Window]:
    """A store's totals and window after the events, then the returns that make emp-7004 stand out."""
    totals, window = StoreTotals(), Window()
    for offset, event in enumerate([*before, *returns_by_staff()]):
        envelope = wrap(event, source="/tests", time=AT)
        assert count(totals, envelope)
        if isinstance(event, r.ReturnEvent):
            totals.signals(REGION, KAMPPI, envelope.time, SignalRules())
        window.record(totals.take_changes(), ("any", offset))
    return totals, window


def by_training(totals: StoreTotals) -> dict[tuple[str, str], float]:
    return {(series.labels["metric"], series.labels["training"]): series.value for series in totals.series.values()
            if series.metric == "retail_lossprevention_signals_by_training"}


# ---- the rule ----------------------------------------------------------------------------------


def test_every_metric_has_a_relevant_training():
    assert set(training.RELEVANT) == set(LossMetric)


@pytest.mark.parametrize(("done", "expected"), [
    (AT - timedelta(days=30), "completed"),
    (AT, "completed"),
    (AT + timedelta(minutes=1), "not_completed"),  # completed after the signal
    (None, "not_completed"),
])
def test_the_returns_training_counts_from_when_it_was_completed(done, expected):
    completions = {} if done is None else {s.TrainingKind.returns: done}
    assert training.status(completions, LossMetric.policy_exception_rate, AT) == expected


def test_other_training_does_not_count_for_a_returns_signal():
    completions = {kind: AT - timedelta(days=1) for kind in s.TrainingKind if kind != s.TrainingKind.returns}
    assert training.status(completions, LossMetric.no_receipt_rate, AT) == "not_completed"


def test_the_earliest_completion_counts_whatever_order_they_come_in():
    completions: training.Completed = {}
    training.complete(completions, s.TrainingKind.returns, AT)
    training.complete(completions, s.TrainingKind.returns, AT - timedelta(days=2))
    training.complete(completions, s.TrainingKind.returns, AT + timedelta(days=2))
    assert completions == {s.TrainingKind.returns: AT - timedelta(days=2)}


# ---- counted ------------------------------------------------------------------------------------


def test_a_signal_about_a_staff_member_who_completed_the_returns_training_counts_as_completed():
    totals, window = signalled(completed("returns", "emp-7001", "emp-7004"))
    assert by_training(totals) == {
        ("policy_exception_rate", "completed"): 1, ("policy_exception_rate", "not_completed"): 0,
        ("no_receipt_rate", "completed"): 0, ("no_receipt_rate", "not_completed"): 0,
    }
    assert loss_prevention(Sums([window])).signals_by_training == {"completed": 1, "not_completed": 0}


@pytest.mark.parametrize("before", [
    [],
    [completed("register", "emp-7004"), completed("returns", "emp-7001")],  # other training, or someone else
    [completed("returns", "emp-7004", at=AT + timedelta(hours=1))],  # completed after the signal
], ids=["no training", "other training or staff", "later"])
def test_a_signal_about_a_staff_member_without_the_returns_training_counts_as_not_completed(before):
    totals, window = signalled(*before)
    assert by_training(totals)[("policy_exception_rate", "not_completed")] == 1
    assert loss_prevention(Sums([window])).signals_by_training == {"completed": 0, "not_completed": 1}


def test_the_counters_by_training_are_exposed_at_zero_from_a_stores_first_return_request():
    totals = StoreTotals()
    count(totals, wrap(example(r.ReturnRequested), source="/tests", time=AT))
    assert set(by_training(totals).values()) == {0}
    assert len(by_training(totals)) == len(LossMetric) * len(training.TrainingStatus)
