"""Two replicas of the scheduling API behind one address, on one PostgreSQL database and the real
broker, as a cluster runs them: a store manager keeps writing coaching notes through the address while
one replica and then the other is killed with kill -9 (the first started again in between). A note cut
off by a kill is sent again with its idempotency key and lands on the surviving replica. Every note
answered 201 is kept once and its CoachingNoteRecorded published once, and the outbox relay's lease
moves to a surviving replica when its holder dies."""

from collections import defaultdict

import httpx
import pytest

from services.scheduling.store.models import Lease
from services.shared.events.scheduling import CoachingNoteRecorded
from services.shared.principal import Role
from services.shared.topics import SCHEDULING
from tests.support import eventually, read_all
from tests.support.balancer import balancing
from tests.support.infra import own_platform
from tests.support.replicas import Writers, api_replicas, killed_in_turn, lease_holders
from tests.support.scheduling import Api, add_chain, service_env

COACH, COACHED = "mgr-0007", "emp-1042"
EACH_PHASE = 20  # notes answered 201 before the next kill or start


@pytest.fixture(scope="module")
def platform(infra_dir):
    """A broker of the module's own: the notes' events are read here from the start of the topic."""
    with own_platform(infra_dir / "kafka-scheduling-replicas") as platform:
        yield platform


@pytest.fixture
async def replicas(new_database, platform):
    async with api_replicas("services.scheduling", service_env, await new_database(), platform, relay_lease_s="3") as both:
        yield both


async def test_coaching_notes_written_through_one_address_go_on_while_replicas_are_killed_and_lose_nothing(
    replicas, platform
):
    first, second = replicas
    async with (balancing([first.port, second.port]) as url, httpx.AsyncClient(base_url=url, timeout=30) as client,
                lease_holders(first.env["SCHEDULING_DATABASE_URL"], Lease) as holders):
        api = Api(client, platform, None, None)
        await add_chain(api)
        coach = api.token(Role.store_manager, "hel-kamppi", sub=COACH)

        async def note(key: str, writer: int) -> str:
            response = await client.post(f"/v1/staff/{COACHED}/coaching-notes", headers={**coach, "Idempotency-Key": key},
                                         json={"text": f"Writer {writer}: offer the exchange first.", "complaint_ids": []})
            assert response.status_code == 201, response.text
            return response.json()["note_id"]

        writers = Writers(note)
        await killed_in_turn(replicas, writers, EACH_PHASE,
                             lambda: published(platform, set(writers.accepted.values())))  # by the second's relay

        # Each note written is one note, however often it was sent: the person's notes are exactly those.
        response = await client.get(f"/v1/staff/{COACHED}/coaching-notes", params={"limit": 500}, headers=coach)
        assert response.status_code == 200, response.text
        listed = [each["note_id"] for each in response.json()]
    accepted = set(writers.accepted.values())
    assert len(accepted) == len(writers.accepted) and sorted(listed) == sorted(accepted)

    # Each is published once: one event id for each note, and every one arrives.
    events = await published(platform, accepted)
    assert set(events) == accepted
    assert {note: ids for note, ids in events.items() if len(ids) > 1} == {}
    assert len(set(holders)) >= 2, f"the relay's lease never moved: {holders}"


async def published(platform, notes: set[str]) -> dict[str, set]:
    """The event ids of the recorded notes on Kafka, by note, once `notes` are all there."""
    async def all_there() -> dict:
        found = defaultdict(set)
        for envelope in await read_all(platform.kafka_bootstrap_servers, SCHEDULING):
            if isinstance(envelope.data, CoachingNoteRecorded):
                found[str(envelope.data.note_id)].add(envelope.id)
        return found if notes <= set(found) else {}

    return await eventually(all_there, timeout_s=60, what="every note answered 201 on Kafka")
