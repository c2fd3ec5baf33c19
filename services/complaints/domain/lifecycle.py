"""A complaint's states and the actions that move it between them."""

from enum import StrEnum

from services.shared.errors import Conflict


class Status(StrEnum):
    open = "open"
    acknowledged = "acknowledged"
    in_progress = "in_progress"
    resolved = "resolved"
    closed = "closed"


class Action(StrEnum):
    acknowledge = "acknowledge"
    assign = "assign"
    add_note = "add_note"
    resolve = "resolve"
    reopen = "reopen"
    close = "close"


_WORKING = {Status.open, Status.acknowledged, Status.in_progress}
# A complaint can be resolved straight from `open`: first-contact resolution at the desk.
TRANSITIONS: dict[Action, tuple[frozenset[Status], Status | None]] = {
    Action.acknowledge: (frozenset({Status.open}), Status.acknowledged),
    Action.assign: (frozenset(_WORKING), Status.in_progress),
    Action.add_note: (frozenset(_WORKING | {Status.resolved}), None),
    Action.resolve: (frozenset(_WORKING), Status.resolved),
    Action.reopen: (frozenset({Status.resolved, Status.closed}), Status.open),
    Action.close: (frozenset({Status.resolved}), Status.closed),
}


class InvalidTransition(Conflict):
    def __init__(self, action: Action, current: Status) -> None:
        allowed = ", ".join(sorted(TRANSITIONS[action][0]))
        super().__init__(f"cannot {action.replace('_', ' ')} a complaint that is {current}; only when {allowed}")
        self.current = current

    def body(self) -> dict[str, object]:
        return {"detail": str(self), "current_status": self.current}


def transition(current: Status, action: Action) -> Status:
    """The status after `action`, or InvalidTransition naming the current status."""
    allowed, target = TRANSITIONS[action]
    if current not in allowed:
        raise InvalidTransition(action, current)
    return target or current


def first_contact(*, filed_by: str, resolved_by: str, reassigned: bool, reopen_count: int) -> bool:
    """Resolved by whoever took the complaint, never handed on and never reopened: the customer
    needed one contact."""
    return not reassigned and reopen_count == 0 and resolved_by == filed_by
