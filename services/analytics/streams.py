"""The analytics worker: counts every complaint, escalation and return event into its store's
running totals (exactly once: the totals remember how far they counted) and serves them to
Prometheus. Complaints, escalations and returns are all keyed by store on the same partition
count, so one agent sees all of a store's events and each store's totals live on one partition."""

import uuid

import faust
import structlog
from pydantic import BaseModel
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric

from services.analytics.domain.signals import SignalRules
from services.analytics.domain.totals import METRICS, StoreTotals, count
from services.analytics.domain.windows import Granularity, OpenSignals, Window, WindowRules, signals_key, start_of, window_key
from services.shared.events.envelope import Envelope, StoreEvent, wrap
from services.shared.events.returns import ReturnEvent
from services.shared.events.signals import LossPreventionSignal
from services.shared.streams import Batch, Inputs, batches, source
from services.shared.topics import COMPLAINTS, COORDINATION, ESCALATIONS, RETURNS, SIGNALS, STORE_PARTITIONS

log = structlog.get_logger()
SOURCE = "/services/analytics"
SIGNAL_IDS = uuid.UUID("5f0c1d2e-3a4b-4c5d-8e6f-708192a3b4c5")  # signal ids derive from the event that raised them
TOTALS_TABLE = "totals"
REPORTS_TABLE = "reports"  # the stores' windows and open signals, read by the reports API
REGIONS_TABLE = "regions"  # the regions' totals of common problems and policy proposals
SOURCES = (COMPLAINTS, ESCALATIONS, RETURNS)


def register(app: faust.App, signal_rules: SignalRules, window_rules: WindowRules) -> list[faust.Table]:
    inputs = Inputs(app, *SOURCES)
    signals = source(app, SIGNALS)
    totals = app.Table(TOTALS_TABLE, partitions=STORE_PARTITIONS, key_type=bytes, value_type=bytes)
    reports = app.Table(REPORTS_TABLE, partitions=STORE_PARTITIONS, key_type=bytes, value_type=bytes)
    decoded: dict[bytes, StoreTotals] = {}

    @app.on_partitions_revoked.connect
    async def forget(_app: faust.App, revoked: set, **_: object) -> None:
        decoded.clear()  # a store that comes back is read again from the table

    @app.agent(inputs.channel(*SOURCES))
    async def tally(stream: faust.StreamT) -> None:
        # Larger batches than the escalation worker's: a quarter second later on a dashboard costs
        # nothing, and the wait for the windows' delivery (below) is paid once per batch.
        async for batch in batches(stream, wait_s=0.25):
            # Each store's totals and windows are written once a batch; between batches the totals stay decoded.
            changed: dict[bytes, tuple[StoreTotals, faust.EventT]] = {}
            reported: dict[bytes, tuple[BaseModel | None, faust.EventT]] = {}  # windows and open signals; None deletes
            for event in batch:
                if (envelope := await inputs.decode(batch, event)) is None:
                    continue
                data: StoreEvent = envelope.data  # type: ignore[assignment]
                key = data.store_id.encode()
                if key not in decoded:
                    decoded[key] = StoreTotals.model_validate_json(totals.get(key, b"{}"))
                store, previous = decoded[key], decoded[key].latest
                position = (event.message.topic, event.message.offset)
                if not count(store, envelope, position):
                    continue
                changed[key] = store, event
                if isinstance(data, ReturnEvent) and await _signal(batch, signals, store, envelope, signal_rules):
                    reported[signals_key(data.region_id, data.store_id)] = OpenSignals(signals=list(store.open_signals.values())), event
                changes = store.take_changes()
                for granularity in Granularity:
                    for start in window_rules.expired(previous, store.latest, granularity):
                        if (old := window_key(data.region_id, data.store_id, granularity, start)) in reported or old in reports:
                            reported[old] = None, event
                    start = start_of(envelope.time, granularity, window_rules.timezone)
                    if start < window_rules.oldest(store.latest, granularity):
                        continue  # too late for a window that is kept
                    wkey = window_key(data.region_id, data.store_id, granularity, start)
                    window = cached[0] if (cached := reported.get(wkey)) else Window.model_validate_json(reports.get(wkey, b"{}"))
                    if window.record(changes, position):
                        reported[wkey] = window, event
            for wkey, (value, event) in reported.items():
                batch.make_current(event)
                if value is None:
                    reports.pop(wkey, None)
                else:
                    reports[wkey] = value.model_dump_json().encode()
            # The windows and signals are delivered before the totals that say their events were counted:
            # after a crash in between, the events are counted again into the totals and skipped by the
            # windows (which know their offsets), so neither counts an event twice or misses one.
            await batch.done()
            await app.producer.flush()
            for key, (store, event) in changed.items():
                batch.make_current(event)
                totals[key] = store.model_dump_json().encode()

    return [totals, _register_coordination(app)]


