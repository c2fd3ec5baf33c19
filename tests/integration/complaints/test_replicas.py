"""Two replicas of the complaints API behind one address, on one PostgreSQL database and the real
broker, as a cluster runs them: staff keep filing through the address while one replica and then the
other is killed with kill -9 (the first started again in between). A filing cut off by a kill is sent
again with its idempotency key, as clients do, and lands on the surviving replica. Every complaint
answered 201 is kept once and published once on Kafka, and the outbox relay's lease moves to a
surviving replica when its holder dies."""

from collections import defaultdict
from uuid import uuid4

import httpx
import pytest

from services.complaints.store.models import Lease
from services.shared.events.complaints import ComplaintFiled
from services.shared.principal import Role
from services.shared.topics import COMPLAINTS
from tests.support import eventually, read_all
from tests.support.balancer import balancing
from tests.support.complaints import Api, add_stores, service_env
from tests.support.infra import own_platform
from tests.support.replicas import Writers, api_replicas, killed_in_turn, lease_holders

RUN = uuid4().hex[:8]
REGION = f"replicas-{RUN}"
STORES = [f"replicas-{RUN}-{n}" for n in range(4)]
FILERS = 4  # staff filing at once
EACH_PHASE = 25  # complaints answered 201 before the next kill or start


@pytest.fixture(scope="module")
def platform(infra_dir):
    """A broker of the module's own: the hundreds of complaints filed here would otherwise be routed by
    every later escalation worker of the session's broker, and their assignments slow later tests."""
    with own_platform(infra_dir / "kafka-complaints-replicas") as platform:
        yield platform


@pytest.fixture
async def replicas(new_database, platform):
    async with api_replicas("services.complaints", service_env, await new_database(), platform, relay_lease_s="3") as both:
        yield both


async def test_filing_through_one_address_goes_on_while_replicas_are_killed_and_loses_nothing(replicas, platform):
    first, second = replicas
    async with (balancing([first.port, second.port]) as url, httpx.AsyncClient(base_url=url, timeout=30) as client,
                lease_holders(first.env["COMPLAINTS_DATABASE_URL"], Lease) as holders):
        api = Api(client, platform, None, stores={})
        await add_stores(api, REGION, STORES)

        async def file(key: str, writer: int) -> str:
            store = STORES[writer % len(STORES)]
            response = await api.file(store=store, headers={"Idempotency-Key": key}, description=f"Filer {writer}.")
            assert response.status_code == 201, response.text
            return response.json()["id"]

        filers = Writers(file, FILERS)
        await killed_in_turn(replicas, filers, EACH_PHASE,
                             lambda: published(platform, set(filers.accepted.values())))  # by the second's relay

        # Each filing is one complaint, however often it was sent: the stores list exactly those.
        listed = set()
        for store in STORES:
            cursor = None
            while True:
                response = await client.get("/v1/complaints", params={"store_id": store, "limit": 200, **(
                    {"cursor": cursor} if cursor else {})}, headers=api.token(Role.store_manager, store, region=REGION))
                assert response.status_code == 200, response.text
                listed |= {complaint["id"] for complaint in response.json()["items"]}
                if not (cursor := response.json()["next_cursor"]):
                    break
    accepted = set(filers.accepted.values())
    assert len(accepted) == len(filers.accepted) and listed == accepted

    # Each is published once: one event id for each complaint (a relay taking over may send a row again
    # under the same id, which consumers drop), and every one arrives.
    events = await published(platform, accepted)
    assert set(events) == accepted
    assert {complaint: ids for complaint, ids in events.items() if len(ids) > 1} == {}
    assert len(set(holders)) >= 2, f"the relay's lease never moved: {holders}"


async def published(platform, complaints: set[str]) -> dict[str, set]:
    """The event ids of the stores' filed complaints on Kafka, by complaint, once `complaints` are all there."""
    async def all_there() -> dict:
        found = defaultdict(set)
        for envelope in await read_all(platform.kafka_bootstrap_servers, COMPLAINTS):
            if isinstance(envelope.data, ComplaintFiled) and envelope.data.store_id in STORES:
                found[str(envelope.data.complaint_id)].add(envelope.id)
        return found if complaints <= set(found) else {}

    return await eventually(all_there, timeout_s=60, what="every complaint answered 201 on Kafka")
