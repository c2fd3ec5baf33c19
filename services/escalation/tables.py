"""The escalation worker's tables as its handlers see them. A table is a mapping of bytes to bytes:
a faust table in the worker, a dict in tests.

One store's complaints, roster and clock ticks share a partition number, so the worker that owns a
partition holds the rosters and cases (the SLA timers) of its stores."""

import heapq
from collections.abc import Callable, Iterable, Iterator, MutableMapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from operator import itemgetter
from typing import TypeVar
from uuid import UUID

import structlog
from prometheus_client import Counter

from services.escalation.domain.cases import Case, Deadlines
from services.escalation.domain.problems import Watch
from services.escalation.domain.rules import RuleBook
from services.shared.events.envelope import decode
from services.shared.events.roster import RosterPublished
from services.shared.topics import ROSTER

Table = MutableMapping[bytes, bytes]
T = TypeVar("T")
log = structlog.get_logger()
DUE_INDEXED = 5000  # deadlines of a partition held at once; a million cases decoded took a gigabyte
UNREADABLE = Counter("retail_escalation_table_values_unreadable_total",
                     "Values of the worker's tables that did not read back, and were taken as absent.", ["table"])


def readable(read: Callable[[bytes], T], raw: bytes | None, table: str) -> T | None:
    """A table value read back, or None when there is none or it does not read: a record on a changelog
    that is not a value of its table (restored on a new disk) is taken as absent, logged and counted,
    rather than failing every event, or every tick, that reads it."""
    if raw is None:
        return None
    try:
        return read(raw)
    except ValueError as error:  # pydantic's ValidationError and the contracts' InvalidEvent are ValueErrors
        UNREADABLE.labels(table).inc()
        log.error("table value unreadable; taken as absent", table=table, error=type(error).__name__)
        return None


class Rosters:
    """The latest on-duty roster of each store, kept as its record was published, and decoded once
    for as long as the table holds that record (each complaint reads its store's)."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self._decoded: dict[bytes, tuple[bytes, RosterPublished]] = {}  # store → its record, decoded

    def keep(self, roster: RosterPublished, record: bytes) -> None:
        self.table[roster.store_id.encode()] = record

    def of(self, store_id: str) -> RosterPublished | None:
        key = store_id.encode()
        if (raw := self.table.get(key)) is None:
            return None
        if (decoded := self._decoded.get(key)) is not None and decoded[0] == raw:
            return decoded[1]
        envelope = readable(lambda record: decode(record, ROSTER.event_classes), raw, "rosters")
        if envelope is None:
            return None
        self._decoded[key] = raw, envelope.data  # type: ignore[assignment]
        return envelope.data  # type: ignore[return-value]


class DueIndex:
    """When each case next needs the clock, per partition, so that a tick reads only the cases due. A
    partition's index holds only its `size` earliest deadlines, those before its horizon, so that it
    does not grow with the cases: a tick that reaches the horizon builds the indexes again from the
    table. A partition's index is built at its first tick and forgotten when the partition is
    revoked: whoever owns it next builds its own from the table as it then is."""

    def __init__(self, size: int = DUE_INDEXED) -> None:
        self.size = size
        self._due: dict[int, dict[bytes, datetime]] = {}
        self._horizon: dict[int, datetime | None] = {}  # None: every case of the partition is in its index

    def built(self, partition: int) -> bool:
        return partition in self._due

    def covers(self, partition: int, now: datetime) -> bool:
        """Whether the partition's index holds every case due by `now`."""
        return partition in self._due and ((horizon := self._horizon[partition]) is None or now < horizon)

    def build(self, deadlines: Iterable[tuple[int, bytes, datetime]], partitions: Iterable[int] = ()) -> None:
        """Builds the indexes of `partitions`, of those built already and of any other found, from every
        case's partition, key and next deadline, holding the earliest of each partition only."""
        earliest: dict[int, list[tuple[float, bytes, datetime]]] = {partition: [] for partition in {*partitions, *self._due}}
        for partition, key, when in deadlines:
            heap = earliest.setdefault(partition, [])  # the latest of the size + 1 earliest on top
            (heapq.heappush if len(heap) <= self.size else heapq.heappushpop)(heap, (-when.timestamp(), key, when))
        for partition, heap in earliest.items():
            self._keep(partition, ((key, when) for _, key, when in heap))

    def set(self, partition: int, key: bytes, when: datetime) -> None:
        if (index := self._due.get(partition)) is None:
            return  # an index built later reads the case from the table
        if (horizon := self._horizon[partition]) is not None and when >= horizon:
            index.pop(key, None)  # read again from the table when the horizon comes
            return
        index[key] = when
        if len(index) > 2 * self.size:
            self._keep(partition, list(index.items()))

    def remove(self, partition: int, key: bytes) -> None:
        self._due.get(partition, {}).pop(key, None)

    def due(self, partition: int, now: datetime) -> list[bytes]:
        return [key for key, when in self._due.get(partition, {}).items() if when <= now]

    def forget(self, partition: int) -> None:
        self._due.pop(partition, None)
        self._horizon.pop(partition, None)

    def _keep(self, partition: int, due: Iterable[tuple[bytes, datetime]]) -> None:
        """Keeps the earliest `size`, given every case due before the partition's horizon; the
        deadline of the first left out is its new horizon."""
        earliest = heapq.nsmallest(self.size + 1, due, key=itemgetter(1))
        horizon = earliest[self.size][1] if len(earliest) > self.size else None
        self._due[partition] = {key: when for key, when in earliest if horizon is None or when < horizon}
        self._horizon[partition] = horizon