def _register_coordination(app: faust.App) -> faust.Table:
    """Common problems and policy proposals, per region (the coordination topic is keyed by region)."""
    inputs = Inputs(app, COORDINATION)
    regions = app.Table(REGIONS_TABLE, partitions=COORDINATION.partitions, key_type=bytes, value_type=bytes)

    @app.agent(inputs.channel(COORDINATION))
    async def tally_coordination(stream: faust.StreamT) -> None:
        async for batch in batches(stream, wait_s=0.25):
            changed: dict[bytes, tuple[StoreTotals, faust.EventT]] = {}
            for event in batch:
                if (envelope := await inputs.decode(batch, event)) is None:
                    continue
                key = envelope.data.region_id.encode()  # type: ignore[attr-defined]
                region = cached[0] if (cached := changed.get(key)) else StoreTotals.model_validate_json(regions.get(key, b"{}"))
                if count(region, envelope, (event.message.topic, event.message.offset)):
                    changed[key] = region, event
            for key, (region, event) in changed.items():
                batch.make_current(event)
                regions[key] = region.model_dump_json().encode()

    return regions


async def _signal(batch: Batch, signals: faust.TopicT, store: StoreTotals, envelope: Envelope, rules: SignalRules) -> bool:
    """Publishes the signals the return raised; True when the store's open signals changed."""
    event: ReturnEvent = envelope.data  # type: ignore[assignment]
    before = set(store.open_signals)
    for standing in store.signals(event.region_id, event.store_id, envelope.time, rules):
        signal_id = uuid.uuid5(SIGNAL_IDS, f"{envelope.id}:{standing.staff_id}:{standing.metric}")
        signal = LossPreventionSignal(
            store_id=event.store_id, region_id=event.region_id, signal_id=signal_id, at=envelope.time,
            **standing.model_dump(),
        )
        store.open_signals[f"{standing.staff_id}|{standing.metric}"] = signal
        log.info("loss-prevention signal", store_id=event.store_id, metric=standing.metric)
        await batch.send(signals, SIGNALS, wrap(signal, source=SOURCE, time=envelope.time, id=signal_id))
    for closed in set(store.open_signals) - store.signalled:
        del store.open_signals[closed]
    return set(store.open_signals) != before


class TotalsCollector:
    """Exposes the totals of the stores and regions whose partitions this worker owns (read on each scrape)."""

    def __init__(self, tables: list[faust.Table]) -> None:
        self.tables = tables

    def collect(self) -> list[Metric]:
        families: dict[str, Metric] = {}
        for raw in [raw for table in self.tables for raw in list(table.values())]:
            for series in StoreTotals.model_validate_json(raw).series.values():
                metric = METRICS[series.metric]
                family = families.get(metric.name)
                if family is None:
                    kind = CounterMetricFamily if metric.kind == "counter" else HistogramMetricFamily
                    family = families[metric.name] = kind(metric.name, metric.help, labels=metric.labels)
                values = list(series.labels.values())
                if series.histogram is None:
                    family.add_metric(values, series.value)
                    continue
                cumulative, buckets = 0, []
                for bound, n in zip([*map(str, metric.buckets), "+Inf"], series.histogram.buckets, strict=True):
                    cumulative += n
                    buckets.append((bound, cumulative))
                family.add_metric(values, buckets, series.histogram.sum)
        return list(families.values())
