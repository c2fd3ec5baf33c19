"""The scheduling store's retention, on both databases: a site's hourly demand counts are kept for
SCHEDULING_DEMAND_KEEP_WEEKS, and the drafts of later weeks still find the weeks they average."""

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from services.scheduling.settings import SchedulingSettings
from services.scheduling.store.demand import DemandCount
from services.scheduling.store.models import Region, Site
from services.scheduling.store.retention import make_retention
from services.shared.retention import purge_all

NOW = datetime(2027, 3, 10, 12, tzinfo=UTC)  # a Wednesday


async def test_demand_counts_older_than_the_weeks_kept_are_deleted(store_sessions):
    weeks = [date(2027, 3, 8), date(2027, 2, 8), date(2027, 2, 1), date(2027, 1, 25)]
    async with store_sessions.begin() as session:
        session.add(Region(id="uusimaa", name="Uusimaa"))
        session.add(Site(id="hel-kamppi", region_id="uusimaa", name="Kamppi", kind="store", timezone="Europe/Helsinki",
                         opening_hours={}, exceptions={}))
        await session.flush()
        session.add_all(DemandCount(site_id="hel-kamppi", week_start=week, weekday=day, hour=hour, events=1)
                        for week in weeks for day in range(7) for hour in (9, 17))
    retention = make_retention(SchedulingSettings(demand_weeks=4, demand_keep_weeks=5, retention_batch_size=5))
    assert (await purge_all(store_sessions, NOW, retention))["demand_counts"] == 14  # in batches of 5
    async with store_sessions() as session:
        kept = set((await session.execute(select(DemandCount.week_start))).scalars())
    # Kept: this week and the five before it, from 1 February on.
    assert kept == set(weeks[:3])


def test_the_weeks_kept_must_cover_the_weeks_averaged():
    with pytest.raises(ValueError, match="demand_keep_weeks"):
        SchedulingSettings(demand_weeks=8, demand_keep_weeks=8)
