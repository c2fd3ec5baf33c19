"""The due index holds only each partition's earliest deadlines, so that the worker's memory does not
grow with its cases; a tick that reaches past them reads the table again, and misses no case."""

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from services.escalation import tables
from services.escalation.domain.cases import Case, Deadlines
from services.shared.events.escalations import Assignee
from services.shared.events.fields import Tier

NOW = datetime(2026, 11, 23, 9, 15, tzinfo=UTC)
KEPT = timedelta(days=7)


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def case(partition: int, acknowledge_in: float, **changes: Any) -> Case:
    return Case.model_validate({
        "complaint_id": uuid.uuid4(), "store_id": "store-0042", "region_id": "uusimaa", "category": "service",
        "severity": "low", "mood": "calm", "channel": "in_store", "filed_at": NOW,
        "assignee": Assignee(tier=Tier.associate, staff_id="emp-1042"), "reason": "routed",
        "acknowledge_by": NOW + minutes(acknowledge_in), "resolve_by": NOW + minutes(24 * 60), "partition": partition,
        **changes,
    })


class Scans(dict):
    """A table that counts how often it was read whole."""

    scans = 0

    def items(self):  # type: ignore[override]
        self.scans += 1
        return super().items()


def ids(cases: Iterable[Case]) -> list[uuid.UUID]:
    return [one.complaint_id for one in cases]


def cases_of(*kept: Case, size: int) -> tables.Cases:
    cases = tables.Cases(Scans(), KEPT, tables.DueIndex(size))
    for one in kept:
        cases.table[one.complaint_id.bytes] = one.model_dump_json().encode()
    return cases


def test_an_index_holds_only_the_earliest_deadlines_and_reads_the_table_again_past_them():
    ten = [case(3, acknowledge_in=n) for n in range(1, 11)]
    cases = cases_of(*reversed(ten), size=4)
    assert list(cases.due_at(3, NOW)) == []
    assert len(cases.due._due[3]) == 4  # the four earliest; the fifth's deadline is the horizon
    handled = list(cases.due_at(3, NOW + minutes(4)))
    assert (ids(handled), cases.table.scans) == (ids(ten[:4]), 1)
    for one in handled:
        cases.keep(one.acknowledged(NOW + minutes(4)))  # due again only when to be resolved
    assert (ids(cases.due_at(3, NOW + minutes(7))), cases.table.scans) == (ids(ten[4:7]), 2)  # past the horizon: read again


def test_one_read_of_the_table_builds_every_partitions_index():
    cases = cases_of(case(1, acknowledge_in=1), case(2, acknowledge_in=1), size=10)
    assert list(cases.due_at(1, NOW)) == []
    assert len(list(cases.due_at(2, NOW + minutes(1)))) == 1
    assert cases.table.scans == 1


def test_a_case_moved_past_the_horizon_leaves_the_index_and_is_found_again_when_it_comes():
    early, later = case(3, acknowledge_in=1), case(3, acknowledge_in=10)
    cases = cases_of(early, later, size=1)
    list(cases.due_at(3, NOW))  # holds `early` only, until `later`'s deadline
    cases.keep(early.model_copy(update={"acknowledge_by": NOW + minutes(20)}))
    assert cases.due.due(3, NOW + minutes(30)) == []
    (handled,) = cases.due_at(3, NOW + minutes(15))  # past the horizon: read again
    assert handled.complaint_id == later.complaint_id
    cases.keep(handled.acknowledged(NOW + minutes(15)))
    assert ids(cases.due_at(3, NOW + minutes(20))) == [early.complaint_id]


def test_an_index_that_grows_to_twice_its_size_keeps_its_earliest_half():
    index = tables.DueIndex(size=2)
    index.build([], [3])
    for n in (5, 1, 4, 2, 3):
        index.set(3, str(n).encode(), NOW + minutes(n))
    assert index.due(3, NOW + minutes(9)) == [b"1", b"2"]
    assert (index.covers(3, NOW + minutes(2)), index.covers(3, NOW + minutes(3))) == (True, False)
    index.set(3, b"0", NOW + minutes(3))  # at the horizon: read from the table when it comes
    assert index.due(3, NOW + minutes(9)) == [b"1", b"2"]


def test_the_deadlines_read_alone_are_the_cases():
    for one in (case(3, acknowledge_in=5), case(3, acknowledge_in=5, acknowledge_by=None),
                case(3, acknowledge_in=5, resolved_at=NOW)):
        assert Deadlines.model_validate_json(one.model_dump_json()).next_due(KEPT) == one.next_due(KEPT)
