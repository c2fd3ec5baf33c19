"""The stores' and regions' totals as Prometheus reads them from the worker."""

from collections.abc import Mapping, Sequence

from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric

from services.analytics.domain.totals import METRICS, StoreTotals
from services.analytics.handlers import readable


class TotalsCollector:
    """Exposes the totals of the stores and regions whose partitions this worker owns (read on each scrape)."""

    def __init__(self, tables: Sequence[Mapping[bytes, bytes]]) -> None:
        self.tables = tables

    def collect(self) -> list[Metric]:
        families: dict[str, Metric] = {}
        for raw in [raw for table in self.tables for raw in list(table.values())]:
            for series in readable(StoreTotals, raw, "totals").series.values():
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
