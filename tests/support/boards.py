"""Cases of the escalation worker and the records of its cases changelog, as the boards' tests make them."""

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from services.escalation.boards.store import cases as store
from services.escalation.domain.cases import BreachMark, Case, PageMark
from services.shared.events.escalations import Assignee, DeadlineKind
from services.shared.events.fields import Tier

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
UUSIMAA, PIRKANMAA = "uusimaa", "pirkanmaa"
KAMPPI, ISO_OMENA = "hel-kamppi", "esp-iso-omena"
ASSOCIATE, MANAGER = "emp-1042", "mgr-0007"
_complaint_ids = itertools.count(1)
_offsets = itertools.count()


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def breach(tier: Tier = Tier.associate) -> BreachMark:
    return BreachMark(kind=DeadlineKind.acknowledge, tier=tier, deadline=NOW - minutes(5), at=NOW - minutes(5))


PAGE = PageMark(recipient=Assignee(tier=Tier.store_manager, staff_id=MANAGER), reason="severity critical", at=NOW)


def case(filed_ago: timedelta = minutes(30), **changes: Any) -> Case:
    """An open, unacknowledged low-severity case at Kamppi in Uusimaa, with the associate."""
    filed_at = NOW - filed_ago
    calm = {
        "complaint_id": UUID(int=next(_complaint_ids)), "store_id": KAMPPI, "region_id": UUSIMAA,
        "category": "service", "severity": "low", "mood": "calm", "channel": "in_store", "filed_at": filed_at,
        "assignee": Assignee(tier=Tier.associate, staff_id=ASSOCIATE), "reason": "severity low → associate",
        "acknowledge_by": filed_at + minutes(15), "resolve_by": filed_at + minutes(240), "partition": 0,
    }
    return Case.model_validate({**calm, **changes})


def record(each: Case) -> store.Change:
    """The changelog record the worker's table writes for the case, on partition 0."""
    return store.change(0, next(_offsets), each.complaint_id.bytes, each.model_dump_json().encode())


def tombstone(complaint_id: UUID) -> store.Change:
    return store.change(0, next(_offsets), complaint_id.bytes, None)
