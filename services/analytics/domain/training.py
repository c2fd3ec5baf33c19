"""A staff member's training status when a loss-prevention signal is raised about them: whether they
had completed the training that bears on the signal's metric. Both metrics are about returns (policy
exceptions, requests without a receipt), so the returns training is the one that counts. A completed
training counts from the time it was completed on, at the store whose session it was."""

from datetime import datetime
from enum import StrEnum

from services.shared.events.scheduling import TrainingKind
from services.shared.events.signals import LossMetric

RELEVANT = {LossMetric.policy_exception_rate: TrainingKind.returns, LossMetric.no_receipt_rate: TrainingKind.returns}


class TrainingStatus(StrEnum):
    completed = "completed"
    not_completed = "not_completed"


Completed = dict[TrainingKind, datetime]  # a staff member's training kinds → when first completed


def status(completed: Completed, metric: LossMetric, at: datetime) -> TrainingStatus:
    """The staff member's status, at `at`, for the training relevant to `metric`."""
    done = completed.get(RELEVANT[metric])
    return TrainingStatus.completed if done is not None and done <= at else TrainingStatus.not_completed


def complete(completed: Completed, kind: TrainingKind, at: datetime) -> None:
    """Records a completion; the earliest counts, in whatever order completions come."""
    completed[kind] = min(completed.get(kind, at), at)
