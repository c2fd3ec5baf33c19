"""Fixtures that start real infrastructure with the project's own scripts under deploy/local/.

Each starts lazily, once per test session, only when a test asks for it."""

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.shared.settings import PlatformSettings
from tests.support import ServiceProcess
from tests.support.infra import free_port, kafka_broker, script


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """A failed test's report ends with the last words of every service process still running: the
    cause of a timeout is often in a worker's log, which is gone once its fixture stops it."""
    report = yield
    if report.failed:
        for process in list(ServiceProcess.started):
            if process.process.poll() is None:
                report.sections.append((f"{process.module} (pid {process.process.pid}), its last words",
                                        process.last_words(300)))
    return report


@pytest.fixture(scope="session")
def infra_dir() -> Iterator[Path]:
    # Under /tmp itself, not pytest's root-only folder: PostgreSQL runs as its own user and must reach it.
    directory = Path(tempfile.mkdtemp(prefix="retail-infra-"))
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def kafka_bootstrap(infra_dir: Path) -> Iterator[str]:
    """The broker of the whole session."""
    with kafka_broker(infra_dir / "kafka") as bootstrap:
        yield bootstrap


@pytest.fixture(scope="session")
def postgres_url(infra_dir: Path) -> Iterator[str]:
    """A throwaway PostgreSQL cluster for the whole session; the URL of its `retail` database."""
    directory = Path(tempfile.mkdtemp(prefix="retail-pg-", dir=infra_dir))
    os.chmod(infra_dir, 0o755)
    url = script("postgres.sh", "start", "--dir", str(directory), "--port", str(free_port()))
    yield url
    script("postgres.sh", "stop", "--dir", str(directory), "--now")  # its data is thrown away


@pytest.fixture(scope="session")
def platform(kafka_bootstrap: str) -> PlatformSettings:
    return PlatformSettings(kafka_bootstrap_servers=kafka_bootstrap)


@pytest.fixture(scope="session")
async def new_database(postgres_url: str):
    """Makes an empty database on the session's PostgreSQL and returns its URL."""
    from uuid import uuid4

    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from services.shared.db import make_engine

    admin = make_engine(postgres_url).execution_options(isolation_level="AUTOCOMMIT")

    async def create() -> str:
        name = f"test_{uuid4().hex[:12]}"
        async with admin.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
        return make_url(postgres_url).set(database=name).render_as_string(hide_password=False)

    yield create
    await admin.dispose()
