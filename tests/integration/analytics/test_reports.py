"""The reports API over the analytics worker's windows, on the real broker: a region's and a store's
satisfaction and loss-prevention summaries for a time range equal the scripted scenario exactly,
each caller sees only their own scope, and a bad range is refused naming the parameter; replicas behind
one address answer alike, and without the one that is killed."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4
from zoneinfo import ZoneInfo

import httpx
import pytest

from services.analytics.domain.windows import Granularity, window_key
from services.analytics.topics import REPORTS_CHANGELOG
from services.shared.auth import mint_token
from services.shared.events.envelope import wrap
from services.shared.events.returns import ReturnRequested
from services.shared.kafka import make_producer, publish
from services.shared.principal import Role
from services.shared.topics import RETURNS
from tests.support import eventually, read_records
from tests.support.analytics import Reports, publish_returns, scenario
from tests.support.balancer import balancing
from tests.support.complaints import add_stores

REGION, STORES = "pohjanmaa", ("vaa-keskusta", "vaa-asema")  # no other test's stores
HELSINKI = ZoneInfo("Europe/Helsinki")  # the default time zone of the daily windows


@pytest.fixture(scope="module")
async def region_scenario(api, platform, analytics, reports):
    """The scenario once at each store of a region of their own."""
    await add_stores(api, REGION, list(STORES))
    for store in STORES:
        await scenario(api, platform, store, REGION)

    async def counted() -> dict | None:
        found = await reports.report("satisfaction", region_id=REGION)
        return found if found and found["satisfaction"]["pages"] == 2 and found["satisfaction"]["csat"]["answers"] == 4 else None

    await eventually(counted, timeout_s=120, what="both stores' scenarios in the region's report")


def days_around_now(before: int = 1) -> dict[str, str]:
    """From `before` days ago to the end of today, local days: the scenario just run falls inside."""
    today = datetime.now(HELSINKI).date()
    return {"from": _midnight(today - timedelta(days=before)), "to": _midnight(today + timedelta(days=1))}


def _midnight(day) -> str:
    return datetime(day.year, day.month, day.day, tzinfo=HELSINKI).isoformat()


THIS_HOUR = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


async def test_a_regions_satisfaction_report_adds_up_its_stores_by_the_hour_and_by_the_day(region_scenario, reports):
    by_hour = await reports.report("satisfaction", region_id=REGION)
    by_day = await reports.report("satisfaction", region_id=REGION, **days_around_now())
    assert by_hour["period"]["granularity"] == "hour" and by_day["period"]["granularity"] == "day"
    assert by_hour["period"]["stores"] == by_day["period"]["stores"] == sorted(STORES)
    assert by_hour["satisfaction"] == by_day["satisfaction"]
    report = by_day["satisfaction"]
    assert (report["complaints_filed"], report["by_category"]) == (6, {"product_quality": 4, "service": 2})
    assert (report["by_severity"], report["by_channel"]) == ({"high": 2, "medium": 4}, {"in_store": 6})
    assert (report["acknowledged"], report["resolved"], report["first_contact_resolution_rate"]) == (4, 4, 1.0)
    assert (report["reopened"], report["reopen_rate"]) == (2, 0.5)
    assert report["resolution_steps"] == {"defuse": 4, "isolate_core_problem": 4}
    assert report["reopened_by_resolution_step"] == {"defuse": 2, "isolate_core_problem": 2}
    assert report["csat"] == {"surveys_issued": 4, "answers": 4, "response_rate": 1.0, "mean": 4.0,
                              "distribution": {"1": 0, "2": 0, "3": 2, "4": 0, "5": 2}}
    assert report["time_to_acknowledge"]["count"] == report["time_to_resolve"]["count"] == 4
    assert report["time_to_acknowledge"]["p90_within_seconds"] == 60.0  # acknowledged within the test's first minute
    assert (report["routed_by_tier"], report["escalation_rate_by_tier"]) == ({"coordinator": 2}, {"coordinator": 0.3333})
    assert (report["sla_breaches_by_tier"], report["sla_breach_rate"], report["pages"]) == ({"coordinator": 2}, 1.0, 2)


async def test_a_stores_loss_prevention_report_counts_its_returns_only(region_scenario, reports):
    report = (await reports.report("loss-prevention", region_id=REGION, store_id=STORES[0]))["loss_prevention"]
    assert (report["return_requests"], report["by_kind"], report["by_tender"]) == (4, {"refund": 4}, {"cash": 4})
    assert (report["without_receipt"], report["no_receipt_share"]) == (0, 0.0)
    assert report["decisions"] == {"approved": 1, "declined": 1, "rejected": 2}
    assert report["declines_by_reason"] == {"item_condition": 1}
    assert (report["value_euros"], report["value_euros_by_tender"]) == (49.9, {"cash": 49.9})
    assert (report["policy_exceptions"], report["policy_exception_rate"], report["rejections_by_rule"]) == (0, 0.0, {"return_window": 2})


async def test_a_range_before_the_events_reports_nothing(region_scenario, reports):
    before = {"from": days_around_now(8)["from"], "to": days_around_now()["from"]}
    report = await reports.report("satisfaction", region_id=REGION, **before)
    assert report["period"]["stores"] == [] and report["satisfaction"]["complaints_filed"] == 0
    assert report["satisfaction"]["csat"]["mean"] is None  # no answers: no mean rather than a made-up 0


async def test_each_caller_sees_only_their_own_scope(region_scenario, reports):
    manager = await reports.get("satisfaction", Role.store_manager, REGION, STORES[1])
    assert manager.status_code == 200 and manager.json()["period"]["stores"] == [STORES[1]]  # the token's store by default
    coordinator = await reports.get("loss-prevention", Role.regional_coordinator, REGION)
    assert coordinator.json()["period"]["stores"] == sorted(STORES)
    refused = [
        await reports.get("satisfaction", Role.store_manager, REGION, STORES[1], store_id=STORES[0]),
        await reports.get("satisfaction", Role.regional_coordinator, "uusimaa", region_id=REGION),
        await reports.get("satisfaction", Role.associate, REGION, STORES[0]),
        await reports.get("satisfaction", Role.ops),
        await reports.get("signals", Role.coordinator, REGION),
    ]
    assert [response.status_code for response in refused] == [403] * 5
    assert (await reports.get("satisfaction", None)).status_code == 401


@pytest.mark.parametrize(("params", "field"), [
    ({"from": "2026-11-23T10:30:00Z", "to": "2026-11-23T12:00:00Z"}, "from"),
    ({"from": "2026-11-23T10:00:00Z", "to": "2026-11-23T11:15:00Z"}, "to"),
    ({"from": "2026-11-23T12:00:00Z", "to": "2026-11-23T12:00:00Z"}, "to"),
    ({"from": "2026-11-23T12:00:00", "to": "2026-11-23T13:00:00Z"}, "from"),  # no time zone
    ({"from": days_around_now()["from"], "to": "2099-01-01T00:00:00+02:00"}, "to"),  # days beyond those kept
    ({"from": THIS_HOUR.isoformat(), "to": "2099-12-31T23:00:00Z"}, "to"),  # hours beyond those kept
    ({"from": days_around_now()["from"], "to": "2200-01-01T00:00:00+02:00"}, "to"),
    ({"from": "0001-01-01T00:00:00+14:00"}, "from"),
    ({"to": "9999-12-31T23:00:00-14:00"}, "to"),
], ids=["from within an hour", "to within an hour", "empty", "naive", "400 days and more", "14 days and more of hours",
        "to 2200", "year 1", "year 9999"])
async def test_a_range_the_windows_cannot_answer_is_refused_naming_the_parameter(reports, params, field):
    response = await eventually(lambda: _answered(reports, params), timeout_s=60, what="the reports API")
    assert response.status_code == 422, response.text
    assert [error["loc"] for error in response.json()["detail"]] == [["query", field]]


async def test_hours_older_than_the_hourly_windows_are_refused_and_whole_days_are_not(reports):
    old = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=30)
    by_hour = {"from": old.isoformat(), "to": (old + timedelta(hours=5)).isoformat()}
    response = await eventually(lambda: _answered(reports, by_hour), timeout_s=60, what="the reports API")
    assert response.status_code == 422 and "whole days" in response.json()["detail"][0]["msg"]
    assert (await reports.get("satisfaction", region_id=REGION, **days_around_now(30))).status_code == 200


async def _answered(reports, params: dict[str, str]):
    try:
        return await reports.get("satisfaction", region_id=REGION, **params)
    except httpx.TransportError:  # not up yet
        return None


async def test_an_open_signal_is_listed_for_its_store_and_region(platform, analytics, reports):
    store = "mhm-signals"
    await publish_returns(platform, store)

    async def listed() -> list:
        return ((await reports.report("signals", region_id="ahvenanmaa", store_id=store)) or {}).get("signals")

    signals = await eventually(listed, timeout_s=90, what="the open signal")
    assert [(s["staff_id"], s["metric"], s["robust_z"]) for s in signals] == [("emp-7004", "policy_exception_rate", 4.0)]
    manager = await reports.get("signals", Role.store_manager, "ahvenanmaa", store)
    assert manager.json()["signals"] == signals
    assert (await reports.report("signals", region_id="ahvenanmaa"))["signals"] != []  # and in the region's list


async def test_a_stores_windows_older_than_they_are_kept_are_dropped_as_its_events_move_on(platform, analytics, reports):
    store, now = "mhm-expiry", datetime.now(UTC)
    old = ReturnRequested.model_validate({
        **ReturnRequested.model_config["json_schema_extra"]["examples"][0], "store_id": store, "region_id": "ahvenanmaa",
        "at": (now - timedelta(days=20)).isoformat(),
    })
    recent = old.model_copy(update={"return_id": uuid4(), "at": now})
    old_hour = window_key("ahvenanmaa", store, Granularity.hour, old.at.replace(minute=0, second=0, microsecond=0))
    producer = make_producer(platform, client_id="test-expiry")
    await producer.start()
    try:
        await publish(producer, RETURNS, [wrap(old, source="/tests", time=old.at)], platform)

        async def written() -> bool:  # the store's latest event is 20 days old: its hour is kept for now
            return any(r.key == old_hour for r in await read_records(platform.kafka_bootstrap_servers, REPORTS_CHANGELOG, 12))

        await eventually(written, timeout_s=90, what="the old event's hourly window")
        await publish(producer, RETURNS, [wrap(recent, source="/tests", time=recent.at)], platform)
    finally:
        await producer.stop()

    async def dropped() -> bool:
        values = [r.value for r in await read_records(platform.kafka_bootstrap_servers, REPORTS_CHANGELOG, 12) if r.key == old_hour]
        return len(values) >= 2 and values[0] is not None and values[-1] is None  # written, then a tombstone

    await eventually(dropped, timeout_s=90, what="the 20-day-old hourly window to be dropped")
    by_day = await reports.report("loss-prevention", region_id="ahvenanmaa", store_id=store, **days_around_now(21))
    assert by_day["loss_prevention"]["return_requests"] == 2  # the daily windows are kept for longer


async def test_reports_replicas_behind_one_address_answer_alike_and_one_killed_leaves_the_others_answering(
    region_scenario, platform, reports
):
    """Each replica reads the windows into its own store: a second one started now answers as the first
    does, whichever of them the address gives a request to, and the address goes on answering without it."""
    second = Reports(platform)
    try:
        async def ready() -> bool:
            try:
                async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{second.port}") as client:
                    return (await client.get("/readyz")).status_code == 200
            except httpx.TransportError:
                return False

        await eventually(ready, timeout_s=60, what="the second replica to have read the windows")
        params = {"region_id": REGION, **days_around_now()}
        expected = await reports.report("satisfaction", **params)
        assert await second.report("satisfaction", **params) == expected
        token = mint_token(platform, sub="sm-0001", role=Role.senior_manager, now=datetime.now(UTC), ttl=timedelta(hours=1))

        async with balancing([reports.port, second.port]) as url:
            async def through_the_address() -> dict:
                async with httpx.AsyncClient(base_url=url) as client:  # a connection of its own: the next replica
                    response = await client.get("/v1/reports/satisfaction", params=params,
                                                headers={"Authorization": f"Bearer {token}"})
                assert response.status_code == 200, response.text
                return response.json()

            assert [await through_the_address() for _ in range(4)] == [expected] * 4
            second.process.process.kill()
            second.process.process.wait()
            assert [await through_the_address() for _ in range(4)] == [expected] * 4
    finally:
        second.process.stop()
