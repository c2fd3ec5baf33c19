"""The analytics worker's tally without Kafka, for the unit tests of its counting: events as it reads
them, its tables as plain dicts, and a chain's return requests with their exceptions."""

from datetime import UTC, datetime
from uuid import uuid4

from services.analytics.domain.signals import SignalRules
from services.analytics.domain.windows import WindowRules
from services.analytics.handlers import Received, StoreTally
from services.shared.events import complaints as c
from services.shared.events import returns as r
from services.shared.events.envelope import Event, wrap
from tests.support.builders import example

AT = datetime(2026, 11, 23, 9, 15, tzinfo=UTC)
REGION, KAMPPI, SELLO = "uusimaa", "hel-kamppi", "esp-sello"
EXCEPTIONS = {"emp-7001": 0, "emp-7002": 1, "emp-7003": 0, "emp-7004": 6}  # of 10 return requests each


def received(events: list[Event], topic: str, first_offset: int = 0, at: datetime = AT) -> list[Received[int]]:
    """The events as the worker reads them from consecutive offsets of `topic`; each one's origin is its offset."""
    return [Received(wrap(event, source="/tests", time=at), (topic, offset), offset)
            for offset, event in enumerate(events, start=first_offset)]


def filed(store: str, **changes: object) -> c.ComplaintFiled:
    return example(c.ComplaintFiled, **{"store_id": store, "region_id": REGION, "complaint_id": uuid4(), "filed_at": AT,
                                         **changes})


def tally(totals: dict[bytes, bytes], reports: dict[bytes, bytes]) -> StoreTally:
    """A worker's tally over its tables (plain dicts stand for faust's)."""
    return StoreTally(totals, reports, SignalRules(), WindowRules())


def written(table: dict[bytes, bytes], changes: dict[bytes, tuple[bytes | None, int]]) -> dict[bytes, bytes]:
    """The table after the worker wrote the changes (None deletes)."""
    for key, (value, _) in changes.items():
        if value is None:
            table.pop(key, None)
        else:
            table[key] = value
    return table


def returns_by_staff() -> list[Event]:
    """Ten return requests by each staff member of Kamppi, then their exceptions (see EXCEPTIONS)."""
    events: list[Event] = []
    for staff_id, exceptions in EXCEPTIONS.items():
        requests = [example(r.ReturnRequested, store_id=KAMPPI, region_id=REGION, return_id=uuid4(), at=AT,
                            receipt_number="R-1", requested_by=staff_id) for _ in range(10)]
        events += requests
        events += [example(r.ReturnExceptionGranted, store_id=KAMPPI, region_id=REGION, return_id=request.return_id,
                           at=AT, requested_by=staff_id) for request in requests[:exceptions]]
    return events
