"""A per-staff loss-prevention signal from the analytics worker: a staff member whose exception
rate stands out against the store's peers is signalled, once; the peers are not."""


from services.shared.topics import SIGNALS
from tests.support import eventually, read_all
from tests.support.analytics import REGION, publish_returns

STORE = "mhm-hamnen"


async def test_an_outlying_exception_rate_is_signalled_once_and_its_peers_are_not(platform, analytics):
    await publish_returns(platform, STORE)

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
