"""A complaint's lifecycle: which action is allowed in which status, and first-contact resolution."""

import pytest

from services.complaints.domain.lifecycle import Action, InvalidTransition, Status, first_contact, transition
from services.shared.errors import Conflict

MOVES = [
    (Status.open, Action.acknowledge, Status.acknowledged),
    (Status.open, Action.assign, Status.in_progress),
    (Status.acknowledged, Action.assign, Status.in_progress),
    (Status.in_progress, Action.assign, Status.in_progress),
    (Status.open, Action.resolve, Status.resolved),  # first-contact resolution at the desk
    (Status.acknowledged, Action.resolve, Status.resolved),
    (Status.in_progress, Action.resolve, Status.resolved),
    (Status.open, Action.add_note, Status.open),
    (Status.acknowledged, Action.add_note, Status.acknowledged),
    (Status.in_progress, Action.add_note, Status.in_progress),
    (Status.resolved, Action.add_note, Status.resolved),
    (Status.resolved, Action.reopen, Status.open),
    (Status.closed, Action.reopen, Status.open),
    (Status.resolved, Action.close, Status.closed),
]
REFUSED = [
    (current, action) for current in Status for action in Action
    if (current, action) not in {(c, a) for c, a, _ in MOVES}
]


@pytest.mark.parametrize(("current", "action", "after"), MOVES)
def test_an_allowed_action_moves_the_complaint(current, action, after):
    assert transition(current, action) is after


@pytest.mark.parametrize(("current", "action"), REFUSED)
def test_every_other_action_is_refused_naming_the_current_status(current, action):
    with pytest.raises(InvalidTransition) as refused:
        transition(current, action)
    assert isinstance(refused.value, Conflict)
    assert refused.value.status_code == 409
    assert refused.value.body() == {"detail": str(refused.value), "current_status": current}


def test_the_refusal_says_when_the_action_is_allowed():
    with pytest.raises(InvalidTransition) as refused:
        transition(Status.open, Action.close)
    assert str(refused.value) == "cannot close a complaint that is open; only when resolved"


def test_resolved_by_whoever_filed_it_without_handing_on_or_reopening_is_first_contact():
    assert first_contact(filed_by="assoc-0001", resolved_by="assoc-0001", reassigned=False, reopen_count=0)


@pytest.mark.parametrize(
    "changes",
    [{"resolved_by": "mgr-0007"}, {"reassigned": True}, {"reopen_count": 1}, {"reopen_count": 3}],
    ids=["someone else resolved it", "it was handed on", "it was reopened", "it was reopened often"],
)
def test_anything_more_than_one_contact_is_not_first_contact(changes):
    resolution = {"filed_by": "assoc-0001", "resolved_by": "assoc-0001", "reassigned": False, "reopen_count": 0}
    assert not first_contact(**{**resolution, **changes})
