"""The windows a batch wrote stay decoded for the next batch, as long as the table still holds what
was written: counting with them gives the same bytes as reading every window from the table, and a
window the table holds something else for (written by another worker, or never written) is read."""

from itertools import zip_longest

from services.analytics.domain.windows import Window
from services.analytics.handlers import Received, StoreTally
from tests.support.tallies import KAMPPI, SELLO, filed, received, returns_by_staff, tally, written


def interleaved() -> list[Received[int]]:
    """Complaints at two stores among the returns that raise a signal at Kamppi."""
    complaints = [filed(store) for _ in range(20) for store in (KAMPPI, SELLO)]
    returns = returns_by_staff()
    return received([event for pair in zip_longest(complaints, returns) for event in pair if event is not None], "complaints")


def counted(events: list[Received[int]], kept: bool) -> list[dict]:
    """What each batch of seven wrote to the reports, the windows kept decoded between batches or not."""
    totals: dict[bytes, bytes] = {}
    reports: dict[bytes, bytes] = {}
    counting = tally(totals, reports)
    outputs = []
    for start in range(0, len(events), 7):
        if not kept:
            counting.windows.clear()
        batch = counting.count(events[start:start + 7])
        outputs.append(dict(batch.reports))
        written(reports, batch.reports)
        written(totals, batch.totals)
    return outputs


def test_windows_kept_decoded_count_to_the_same_bytes_as_windows_read_from_the_table():
    events = interleaved()
    assert counted(events, kept=True) == counted(events, kept=False)


def test_a_window_the_table_no_longer_holds_as_written_is_read_from_the_table():
    totals: dict[bytes, bytes] = {}
    reports: dict[bytes, bytes] = {}
    counting: StoreTally = tally(totals, reports)
    first = counting.count(received([filed(KAMPPI)], "complaints"))
    written(totals, first.totals)
    written(reports, first.reports)
    key = next(key for key in first.reports if b"|hour|" in key)
    reports[key] = Window(counters={"retail_complaints_filed|service|web|low|calm": 5.0}).model_dump_json().encode()
    second = counting.count(received([filed(KAMPPI)], "complaints", first_offset=1))
    assert sum(Window.model_validate_json(second.reports[key][0]).counters.values()) == 6.0
