"""The analytics worker scaled out on Kafka's consumer group, on a broker of its own: three replicas
share the 12 partitions of the topics it counts; one is killed with SIGKILL while complaints arrive and
the other two take its partitions (their totals held as standbys, or restored from the changelogs); a
replica is added and the partitions are spread over three again. The region totals the live replicas
export, added up as Prometheus sums them, count every complaint once."""

from collections import Counter

import pytest

from services.shared.events.envelope import Envelope
from services.shared.settings import PlatformSettings
from services.shared.topics import COMPLAINTS
from tests.support.analytics import Analytics, publish_events
from tests.support.replicas import BATCH, REGIONS, Replicas, complaints, partition_of, scale_out_broker


@pytest.fixture(scope="module")
def broker(tmp_path_factory) -> PlatformSettings:
    with scale_out_broker(tmp_path_factory.mktemp("scale-out-kafka")) as platform:
        yield platform


async def test_analytics_replicas_share_partitions_and_take_over_a_killed_ones_counting_each_event_once(broker, tmp_path):
    replicas = Replicas("analytics", lambda data_dir, env: Analytics(broker, data_dir, env=env), tmp_path)
    filed: list[Envelope] = []

    async def totals(by: str = "region") -> Counter:
        summed: Counter = Counter()
        for replica in replicas.live.values():
            for (name, labels), value in (await replica.scrape(lambda s: s.labels.get("region") in REGIONS)).items():
                if name == "retail_complaints_filed_total":
                    summed[dict(labels)[by]] += value
        return summed

    async def counted_once() -> bool:
        return await totals() == Counter(e.data.region_id for e in filed)

    async def counts() -> str:
        stores, expected = await totals("store"), Counter(e.data.store_id for e in filed)
        wrong = {f"{store} (partition {partition_of(store, COMPLAINTS)})": (stores[store], n)
                 for store, n in expected.items() if stores[store] != n}
        return (f"counted {dict(await totals())}, filed {dict(Counter(e.data.region_id for e in filed))}; "
                f"stores counted wrong (counted, filed): {wrong}")

    try:
        await replicas.started(broker, COMPLAINTS, "a", "b", "c")
        filed += (first := complaints(BATCH))
        await publish_events(broker, COMPLAINTS, first)
        await replicas.until(counted_once, "the first complaints to be counted", counts)

        filed += (second := complaints(BATCH))
        await replicas.killed_while("a", broker, COMPLAINTS, publish_events(broker, COMPLAINTS, second))
        await replicas.until(counted_once, "complaints filed across the kill to be counted once", counts)

        await replicas.started(broker, COMPLAINTS, "d")
        filed += (third := complaints(BATCH))
        await publish_events(broker, COMPLAINTS, third)
        await replicas.until(counted_once, "complaints filed after the addition to be counted once", counts)
    finally:
        replicas.stop()
