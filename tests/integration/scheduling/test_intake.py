"""The scheduling worker applies each event once, on both databases: a replay (a crash before the
offset commit, a rebalance, a restart) changes nothing, and an effect that fails leaves no trace, so
the event is applied when it is consumed again."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from services.scheduling.service import intake
from services.scheduling.store.models import ProcessedEvent, Region
from services.shared.events.complaints import ComplaintFiled, ComplaintResolved
from services.shared.events.envelope import wrap
from tests.support.builders import example, filed
from tests.support.scheduling import running_worker

NOW = datetime(2027, 3, 1, 9, tzinfo=UTC)


async def regions(store_sessions) -> list[str]:
    async with store_sessions() as session:
        return list((await session.execute(select(Region.id).order_by(Region.id))).scalars())


async def add_region(session, envelope, now) -> None:
    """An effect the test can see: a region named after the event."""
    session.add(Region(id=f"r-{str(envelope.id)[:8]}", name=envelope.data.store_id))


async def test_an_event_consumed_again_changes_nothing(store_sessions):
    effects = {ComplaintFiled: (add_region,)}
    event = filed()
    assert await intake.apply(store_sessions, event, NOW, effects) is True
    assert await intake.apply(store_sessions, event, NOW, effects) is False
    assert await regions(store_sessions) == [f"r-{str(event.id)[:8]}"]
    # An event nothing here uses is not even recorded.
    resolved = wrap(example(ComplaintResolved), source="/tests", time=NOW, subject="resolved")
    assert await intake.apply(store_sessions, resolved, NOW, effects) is False
    async with store_sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ProcessedEvent)) == 1


async def test_an_effect_that_fails_leaves_nothing_and_the_event_is_applied_when_consumed_again(store_sessions):
    async def fails(session, envelope, now) -> None:
        raise ConnectionError("the store went away mid-transaction")

    event = filed()
    with pytest.raises(ConnectionError):
        await intake.apply(store_sessions, event, NOW, {ComplaintFiled: (add_region, fails)})
    assert await regions(store_sessions) == []
    assert await intake.apply(store_sessions, event, NOW, {ComplaintFiled: (add_region,)}) is True
    assert await regions(store_sessions) == [f"r-{str(event.id)[:8]}"]


async def test_the_worker_runs_as_its_own_process_and_is_ready_with_its_store_and_kafka(new_database, platform):
    async for worker in running_worker(await new_database(), platform):
        assert worker.process.poll() is None, worker.logs()
