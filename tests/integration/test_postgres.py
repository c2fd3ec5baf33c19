"""The database path every service uses (settings → make_engine), on a real PostgreSQL."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from services.complaints.settings import ComplaintsSettings
from services.shared.db import database_ready, make_engine



@pytest.fixture
async def engine(postgres_url, monkeypatch):
    monkeypatch.setenv("COMPLAINTS_DATABASE_URL", postgres_url)
    engine = make_engine(ComplaintsSettings().database_url)
    yield engine
    await engine.dispose()


async def test_the_services_database_url_reaches_postgresql(engine):
    assert engine.dialect.name == "postgresql"
    assert engine.dialect.driver == "asyncpg"
    await database_ready(engine)
    async with engine.connect() as connection:
        version = (await connection.execute(text("SHOW server_version"))).scalar_one()
    assert int(version.split(".")[0]) >= 13


async def test_a_transaction_is_all_or_nothing(engine):
    async with engine.begin() as connection:
        await connection.execute(text("DROP TABLE IF EXISTS probe"))
        await connection.execute(text("CREATE TABLE probe (id int PRIMARY KEY, note text NOT NULL)"))
    with pytest.raises(IntegrityError):
        async with engine.begin() as connection:
            await connection.execute(text("INSERT INTO probe VALUES (1, 'kept?')"))
            await connection.execute(text("INSERT INTO probe VALUES (1, 'duplicate')"))
    async with engine.begin() as connection:
        await connection.execute(text("INSERT INTO probe VALUES (2, 'kept')"))
    async with engine.connect() as connection:
        rows = (await connection.execute(text("SELECT id, note FROM probe ORDER BY id"))).all()
    assert [tuple(row) for row in rows] == [(2, "kept")]


async def test_sqlite_is_the_default_and_is_durable(tmp_path, monkeypatch):
    monkeypatch.delenv("COMPLAINTS_DATABASE_URL", raising=False)
    assert ComplaintsSettings().database_url.startswith("sqlite:///")
    engine = make_engine(f"sqlite:///{tmp_path}/nested/complaints.db")
    try:
        async with engine.connect() as connection:
            synchronous = (await connection.execute(text("PRAGMA synchronous"))).scalar_one()
            journal = (await connection.execute(text("PRAGMA journal_mode"))).scalar_one()
        assert (synchronous, journal) == (2, "wal")  # 2 = FULL
    finally:
        await engine.dispose()
