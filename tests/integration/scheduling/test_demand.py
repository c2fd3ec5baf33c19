"""Complaints and returns on the real topics, counted by the scheduling worker (in-process, on
PostgreSQL) into each site's local hours of the week, and shown as the demand of a week to come."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.shared.topics import COMPLAINTS, RETURNS
from tests.support import eventually
from tests.support.scheduling import (
    WEEKDAYS, Api, add_site, complaints_filed, produce, returns_requested, start_worker,
)

SITE = "tre-demand"  # a site of this test's own: earlier tests' events on the shared topics are not about it
HELSINKI = ZoneInfo("Europe/Helsinki")
TUESDAYS = [datetime(2027, 2, day, 18, 20, tzinfo=HELSINKI) for day in (2, 9, 16, 23)]  # the 4 weeks before START's
WEEK = "2027-03-08"


@pytest.fixture
async def worker(api) -> AsyncIterator[Api]:
    async for _ in start_worker(api.app.state.settings.database_url, api.platform, api.clock):
        yield api


async def demand(api: Api, site: str) -> dict[str, dict]:
    response = await api.client.get(f"/v1/sites/{site}/weeks/{WEEK}/demand", headers=api.admin())
    assert response.status_code == 200, response.text
    return {hour["hour"]: hour for hour in response.json()["hours"]}


async def test_complaints_and_returns_count_in_the_sites_local_hour_of_the_week_once_each(worker):
    api = worker
    body = {"region_id": "uusimaa", "name": "Demand", "kind": "store", "timezone": "Europe/Helsinki",
            "opening_hours": {day: [["09:00", "21:00"]] for day in WEEKDAYS[:5]}}
    await add_site(api, SITE, body, {})
    every_tuesday_evening = [at + timedelta(minutes=minute) for at in TUESDAYS for minute in (0, 30)]
    complaints = complaints_filed(SITE, "uusimaa", every_tuesday_evening)
    too_old = complaints_filed(SITE, "uusimaa", [datetime(2027, 1, 26, 18, 20, tzinfo=HELSINKI)])
    unknown_site = complaints_filed("nowhere", "uusimaa", [TUESDAYS[-1]])
    wednesday_morning = complaints_filed(SITE, "uusimaa", [datetime(2027, 2, 24, 9, 5, tzinfo=HELSINKI)])
    # 23:30 UTC on Tuesday is 18:30 in New York.
    new_york = complaints_filed("nyc-desk", "us-east", [datetime(2027, 2, 23, 23, 30, tzinfo=UTC)])

    await produce(api.platform, RETURNS, returns_requested(SITE, "uusimaa", every_tuesday_evening))
    # One store's complaints stay in order: once Wednesday's is counted, the replay before it was applied too.
    await produce(api.platform, COMPLAINTS, [*complaints, *too_old, *unknown_site, complaints[0], *new_york,
                                             *wednesday_morning])

    async def counted() -> dict | None:
        hours = await demand(api, SITE)
        done = hours["Wednesday 9–10"]["load"] > 0 and hours["Tuesday 18–19"]["load"] == 4.0
        return hours if done and (await demand(api, "nyc-desk"))["Tuesday 18–19"]["load"] > 0 else None

    hours = await eventually(counted, what="the worker to count the events")
    # 8 complaints and 8 returns over 4 weeks: 4 an hour, one more person than the base 2, and far above usual.
    assert hours["Tuesday 18–19"] == {**hours["Tuesday 18–19"], "load": 4.0, "demand": 3, "busy": True}
    assert hours["Wednesday 9–10"] == {**hours["Wednesday 9–10"], "load": 0.25, "demand": 2, "busy": False}
    assert {name for name, hour in hours.items() if hour["load"]} == {"Tuesday 18–19", "Wednesday 9–10"}
    assert hours["Tuesday 18–19"]["starts_at"] == "2027-03-09T16:00:00Z"
    new_york_hours = await demand(api, "nyc-desk")
    assert {name: hour["load"] for name, hour in new_york_hours.items() if hour["load"]} == {"Tuesday 18–19": 0.25}