class Cases:
    """The worker's cases (complaint id → case as JSON), a resolved one kept for `kept`, and when
    each next needs the clock."""

    def __init__(self, table: Table, kept: timedelta, due: DueIndex | None = None) -> None:
        self.table, self.kept, self.due = table, kept, DueIndex() if due is None else due

    def through(self, view: Table) -> "Cases":
        """The same cases and due index, read and written through `view` (one batch's view of the table)."""
        return Cases(view, self.kept, self.due)

    def get(self, complaint_id: UUID) -> Case | None:
        return readable(Case.model_validate_json, self.table.get(complaint_id.bytes), "cases")

    def keep(self, case: Case) -> None:
        key = case.complaint_id.bytes
        self.table[key] = case.model_dump_json().encode()
        self.due.set(case.partition, key, case.next_due(self.kept))

    def drop(self, case: Case) -> None:
        key = case.complaint_id.bytes
        del self.table[key]
        self.due.remove(case.partition, key)

    def due_at(self, partition: int, now: datetime) -> Iterator[Case]:
        """The partition's cases whose deadline, or end, has come by `now`."""
        if not self.due.covers(partition, now):
            self.due.build(self._deadlines(), [partition])
        for key in self.due.due(partition, now):
            if (case := readable(Case.model_validate_json, self.table[key], "cases")) is None:
                self.due.remove(partition, key)  # read once, not at every tick
            else:
                yield case

    def _deadlines(self) -> Iterator[tuple[int, bytes, datetime]]:
        """Every case's partition, key and next deadline, one case at a time."""
        for key, raw in self.table.items():
            if (deadlines := readable(Deadlines.model_validate_json, raw, "cases")) is not None:
                yield deadlines.partition, key, deadlines.next_due(self.kept)


@dataclass(frozen=True)
class State:
    """What the worker keeps of the stores whose partitions it owns."""

    rules: RuleBook
    rosters: Rosters
    routed: Table  # the complaints whose cases were forgotten, so that a replayed filing is not routed again
    cases: Cases

    def through(self, routed: Table, cases: Table) -> "State":
        """The same state with its routing marks and cases read and written through these views."""
        return State(self.rules, self.rosters, routed, self.cases.through(cases))


class Watches:
    """The common-problem detector's watches (a region and kind → Watch as JSON), kept decoded while
    one batch of observations changes them; the table (staged by the worker) takes one write a key,
    encoded once when the batch writes it."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self._decoded: dict[bytes, Watch] = {}

    def get(self, key: bytes) -> Watch:
        if key not in self._decoded:
            self._decoded[key] = readable(Watch.model_validate_json, self.table.get(key), "watches") or Watch()
        return self._decoded[key]

    def put(self, key: bytes, watch: Watch) -> None:
        self._decoded[key] = watch
        if (defer := getattr(self.table, "defer", None)) is not None:
            # A staged table: encoded once, when the batch writes it, not at every observation.
            defer(key, lambda: watch.model_dump_json().encode())
        else:
            self.table[key] = watch.model_dump_json().encode()
