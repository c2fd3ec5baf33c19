"""The complaints store itself: migrations that match the models, a unit of work's commit, and
time-dependent rules run on a clock the test controls."""

import asyncio
import sys
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select, text

from services.complaints.store.migrate import MIGRATIONS, upgrade_async
from services.complaints.store.models import Base, Complaint, Region
from services.complaints.store.outbox import OUTBOX
from services.shared.db import make_engine
from services.shared.migrate import alembic_config
from services.shared.outbox import UnitOfWork
from services.shared.principal import Role
from tests.support import ManualClock
from tests.support.complaints import start_api


async def test_migrations_build_exactly_the_models_schema(new_database):
    url = await new_database()
    await upgrade_async(url)
    await upgrade_async(url)  # a second run is a no-op
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            differences = await connection.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync, opts={"compare_type": True}), Base.metadata)
            )
    finally:
        await engine.dispose()
    assert differences == [], "the models changed without a migration"


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
async def test_upgrading_gives_each_complaint_the_contact_its_customer_held_and_keeps_customers_pseudonymous(
    database, tmp_path, new_database
):
    url = f"sqlite:///{tmp_path / 'complaints.db'}" if database == "sqlite" else await new_database()
    await asyncio.to_thread(command.upgrade, alembic_config(MIGRATIONS, url), "0002")
    customer_id, complaint_id, at = uuid.uuid4(), uuid.uuid4(), datetime(2026, 11, 1, tzinfo=UTC)
    customers = sa.table("customers", *(sa.column(name) for name in ("customer_ref", "name", "email", "phone")),
                         sa.column("id", sa.Uuid))
    complaints = sa.table(
        "complaints", sa.column("id", sa.Uuid), sa.column("customer_id", sa.Uuid),
        sa.column("created_at", sa.DateTime(timezone=True)), sa.column("updated_at", sa.DateTime(timezone=True)),
        *(sa.column(name) for name in ("store_id", "region_id", "channel", "category", "severity", "mood", "status",
                                       "filed_by", "reassigned", "reopen_count")),
    )
    engine = make_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(sa.insert(sa.table("regions", sa.column("id"), sa.column("name"))),
                                     {"id": "uusimaa", "name": "Uusimaa"})
            await connection.execute(
                sa.insert(sa.table("stores", *(sa.column(name) for name in ("id", "region_id", "name", "timezone")))),
                {"id": "hel-kamppi", "region_id": "uusimaa", "name": "Kamppi", "timezone": "Europe/Helsinki"},
            )
            await connection.execute(sa.insert(customers), {
                "id": customer_id, "customer_ref": "cref_" + "0" * 32, "name": "Aino", "email": "aino@example.com",
                "phone": None,
            })
            await connection.execute(sa.insert(complaints), {
                "id": complaint_id, "customer_id": customer_id, "created_at": at, "updated_at": at,
                "store_id": "hel-kamppi", "region_id": "uusimaa", "channel": "in_store", "category": "service",
                "severity": "low", "mood": "calm", "status": "open", "filed_by": "emp-1042", "reassigned": False,
                "reopen_count": 0,
            })
        await upgrade_async(url)
        async with engine.connect() as connection:
            contact = (await connection.execute(
                select(Complaint.contact_name, Complaint.contact_email, Complaint.contact_phone))).one()
            columns = await connection.run_sync(lambda sync: {c["name"] for c in sa.inspect(sync).get_columns("customers")})
    finally:
        await engine.dispose()
    assert tuple(contact) == ("Aino", "aino@example.com", None)
    assert columns == {"id", "customer_ref", "erased_at"}


async def test_replicas_starting_together_migrate_one_after_the_other(new_database):
    url = await new_database()
    # Three processes, as three replicas' start-ups (Alembic's context is global: one process migrates once at a time).
    migrate = f"from services.complaints.store.migrate import upgrade; upgrade({url!r})"
    replicas = [await asyncio.create_subprocess_exec(sys.executable, "-c", migrate, stderr=asyncio.subprocess.PIPE)
                for _ in range(3)]
    errors = [(await replica.communicate())[1].decode() for replica in replicas]
    assert [replica.returncode for replica in replicas] == [0, 0, 0], errors
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            versions = (await connection.execute(text("SELECT version_num FROM alembic_version"))).scalars().all()
    finally:
        await engine.dispose()
    assert len(versions) == 1


async def test_a_unit_of_work_commits_then_wakes_the_relay_and_on_an_error_rolls_back_without_waking_it(tmp_path):
    url = f"sqlite:///{tmp_path / 'complaints.db'}"
    await upgrade_async(url)
    engine = make_engine(url)
    wakes = []
    uow = UnitOfWork(OUTBOX.sessions(engine), lambda: wakes.append("woken"))
    try:
        async with uow.begin() as session:
            session.add(Region(id="uusimaa", name="Uusimaa"))
        with pytest.raises(RuntimeError):
            async with uow.begin() as session:
                session.add(Region(id="pirkanmaa", name="Pirkanmaa"))
                await session.flush()
                raise RuntimeError("a rule refused the change")
        async with uow.sessions() as session:
            regions = (await session.execute(select(Region.id))).scalars().all()
    finally:
        await engine.dispose()
    assert regions == ["uusimaa"]
    assert wakes == ["woken"]


async def test_a_csat_survey_expires(new_database, platform):
    clock = ManualClock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    async for api in start_api(await new_database(), platform, clock=clock, relay_enabled=False, csat_survey_days=14):
        complaint_id = (await api.file()).json()["id"]
        token = await api.resolve(complaint_id)
        resolved = await api.client.get(f"/v1/complaints/{complaint_id}", headers=api.token(Role.associate))
        assert resolved.json()["resolved_at"] == "2026-11-23T09:00:00Z"
        clock.advance(timedelta(days=14, seconds=1))
        expired = await api.client.post(f"/v1/csat/{token}", json={"score": 5})
        assert expired.status_code == 410 and "expired" in expired.json()["detail"]


async def test_the_return_window_counts_days_in_the_stores_time_zone(new_database, platform):
    # 23:30 UTC on 23 November is already 01:30 on the 24th in Helsinki.
    clock = ManualClock(datetime(2026, 11, 23, 23, 30, tzinfo=UTC))
    async for api in start_api(await new_database(), platform, clock=clock, relay_enabled=False):
        body = {
            "store_id": "hel-kamppi", "kind": "refund", "tender": "credit", "amount": {"minor_units": 1990},
            "product_category": "clothing", "purchased_on": "2026-10-24", "receipt_number": "R-1",
        }
        response = await api.client.post("/v1/returns", json=body, headers=api.token(Role.associate))
        assert response.status_code == 201
        assert response.json()["broken_rules"] == ["return_window"]
        assert response.json()["rule_details"]["return_window"].startswith("bought 31 days ago")
        unknown_zone = await api.client.put(
            "/v1/stores/hel-kamppi", json={"region_id": "uusimaa", "name": "Kamppi", "timezone": "Mars/Olympus"},
            headers=api.token(Role.service),
        )
        assert unknown_zone.status_code == 422 and unknown_zone.json()["detail"][0]["loc"] == ["body", "timezone"]
