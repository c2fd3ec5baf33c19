"""What the analytics worker makes of a batch of events, apart from Kafka: each store's running
totals, its hourly and daily windows and its open loss-prevention signals, and each region's totals
of common problems and policy proposals. The worker's agents read the events and the tables, call
these, and write and publish what they return, so a burst of events on one key costs one write.

Every value comes back with the `origin` of the last event that changed it: the worker writes a
table's change into the changelog partition of that event."""

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, NamedTuple, TypeVar

import structlog
from prometheus_client import Counter
from pydantic import BaseModel

from services.analytics.domain.signals import SignalRules
from services.analytics.domain.totals import StoreTotals, count
from services.analytics.domain.windows import (
    Granularity, OpenSignals, Window, WindowRules, restaffed_seconds, signals_key, start_of, window_key,
)
from services.analytics.topics import SOURCE, signal_id
from services.shared.events.envelope import Envelope, StoreEvent, wrap
from services.shared.events.returns import ReturnEvent
from services.shared.events.signals import LossPreventionSignal

log = structlog.get_logger()
T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)
UNREADABLE = Counter("retail_analytics_table_values_unreadable_total",
                     "Values of the worker's tables that did not read back, and were counted afresh.", ["table"])
Position = tuple[str, int]  # a topic and an offset in it: how a replay after a restart is recognised
Reported = dict[bytes, tuple[Window | OpenSignals | None, T]]  # a store's windows and open signals; None deletes


class Received(NamedTuple, Generic[T]):
    """A valid event as the worker read it."""

    envelope: Envelope
    position: Position
    origin: T


@dataclass
class Counted(Generic[T]):
    """What a batch of store events changed, each key once. The totals say that the batch's events
    were counted, so they are written only after the reports and signals were delivered."""

    totals: dict[bytes, tuple[bytes, T]]  # store → its totals
    reports: dict[bytes, tuple[bytes | None, T]]  # window, or a store's open signals → its value; None deletes
    signals: list[Envelope]  # the loss-prevention signals raised, to publish in this order


class StoreTally:
    """Counts store events into their store's totals, windows and open signals. The totals of the
    `decoded` stores counted last stay decoded between batches (they are this worker's to change; a
    store's take about a megabyte decoded); `forget` them when partitions move away."""

    def __init__(self, totals: Mapping[bytes, bytes], reports: Mapping[bytes, bytes], signal_rules: SignalRules,
                 window_rules: WindowRules, decoded: int = 64) -> None:
        self.totals, self.reports = totals, reports
        self.signal_rules, self.window_rules = signal_rules, window_rules
        self.limit = decoded
        self.decoded: dict[bytes, StoreTotals] = {}  # the most recently counted last
        # The windows the last batch wrote, decoded, with what it wrote: read back as they are while the
        # table still holds that (each batch changes mostly the windows the one before it changed).
        self.windows: dict[bytes, tuple[bytes, Window]] = {}

    def forget(self) -> None:
        self.decoded.clear()  # a store that comes back is read again from the table
        self.windows.clear()

    def runs(self, events: Iterable[Received[T]]) -> Iterator[list[Received[T]]]:
        """The events in runs of at most `decoded` stores each, to be counted and written one run at a
        time: what a batch changes is held until written, a few hundred KB a store, and a batch of 500
        events of as many stores (a worker catching up) held about 115 MiB more at once."""
        run: list[Received[T]] = []
        stores: set[str] = set()
        for event in events:
            store = event.envelope.data.store_id  # type: ignore[attr-defined]
            if store not in stores and len(stores) == self.limit:
                yield run
                run, stores = [], set()
            stores.add(store)
            run.append(event)
        if run:
            yield run

    def count(self, events: Iterable[Received[T]]) -> Counted[T]:
        changed: dict[bytes, T] = {}  # store → the origin of its last event
        encoded: dict[bytes, bytes] = {}  # the totals of a changed store, once it is no longer decoded
        reported: Reported[T] = {}
        published: list[Envelope] = []
        for event in events:
            envelope, position, origin = event
            data: StoreEvent = envelope.data  # type: ignore[assignment]
            key = data.store_id.encode()
            store = self._decode(key, changed, encoded)
            previous = store.latest
            changed[key] = origin
            if not count(store, envelope, position):
                # Counted before: a replay after a crash, or a copy. The local store is written before
                # its changelog, so the totals and windows are written again as they stand, for a
                # worker on a new disk that reads only the changelog.
                self._record_windows(reported, store, previous, event)
                continue
            if isinstance(data, ReturnEvent):
                raised, changed_open = raise_signals(store, envelope, self.signal_rules)
                published += raised
                if changed_open:
                    still_open = OpenSignals(signals=list(store.open_signals.values()))
                    reported[signals_key(data.region_id, data.store_id)] = still_open, origin
            self._record_windows(reported, store, previous, event)
        reports = {key: (None if value is None else value.model_dump_json().encode(), origin)
                   for key, (value, origin) in reported.items()}
        self.windows = {key: (reports[key][0], value) for key, (value, _) in reported.items() if isinstance(value, Window)}
        return Counted(
            totals={key: (encoded.get(key) or self.decoded[key].model_dump_json().encode(), origin)
                    for key, origin in changed.items()},
            reports=reports,  # type: ignore[arg-type]
            signals=published,
        )

    def _decode(self, key: bytes, changed: Mapping[bytes, T], encoded: dict[bytes, bytes]) -> StoreTotals:
        """The store's totals, decoded as this batch left them, or as last written; decoding it may
        push the least recently counted store out, encoded if this batch changed it."""
        if (store := self.decoded.pop(key, None)) is None:
            store = readable(StoreTotals, encoded.pop(key, None) or self.totals.get(key), "totals")
        self.decoded[key] = store
        while len(self.decoded) > self.limit:
            oldest = next(iter(self.decoded))
            left = self.decoded.pop(oldest)
            if oldest in changed:
                encoded[oldest] = left.model_dump_json().encode()
        return store

    def _window(self, key: bytes) -> Window:
        raw = self.reports.get(key)
        # Taken out as it is handed out: a batch that fails half way leaves no window counted half.
        if (kept := self.windows.pop(key, None)) is not None and kept[0] == raw:
            return kept[1]
        return readable(Window, raw, "reports")

    def _record_windows(self, reported: Reported[T], store: StoreTotals, previous: datetime | None,
                        event: Received[T]) -> None:
        """Adds the event's changes to its hour's and day's windows, and what it changed of the store's
        shifts to the windows they overlap; deletes the windows that the store's latest time left behind."""
        data: StoreEvent = event.envelope.data  # type: ignore[assignment]
        rules, changes, restaffed = self.window_rules, store.take_changes(), store.take_restaffed()
        zone, latest = rules.timezone, store.latest
        for granularity in Granularity:
            if previous != latest:  # else nothing expired
                for start in rules.expired(previous, latest, granularity):
                    if (old := window_key(data.region_id, data.store_id, granularity, start)) in reported or old in self.reports:
                        reported[old] = None, event.origin
            happened = start_of(event.envelope.time, granularity, zone)
            staffed = restaffed_seconds(restaffed, granularity, zone) if restaffed else {}
            oldest = rules.oldest(latest, granularity)
            for start in sorted({happened, *staffed}) if staffed else (happened,):
                if start < oldest:
                    continue  # too late for a window that is kept
                key = window_key(data.region_id, data.store_id, granularity, start)
                window = cached[0] if (cached := reported.get(key)) else self._window(key)
                # A window that knows the position is written again as it stands.
                window.record(changes if start == happened else [], event.position, staffed.get(start, 0))
                reported[key] = window, event.origin


