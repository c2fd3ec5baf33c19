"""The analytics worker: counts every complaint, escalation and return event into its store's
running totals (exactly once: the totals remember how far they counted) and serves them to
Prometheus. Complaints, escalations and returns are all keyed by store on the same partition
count, so one agent sees all of a store's events and each store's totals live on one partition."""

import uuid

import faust
import structlog
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric

from services.analytics.domain.signals import SignalRules
from services.analytics.domain.totals import METRICS, StoreTotals, count
from services.shared.events.envelope import Envelope, wrap
from services.shared.events.returns import ReturnEvent
from services.shared.events.signals import LossPreventionSignal
from services.shared.streams import Batch, Inputs, batches, source
from services.shared.topics import COMPLAINTS, ESCALATIONS, RETURNS, SIGNALS, STORE_PARTITIONS

log = structlog.get_logger()
SOURCE = "/services/analytics"
SIGNAL_IDS = uuid.UUID("5f0c1d2e-3a4b-4c5d-8e6f-708192a3b4c5")  # signal ids derive from the event that raised them
TOTALS_TABLE = "totals"
SOURCES = (COMPLAINTS, ESCALATIONS, RETURNS)


def register(app: faust.App, signal_rules: SignalRules) -> faust.Table:
    inputs = Inputs(app, *SOURCES)
    signals = source(app, SIGNALS)
    totals = app.Table(TOTALS_TABLE, partitions=STORE_PARTITIONS, key_type=bytes, value_type=bytes)
    decoded: dict[bytes, StoreTotals] = {}

    @app.on_partitions_revoked.connect
    async def forget(_app: faust.App, revoked: set, **_: object) -> None:
        decoded.clear()  # a store that comes back is read again from the table

    @app.agent(inputs.channel(*SOURCES))
    async def tally(stream: faust.StreamT) -> None:
        async for batch in batches(stream):
            # Each store's totals are written once a batch; between batches they stay decoded here.
            changed: dict[bytes, tuple[StoreTotals, faust.EventT]] = {}
            for event in batch:
                if (envelope := await inputs.decode(batch, event)) is None:
                    continue
                key = envelope.data.store_id.encode()  # type: ignore[attr-defined]
                if key not in decoded:
                    decoded[key] = StoreTotals.model_validate_json(totals.get(key, b"{}"))
                store = decoded[key]
                if count(store, envelope, (event.message.topic, event.message.offset)):
                    changed[key] = store, event
                    if isinstance(envelope.data, ReturnEvent):
                        await _signal(batch, signals, store, envelope, signal_rules)
            for key, (store, event) in changed.items():
                batch.make_current(event)
                totals[key] = store.model_dump_json().encode()

    return totals


async def _signal(batch: Batch, signals: faust.TopicT, store: StoreTotals, envelope: Envelope, rules: SignalRules) -> None:
    event: ReturnEvent = envelope.data  # type: ignore[assignment]
    for standing in store.signals(event.region_id, event.store_id, envelope.time, rules):
        signal_id = uuid.uuid5(SIGNAL_IDS, f"{envelope.id}:{standing.staff_id}:{standing.metric}")
        signal = LossPreventionSignal(
            store_id=event.store_id, region_id=event.region_id, signal_id=signal_id, at=envelope.time,
            **standing.model_dump(),
        )
        log.info("loss-prevention signal", store_id=event.store_id, metric=standing.metric)
        await batch.send(signals, SIGNALS, wrap(signal, source=SOURCE, time=envelope.time, id=signal_id))


class TotalsCollector:
    """Exposes the totals of the stores whose partitions this worker owns (read on each scrape)."""

    def __init__(self, totals: faust.Table) -> None:
        self.totals = totals

    def collect(self) -> list[Metric]:
        families: dict[str, Metric] = {}
        for raw in list(self.totals.values()):
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
