"""The stores' and regions' totals as Prometheus reads them from the worker, and the staff on duty at
each store now.

The text is written here rather than by prometheus_client's collectors: a store of a year's traffic
has about 500 series, and a sample object for each cost 10 to 40 ms a store, so a scrape of 500
stores took 20 s (past Prometheus's 10 s timeout) and held every sample as objects at once. Each
store's lines are kept encoded between scrapes and written again only when its totals change: a
scrape runs on the worker's event loop, and most stores change little between two scrapes."""

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from prometheus_client.utils import floatToGoString
from pydantic import BaseModel

from services.analytics.domain.staffing import Staffing
from services.analytics.domain.totals import METRICS, STORE, Metric, Series
from services.analytics.handlers import readable
from services.shared.clock import Clock

# A gauge rather than a counter of staffed hours: a shift edited or cancelled takes its hours back,
# which a counter cannot; avg_over_time over a range gives the staffed hours per hour in it.
ON_DUTY = "retail_staff_on_duty"
ON_DUTY_HELP = "Staff members on a scheduled shift at the store now (associates, coordinators and store managers)."


class Exposed(BaseModel):
    """What a scrape reads of a store's or region's totals; the rest of the value is skipped unread."""

    series: dict[str, Series] = {}
    staffing: Staffing | None = None


@dataclass(frozen=True, slots=True)
class Written:
    """One table value's lines, by metric name, and the hash of the value they were written from."""

    fingerprint: int
    lines: dict[str, bytes]
    staffing: Staffing | None

    @classmethod
    def of(cls, raw: bytes, fingerprint: int) -> "Written":
        exposed = readable(Exposed, raw, "totals")
        lines: dict[str, list[str]] = {}
        for series in exposed.series.values():
            lines.setdefault(series.metric, []).extend(_lines(METRICS[series.metric], series))
        return cls(fingerprint, {name: "".join(text).encode() for name, text in lines.items()}, exposed.staffing)


class TotalsExposition:
    """The totals of the stores and regions whose partitions this worker owns, read on each scrape,
    in Prometheus's text format."""

    def __init__(self, tables: Sequence[Mapping[bytes, bytes]], clock: Clock) -> None:
        self.tables, self.clock = tables, clock
        self._written: list[dict[bytes, Written]] = [{} for _ in tables]  # per table, by key

    def __call__(self) -> list[bytes]:
        now = self.clock()
        families: dict[str, list[bytes]] = {name: [] for name in METRICS}
        on_duty: list[str] = []
        for table, kept in zip(self.tables, self._written, strict=True):
            seen = {}
            for key, raw in table.items():  # one value read at a time
                fingerprint, written = hash(raw), kept.get(key)
                if written is None or written.fingerprint != fingerprint:
                    written = Written.of(raw, fingerprint)
                seen[key] = written
                for name, lines in written.lines.items():
                    families[name].append(lines)
                if (staffing := written.staffing) is not None:
                    on_duty.append(_line(ON_DUTY, _labels(STORE, (staffing.region_id, staffing.store_id)),
                                         staffing.on_duty(now)))
            kept.clear()  # a key no longer in the table (its partition moved to another worker) is forgotten
            kept.update(seen)
        text = []
        for name, chunks in families.items():
            if chunks:
                text += [_header(METRICS[name]), *chunks]
        if on_duty:
            text.append(f"# HELP {ON_DUTY} {ON_DUTY_HELP}\n# TYPE {ON_DUTY} gauge\n{''.join(on_duty)}".encode())
        return text  # sent as it is, not joined into one copy


def _header(metric: Metric) -> bytes:
    name = f"{metric.name}_total" if metric.kind == "counter" else metric.name
    return f"# HELP {name} {metric.help}\n# TYPE {name} {metric.kind}\n".encode()


def _lines(metric: Metric, series: Series) -> Iterator[str]:
    labels = _labels(metric.labels, [series.labels[name] for name in metric.labels])
    if (histogram := series.histogram) is None:
        yield _line(f"{metric.name}_total", labels, series.value)
        return
    cumulative = 0
    for bound, n in zip([*map(str, metric.buckets), "+Inf"], histogram.buckets, strict=True):
        cumulative += n
        yield _line(f"{metric.name}_bucket", f'{labels},le="{bound}"' if labels else f'le="{bound}"', cumulative)
    yield _line(f"{metric.name}_count", labels, cumulative)
    yield _line(f"{metric.name}_sum", labels, histogram.sum)


def _labels(names: Sequence[str], values: Sequence[str]) -> str:
    return ",".join(f'{name}="{_escaped(value)}"' for name, value in zip(names, values, strict=True))


def _escaped(value: str) -> str:
    return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")


def _line(name: str, labels: str, value: float) -> str:
    return f"{name}{{{labels}}} {floatToGoString(value)}\n" if labels else f"{name} {floatToGoString(value)}\n"
