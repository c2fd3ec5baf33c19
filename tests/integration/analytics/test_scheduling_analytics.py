"""The scheduling service's events on the real broker, counted by the analytics worker as its own process:
complaints per staffed hour by store and window in the reports API — a shift edited, published twice,
another cancelled and one of a regional coordinator, who staffs no one store — the staff on duty on
/metrics, and loss-prevention signals by whether the staff member had completed the returns training."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest

from services.shared.events.complaints import ComplaintFiled
from services.shared.events.envelope import wrap
from services.shared.events.scheduling import ShiftCancelled
from services.shared.principal import Role
from services.shared.topics import COMPLAINTS, SCHEDULING
from tests.support import eventually
from tests.support.analytics import REGION as SIGNALS_REGION
from tests.support.analytics import publish_events, publish_returns, shift, train
from tests.support.builders import example

REGION, STORE = "kainuu", "kaj-keskusta"  # no other test's
HELSINKI = ZoneInfo("Europe/Helsinki")  # the default time zone of the daily windows
HOUR = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
H = timedelta(hours=1)


def utc_hours(*offsets: float) -> list[str]:
    return [(HOUR + offset * H).isoformat().replace("+00:00", "Z") for offset in offsets]


def figures(staffed: dict) -> tuple[int, float, float | None]:
    """Complaints filed, staffed hours and complaints per staffed hour, of a store, a window or all together."""
    return staffed["complaints_filed"], staffed["staffed_hours"], staffed["complaints_per_staffed_hour"]


@pytest.fixture(scope="module")
async def staffed(platform, analytics, reports):
    """Around this hour: a shift from 1½ hours before it to an hour after, moved to start an hour before
    (and its first version published again after the edit), a regional coordinator's shift, a
    shift cancelled, and one from this hour for two hours; three complaints ten minutes into it."""
    now = datetime.now(UTC)
    edited = shift(STORE, HOUR - 1.5 * H, HOUR + H, region=REGION)
    cancelled = shift(STORE, HOUR, HOUR + 4 * H, region=REGION)
    first = wrap(edited, source="/tests", time=now)
    shifts = [
        wrap(cancelled, source="/tests", time=now),
        wrap(example(ShiftCancelled, store_id=STORE, region_id=REGION, shift_id=cancelled.shift_id, at=now), source="/tests",
             time=now),
        first,
        wrap(edited.model_copy(update={"starts_at": HOUR - H}), source="/tests", time=now),
        first,
        wrap(shift(STORE, HOUR, HOUR + 2 * H, role="regional_coordinator", region=REGION), source="/tests", time=now),
        wrap(shift(STORE, HOUR, HOUR + 2 * H, role="coordinator", region=REGION), source="/tests", time=now),
    ]
    await publish_events(platform, SCHEDULING, shifts)
    filed_at = HOUR + timedelta(minutes=10)
    complaints = [example(ComplaintFiled, store_id=STORE, region_id=REGION, complaint_id=uuid4(), filed_at=filed_at)
                  for _ in range(3)]
    await publish_events(platform, COMPLAINTS, [wrap(c, source="/tests", time=filed_at) for c in complaints])

    async def counted() -> dict | None:  # the last shift counted: the report cannot show this before it
        report = await reports.report("staffing", store_id=STORE, **{"from": utc_hours(-2)[0], "to": utc_hours(4)[0]})
        stores = (report or {}).get("staffing", {}).get("stores", [])
        starts = [window["start"] for store in stores for window in store["windows"]]
        return report if starts == utc_hours(-1, 0, 1) and stores[0]["windows"][1]["complaints_filed"] == 3 else None

    return await eventually(counted, timeout_s=90, what="the store's shifts and complaints in its staffing report")


async def test_complaints_per_staffed_hour_by_window_count_the_latest_times_of_each_shift(staffed):
    assert staffed["period"]["granularity"] == "hour" and staffed["period"]["stores"] == [STORE]
    [store] = staffed["staffing"]["stores"]
    assert [(window["start"], figures(window)) for window in store["windows"]] == list(zip(
        utc_hours(-1, 0, 1), [(0, 1.0, 0.0), (3, 2.0, 1.5), (0, 1.0, 0.0)], strict=True))
    assert (store["store_id"], figures(store), figures(staffed["staffing"])) == (STORE, (3, 4.0, 0.75), (3, 4.0, 0.75))


async def test_the_local_days_around_the_hour_add_up_to_the_same(staffed, reports):
    today = HOUR.astimezone(HELSINKI).date()
    days = [datetime(d.year, d.month, d.day, tzinfo=HELSINKI).isoformat()
            for d in (today - timedelta(days=1), today + timedelta(days=2))]
    report = await reports.report("staffing", region_id=REGION, **{"from": days[0], "to": days[1]})
    assert report["period"]["granularity"] == "day"
    assert figures(report["staffing"]) == (3, 4.0, 0.75)
    assert sum(window["staffed_hours"] for window in report["staffing"]["stores"][0]["windows"]) == 4.0


async def test_each_caller_sees_only_their_own_stores_staffing(staffed, reports):
    manager = await reports.get("staffing", Role.store_manager, REGION, STORE)
    assert manager.status_code == 200 and manager.json()["period"]["store_id"] == STORE
    refused = [await reports.get("staffing", Role.store_manager, REGION, "kaj-asema", store_id=STORE),
               await reports.get("staffing", Role.associate, REGION, STORE)]
    assert [response.status_code for response in refused] == [403, 403]


async def test_signals_are_counted_by_whether_the_staff_member_had_completed_the_returns_training(platform, analytics, reports):
    trained, untrained = "mhm-trained", "mhm-untrained"
    await train(platform, trained, "returns", ["emp-7004", "emp-7002"])
    await train(platform, untrained, "register", ["emp-7004"])  # another kind of training

    def on_duty(store: str) -> tuple:
        return "retail_staff_on_duty", (("region", SIGNALS_REGION), ("store", store))

    async def trainings_counted() -> bool:
        samples = await analytics.samples(SIGNALS_REGION)
        return samples.get(on_duty(trained)) == samples.get(on_duty(untrained)) == 1

    await eventually(trainings_counted, timeout_s=90, what="the stores' training and the staff on duty")
    await publish_returns(platform, trained)
    await publish_returns(platform, untrained)

    async def signalled() -> dict | None:
        found = {}
        for store in (trained, untrained):
            report = await reports.report("loss-prevention", store_id=store)
            found[store] = report and report["loss_prevention"]["signals_by_training"]
        return found if all(found.values()) and sum(sum(by.values()) for by in found.values()) == 2 else None

    assert await eventually(signalled, timeout_s=90, what="both stores' signals in their reports") == {
        trained: {"completed": 1, "not_completed": 0}, untrained: {"completed": 0, "not_completed": 1},
    }

    def by_training(store: str, training: str) -> tuple:
        labels = {"metric": "policy_exception_rate", "region": SIGNALS_REGION, "store": store, "training": training}
        return "retail_lossprevention_signals_by_training_total", tuple(sorted(labels.items()))

    expected = {by_training(trained, "completed"): 1, by_training(trained, "not_completed"): 0,
                by_training(untrained, "completed"): 0, by_training(untrained, "not_completed"): 1}

    async def exposed() -> bool:
        samples = await analytics.samples(SIGNALS_REGION)
        return {key: samples.get(key) for key in expected} == expected

    await eventually(exposed, timeout_s=30, what="the signals by training status on /metrics")
