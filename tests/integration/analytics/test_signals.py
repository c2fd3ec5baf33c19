"""A per-staff loss-prevention signal from the analytics worker: a staff member whose exception
rate stands out against the store's peers is signalled, once; the peers are not."""

from datetime import UTC, datetime
from uuid import uuid4

from services.shared.events.envelope import wrap
from services.shared.events.returns import ReturnExceptionGranted, ReturnRequested
from services.shared.kafka import make_producer, publish
from services.shared.topics import RETURNS, SIGNALS
from tests.integration.analytics.conftest import REGION
from tests.support import eventually, read_all

STORE = "mhm-hamnen"
EXCEPTIONS = {"emp-7001": 0, "emp-7002": 1, "emp-7003": 0, "emp-7004": 6}  # of 10 requests each


def returns_by(staff_id: str, exceptions: int, store: str = STORE) -> list:
    now = datetime.now(UTC)
    common = {"store_id": store, "region_id": REGION, "kind": "refund", "tender": "cash",
              "amount": {"minor_units": 1990, "currency": "EUR"}, "at": now}
    requests = [ReturnRequested(**common, return_id=uuid4(), receipt_number="R-1", product_category="toys",
                                days_since_purchase=3, requested_by=staff_id) for _ in range(10)]
    granted = [ReturnExceptionGranted(**{**common, "return_id": request.return_id}, rules=["return_window"],
                                      approver="mgr-7000", approver_role="store_manager", requested_by=staff_id)
               for request in requests[:exceptions]]
    return [*requests, *granted]


async def publish_returns(platform, store: str = STORE) -> None:
    """Ten return requests by each staff member of the store, and their exceptions (see EXCEPTIONS)."""
    events = [event for staff_id, count in EXCEPTIONS.items() for event in returns_by(staff_id, count, store)]
    producer = make_producer(platform, client_id="test-returns")
    await producer.start()
    try:
        await publish(producer, RETURNS, [wrap(e, source="/tests", time=e.at) for e in events], platform)
    finally:
        await producer.stop()


async def test_an_outlying_exception_rate_is_signalled_once_and_its_peers_are_not(platform, analytics):
    await publish_returns(platform)

    requests = ("retail_return_requests_total", (("kind", "refund"), ("receipt", "yes"), ("region", REGION),
                                                 ("store", STORE), ("tender", "cash")))

    async def counted() -> bool:
        return (await analytics.samples()).get(requests) == 40

    await eventually(counted, timeout_s=90, what="the worker to count every request")
    signals = [e.data for e in await read_all(platform.kafka_bootstrap_servers, SIGNALS) if e.data.store_id == STORE]
    assert [(s.staff_id, s.metric) for s in signals] == [("emp-7004", "policy_exception_rate")]
    [signal] = signals
    # reported once, when its rate first stood out: 2 exceptions in 10 requests, against peers at 0, 0.1 and 0
    assert (signal.value, signal.peer_median, signal.robust_z) == (0.2, 0.0, 4.0)
    counter = ("retail_lossprevention_signals_total", (("metric", "policy_exception_rate"), ("region", REGION),
                                                       ("store", STORE)))
    assert (await analytics.samples())[counter] == 1