def raise_signals(store: StoreTotals, envelope: Envelope, rules: SignalRules) -> tuple[list[Envelope], bool]:
    """The signals a return raised, ready to publish, and whether the store's open signals changed
    (a staff member began, or stopped, standing out)."""
    event: ReturnEvent = envelope.data  # type: ignore[assignment]
    before, raised = set(store.open_signals), []
    for standing in store.signals(event.region_id, event.store_id, envelope.time, rules):
        signal = LossPreventionSignal(
            store_id=event.store_id, region_id=event.region_id, at=envelope.time,
            signal_id=signal_id(envelope.id, standing.staff_id, standing.metric), **standing.model_dump(),
        )
        store.open_signals[f"{standing.staff_id}|{standing.metric}"] = signal
        log.info("loss-prevention signal", store_id=event.store_id, metric=standing.metric)
        raised.append(wrap(signal, source=SOURCE, time=envelope.time, id=signal.signal_id))
    for closed in set(store.open_signals) - store.signalled:
        del store.open_signals[closed]
    return raised, set(store.open_signals) != before


def count_regions(regions: Mapping[bytes, bytes], events: Iterable[Received[T]]) -> dict[bytes, tuple[bytes, T]]:
    """Counts common problems and policy proposals into their region's totals (kept like a store's);
    returns each changed region's totals."""
    changed: dict[bytes, tuple[StoreTotals, T]] = {}
    for envelope, position, origin in events:
        key = envelope.data.region_id.encode()  # type: ignore[attr-defined]
        region = cached[0] if (cached := changed.get(key)) else readable(StoreTotals, regions.get(key), "regions")
        count(region, envelope, position)  # counted before or not, written (again) as it stands: see StoreTally
        changed[key] = region, origin
    return {key: (region.model_dump_json().encode(), origin) for key, (region, origin) in changed.items()}


def readable(model: type[M], raw: bytes | None, table: str) -> M:
    """A table value read back, or a new one when there is none or it does not read: a record on a
    changelog that is not a value of its table (restored on a new disk) is logged and counted, and
    counting starts again from nothing, rather than failing every event that reads it."""
    if raw is not None:
        try:
            return model.model_validate_json(raw)
        except ValueError as error:  # pydantic's ValidationError
            UNREADABLE.labels(table).inc()
            log.error("table value unreadable; counted afresh", table=table, error=type(error).__name__)
    return model()
