"""Retention of idempotency keys and published outbox events, on SQLite and on real PostgreSQL,
with time from a clock the test moves."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from services.complaints.settings import ComplaintsSettings
from services.complaints.store.migrate import upgrade_async
from services.complaints.store.models import IdempotencyKey, Lease, OutboxEvent
from services.complaints.store.retention import make_retention
from services.shared.db import make_engine, sessions
from services.shared.leases import claim_turn
from services.shared.principal import Role
from services.shared.retention import RETENTION_LEASE, Purged, purge, purge_all
from tests.support import ManualClock, eventually
from tests.support.complaints import Api, start_api

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request, tmp_path, new_database) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'complaints.db'}"
    return await new_database()


@pytest.fixture
async def store(database_url):
    await upgrade_async(database_url)
    engine = make_engine(database_url)
    yield sessions(engine)
    await engine.dispose()


async def test_an_expired_idempotency_key_is_forgotten_and_a_retry_with_it_files_anew(database_url, platform):
    clock = ManualClock(NOW)
    async for api in start_api(database_url, platform, clock=clock, relay_enabled=False, idempotency_keep_hours=24):

        async def file(key: str):
            body = {
                "store_id": "hel-kamppi", "customer": {"email": "aino@example.com"}, "channel": "in_store",
                "category": "product_quality", "severity": "medium", "mood": "upset", "description": "It leaks.",
            }
            headers = {**api.token(Role.associate), "Idempotency-Key": key}
            return await api.client.post("/v1/complaints", json=body, headers=headers)

        old = await file("old")
        clock.advance(timedelta(hours=23))
        fresh = await file("fresh")
        assert (old.status_code, fresh.status_code) == (201, 201)
        clock.advance(timedelta(hours=1, seconds=1))  # "old" is now past 24 hours, "fresh" an hour old

        await eventually(lambda: _keys(api, {"fresh"}), timeout_s=15, what="the retention pass forgetting 'old'")
        again_old, again_fresh = await file("old"), await file("fresh")
        assert again_old.status_code == 201 and "Idempotent-Replayed" not in again_old.headers
        assert again_old.json()["id"] != old.json()["id"]
        assert again_fresh.status_code == 201 and again_fresh.headers["Idempotent-Replayed"] == "true"
        assert again_fresh.json()["id"] == fresh.json()["id"]


async def test_a_contact_read_is_kept_its_days_for_senior_managers_and_then_forgotten(database_url, platform):
    clock = ManualClock(NOW)
    async for api in start_api(database_url, platform, clock=clock, relay_enabled=False, contact_reads_keep_days=365):
        complaint_id = (await api.file()).json()["id"]

        async def read_contact() -> None:
            response = await api.client.get(f"/v1/complaints/{complaint_id}", headers=api.token(Role.associate))
            assert response.json()["customer"]["email"] == "aino@example.com"

        async def recorded() -> list[str]:
            response = await api.client.get("/v1/contact-reads", params={"complaint_id": complaint_id},
                                            headers=api.token(Role.senior_manager))
            return [read["read_at"] for read in response.json()["items"]]

        await read_contact()
        clock.advance(timedelta(days=300))
        await read_contact()
        clock.advance(timedelta(days=65, seconds=1))  # the first read is now past 365 days, the second 65 days old
        remaining = await eventually(lambda: _one_left(recorded), timeout_s=15, what="the first read forgotten")
        assert remaining == ["2027-09-26T09:00:00Z"]


async def _one_left(recorded) -> list[str] | None:
    reads = await recorded()
    return reads if len(reads) == 1 else None


async def test_published_outbox_events_past_the_limit_go_and_the_rest_stay(store):
    retention = make_retention(ComplaintsSettings(outbox_keep_days=7, retention_batch_size=1000))
    async with store() as session, session.begin():
        expired = _event(published=NOW - timedelta(days=7, seconds=1))
        recent = _event(published=NOW - timedelta(days=6))
        unpublished_old = _event(published=None, created=NOW - timedelta(days=30))
        session.add_all([expired, recent, unpublished_old])
    assert await purge_all(store, NOW, retention) == Purged(outbox=1)
    assert await _outbox(store) == {recent.event_id, unpublished_old.event_id}


async def test_a_pass_deletes_in_bounded_batches_until_nothing_expired_is_left(store):
    settings = ComplaintsSettings(idempotency_keep_hours=24, outbox_keep_days=7, retention_batch_size=2)
    retention = make_retention(settings)
    async with store() as session, session.begin():
        session.add_all(_key(f"old-{number}", created=NOW - timedelta(hours=25)) for number in range(5))
        session.add_all(_event(published=NOW - timedelta(days=8)) for _ in range(7))
        session.add(_key("fresh", created=NOW - timedelta(hours=1)))
        kept = _event(published=NOW - timedelta(days=1))
        session.add(kept)

    async with store() as session, session.begin():
        assert await purge(session, NOW, retention) == Purged(idempotency_keys=2, outbox=2)  # one transaction, one batch
    assert await purge_all(store, NOW, retention) == Purged(idempotency_keys=3, outbox=5)
    async with store() as session:
        assert set((await session.execute(select(IdempotencyKey.key))).scalars()) == {"fresh"}
    assert await _outbox(store) == {kept.event_id}


async def test_one_replica_claims_each_pass_and_a_restarted_one_waits_for_the_due_time(store):
    hour = timedelta(hours=1)

    def claim_pass(session, holder, now, interval):
        return claim_turn(session, Lease, RETENTION_LEASE, holder, now, interval)

    async with store() as session, session.begin():
        assert await claim_pass(session, "replica-a", NOW, hour) == (True, NOW + hour)
    async with store() as session, session.begin():
        assert await claim_pass(session, "replica-b", NOW, hour) == (False, NOW + hour)
    async with store() as session, session.begin():  # replica a, restarted under a new name
        assert await claim_pass(session, "replica-a2", NOW + hour / 2, hour) == (False, NOW + hour)
    async with store() as session, session.begin():
        assert await claim_pass(session, "replica-b", NOW + hour, hour) == (True, NOW + 2 * hour)


def _key(key: str, created: datetime) -> IdempotencyKey:
    return IdempotencyKey(
        principal="emp-1042", key=key, request_hash="0" * 64, status_code=201, body=b"{}", created_at=created
    )


def _event(published: datetime | None, created: datetime | None = None) -> OutboxEvent:
    return OutboxEvent(
        event_id=uuid.uuid4(), topic="complaints", key="hel-kamppi", payload=b"{}",
        created_at=created or published - timedelta(seconds=1), published_at=published,
    )


async def _keys(api: Api, expected: set[str]) -> bool:
    async with api.app.state.sessions() as session:
        return set((await session.execute(select(IdempotencyKey.key))).scalars()) == expected


async def _outbox(store) -> set[uuid.UUID]:
    async with store() as session:
        return set((await session.execute(select(OutboxEvent.event_id))).scalars())
