"""Publishing a week and every later change put each site's whole roster on the compacted `roster`
topic (keyed by site) through the outbox, on real PostgreSQL and Kafka; the escalation worker's own
lookup finds the right person in it, and no contact channel ever reaches Kafka."""

from datetime import UTC, datetime, timedelta

from services.escalation.domain.routing import on_duty
from services.shared.events.envelope import decode
from services.shared.events.fields import Tier
from services.shared.kafka import ensure_topics
from services.shared.topics import ALL_TOPICS, ROSTER, SCHEDULING
from tests.support import eventually, read_records
from tests.support.scheduling import start_api


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


async def rosters_at(api, moment: datetime) -> list:
    """This service's roster records written at `moment` (a time of the test's own: other tests share
    the broker and the sites' names), in topic order, with their keys."""
    records = await read_records(api.platform.kafka_bootstrap_servers, ROSTER.name, ROSTER.partitions)
    found = [(record.key.decode(), decode(record.value, ROSTER.event_classes)) for record in records]
    return [(key, env) for key, env in found if env.source == "/services/scheduling" and env.time == moment]


async def test_publishing_and_changes_put_each_sites_roster_on_kafka(api):
    api.clock.now = utc(2027, 3, 1, 5, 17)  # a moment of this test's own, to find its records
    for staff, site, start, end in (
        ("mgr-0007", "hel-kamppi", utc(2027, 3, 1, 7), utc(2027, 3, 1, 15)),
        ("emp-1042", "hel-kamppi", utc(2027, 3, 1, 7), utc(2027, 3, 1, 15)),
        ("rc-uusimaa-1", "hel-kamppi", utc(2027, 3, 1, 6), utc(2027, 3, 1, 18)),
    ):
        response = await api.shift(staff, site, start, end)
        assert response.status_code == 201, response.text
    manager_shift = (await api.client.get("/v1/shifts", params={"staff_id": "mgr-0007"}, headers=api.admin())).json()[0]
    assert (await api.publish("hel-kamppi", "2027-03-01")).status_code == 200
    published_at = api.clock.now

    async def published() -> bool:
        return {key for key, _ in await rosters_at(api, published_at)} >= {"hel-kamppi", "hel-callcentre"}

    await eventually(published, what="the rosters of the published week")
    rosters = dict(await rosters_at(api, published_at))  # the latest per site, as compaction keeps it
    kamppi = rosters["hel-kamppi"].data
    assert kamppi.store_id == "hel-kamppi" and kamppi.region_id == "uusimaa" and kamppi.valid_from == published_at
    assert [(d.staff_id, d.role) for d in kamppi.on_duty] == [
        ("rc-uusimaa-1", Tier.regional_coordinator), ("emp-1042", Tier.associate), ("mgr-0007", Tier.store_manager)
    ]
    assert on_duty(kamppi, Tier.store_manager, utc(2027, 3, 1, 10)).staff_id == "mgr-0007"
    # The region's coordinator is in every site's roster of the region, the call centre's too.
    assert [d.staff_id for d in rosters["hel-callcentre"].data.on_duty] == ["rc-uusimaa-1"]

    # A later change: the manager's shift is cancelled and another manager takes over.
    api.clock.now = utc(2027, 3, 1, 5, 18)
    cancelled = await api.client.post(f"/v1/shifts/{manager_shift['shift_id']}/cancel", headers=api.admin())
    assert cancelled.status_code == 200
    assert (await api.shift("mgr-0008", "hel-kamppi", utc(2027, 3, 1, 7), utc(2027, 3, 1, 15))).status_code == 201
    changed_at = api.clock.now

    async def changed() -> bool:
        latest = [env for key, env in await rosters_at(api, changed_at) if key == "hel-kamppi"]
        return bool(latest) and any(d.staff_id == "mgr-0008" for d in latest[-1].data.on_duty)

    await eventually(changed, what="the roster after the change")
    latest = [env for key, env in await rosters_at(api, changed_at) if key == "hel-kamppi"][-1].data
    assert on_duty(latest, Tier.store_manager, utc(2027, 3, 1, 10)).staff_id == "mgr-0008"
    assert "mgr-0007" not in {d.staff_id for d in latest.on_duty}
    # The call centre's roster did not change, so it was not published again.
    assert {key for key, _ in await rosters_at(api, changed_at)} == {"hel-kamppi"}

    # Shift events on `scheduling`, and no contact channel on either topic.
    shifts = await read_records(api.platform.kafka_bootstrap_servers, SCHEDULING.name, SCHEDULING.partitions)
    ours = [decode(r.value, SCHEDULING.event_classes) for r in shifts]
    ours = [env for env in ours if env.source == "/services/scheduling" and env.time in (published_at, changed_at)]
    assert {type(env.data).__name__ for env in ours} == {"ShiftScheduled", "ShiftCancelled"}
    roster_bytes = await read_records(api.platform.kafka_bootstrap_servers, ROSTER.name, ROSTER.partitions)
    for record in [*shifts, *roster_bytes]:
        assert b"@chain.example" not in record.value and b"+358" not in record.value


async def test_a_roster_cut_at_its_limit_is_published_again_as_its_earliest_shifts_end(new_database, platform):
    ensure_topics(platform, ALL_TOPICS)
    async for api in start_api(await new_database(), platform, roster_max_shifts=2, roster_refresh_minutes=1):
        api.clock.now = utc(2027, 3, 1, 5, 19)
        days = [utc(2027, 3, day, 7) for day in (1, 2, 3, 4)]
        for start in days:
            response = await api.shift("mgr-0007", "hel-kamppi", start, start + timedelta(hours=8))
            assert response.status_code == 201, response.text
        assert (await api.publish("hel-kamppi", "2027-03-01")).status_code == 200

        async def kamppi_rosters(moment: datetime) -> list:
            return [env.data for key, env in await rosters_at(api, moment) if key == "hel-kamppi"]

        published = await eventually(lambda: kamppi_rosters(utc(2027, 3, 1, 5, 19)), what="the published roster")
        assert [d.starts_at for d in published[-1].on_duty] == days[:2]  # the earliest two, at most

        # Two days on, the first two shifts have ended: the next refresh lists the other two.
        api.clock.now = utc(2027, 3, 2, 16)
        refreshed = await eventually(lambda: kamppi_rosters(utc(2027, 3, 2, 16)), what="the refreshed roster")
        assert [d.starts_at for d in refreshed[-1].on_duty] == days[2:]
        assert on_duty(refreshed[-1], Tier.store_manager, utc(2027, 3, 3, 10)).staff_id == "mgr-0007"
