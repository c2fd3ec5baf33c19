"""The stores' and regions' totals as Prometheus reads them from the worker, and the staff on duty at
each store now."""

from collections.abc import Mapping, Sequence

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric

from services.analytics.domain.totals import METRICS, STORE, StoreTotals
from services.analytics.handlers import readable
from services.shared.clock import Clock

# A gauge rather than a counter of staffed hours: a shift edited or cancelled takes its hours back,
# which a counter cannot; avg_over_time over a range gives the staffed hours per hour in it.
ON_DUTY = "retail_staff_on_duty"


class TotalsCollector:
    """Exposes the totals of the stores and regions whose partitions this worker owns (read on each scrape)."""

    def __init__(self, tables: Sequence[Mapping[bytes, bytes]], clock: Clock) -> None:
        self.tables, self.clock = tables, clock

    def collect(self) -> list[Metric]:
        families: dict[str, Metric] = {}
        on_duty = GaugeMetricFamily(ON_DUTY, "Staff members on a scheduled shift at the store now (associates, coordinators "
                                    "and store managers).", labels=STORE)
        now = self.clock()
        for raw in [raw for table in self.tables for raw in list(table.values())]:
            totals = readable(StoreTotals, raw, "totals")
            if (staffing := totals.staffing) is not None:
                on_duty.add_metric([staffing.region_id, staffing.store_id], staffing.on_duty(now))
            for series in totals.series.values():
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
        return [*families.values(), *([on_duty] if on_duty.samples else [])]
