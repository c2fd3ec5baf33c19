"""GET /v1/on-duty answers for any instant from the published shifts: across shift boundaries,
midnight, a DST change and two time zones, with one coordinator per region."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from tests.support.scheduling import Api

HELSINKI, NEW_YORK = ZoneInfo("Europe/Helsinki"), ZoneInfo("America/New_York")


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


async def schedule(api: Api, staff: str, site: str, start: datetime, end: datetime) -> None:
    response = await api.shift(staff, site, start, end)
    assert response.status_code == 201, response.text


def site(answer: dict, site_id: str) -> dict:
    return next(s for s in answer["sites"] if s["site_id"] == site_id)


def manager(answer: dict, site_id: str) -> str | None:
    person = site(answer, site_id)["manager"]
    return person and person["staff_id"]


def coordinator(answer: dict, region_id: str) -> str | None:
    person = next(r for r in answer["regions"] if r["region_id"] == region_id)["regional_coordinator"]
    return person and person["staff_id"]


async def test_on_duty_across_boundaries_midnight_dst_and_time_zones(api_per_database):
    api = api_per_database
    # Monday 1 March: Helsinki is UTC+2, New York UTC-5.
    await schedule(api, "mgr-0007", "hel-kamppi", datetime(2027, 3, 1, 9, tzinfo=HELSINKI), datetime(2027, 3, 1, 17, tzinfo=HELSINKI))
    await schedule(api, "mgr-0008", "hel-kamppi", datetime(2027, 3, 1, 17, tzinfo=HELSINKI), datetime(2027, 3, 1, 21, tzinfo=HELSINKI))
    await schedule(api, "emp-1042", "hel-kamppi", datetime(2027, 3, 1, 12, tzinfo=HELSINKI), datetime(2027, 3, 1, 20, tzinfo=HELSINKI))
    await schedule(api, "cc-2001", "hel-callcentre", datetime(2027, 3, 1, 22, tzinfo=HELSINKI), datetime(2027, 3, 2, 6, tzinfo=HELSINKI))
    await schedule(api, "mgr-3000", "nyc-desk", datetime(2027, 3, 1, 8, tzinfo=NEW_YORK), datetime(2027, 3, 1, 16, tzinfo=NEW_YORK))
    await schedule(api, "rc-uusimaa-1", "hel-kamppi", utc(2027, 3, 1, 6), utc(2027, 3, 1, 18))
    await schedule(api, "rc-uusimaa-2", "hel-kamppi", utc(2027, 3, 1, 18), utc(2027, 3, 2, 6))

    # Drafts are nobody's duty until the week is published.
    assert manager(await api.on_duty(utc(2027, 3, 1, 8)), "hel-kamppi") is None
    for site_id in ("hel-kamppi", "hel-callcentre", "nyc-desk"):
        assert (await api.publish(site_id, "2027-03-01")).status_code == 200

    at_8 = await api.on_duty(utc(2027, 3, 1, 8))
    assert manager(at_8, "hel-kamppi") == "mgr-0007" and site(at_8, "hel-kamppi")["associates"] == []
    assert manager(at_8, "nyc-desk") is None  # 03:00 in New York
    assert coordinator(at_8, "uusimaa") == "rc-uusimaa-1" and coordinator(at_8, "us-east") is None

    # The boundary belongs to the next shift: 17:00 Helsinki is 15:00Z.
    before = await api.on_duty(utc(2027, 3, 1, 14, 59, 59))
    assert manager(before, "hel-kamppi") == "mgr-0007"
    assert [p["staff_id"] for p in site(before, "hel-kamppi")["associates"]] == ["emp-1042"]
    assert manager(before, "nyc-desk") == "mgr-3000"  # 09:59 in New York
    at_15 = await api.on_duty(utc(2027, 3, 1, 15))
    assert manager(at_15, "hel-kamppi") == "mgr-0008" and manager(at_15, "nyc-desk") == "mgr-3000"

    # The same instant in two time zones: the store in Helsinki has closed, the desk in New York is open.
    at_20 = await api.on_duty(utc(2027, 3, 1, 20))
    assert manager(at_20, "hel-kamppi") is None and manager(at_20, "nyc-desk") == "mgr-3000"
    assert coordinator(at_20, "uusimaa") == "rc-uusimaa-2"

    # Across midnight in Helsinki: the night agent is on duty at 23:59 and 00:30, not at 06:00.
    for moment, on in ((datetime(2027, 3, 1, 23, 59, tzinfo=HELSINKI), True), (datetime(2027, 3, 2, 0, 30, tzinfo=HELSINKI), True),
                       (datetime(2027, 3, 2, 6, tzinfo=HELSINKI), False)):
        agents = site(await api.on_duty(moment), "hel-callcentre")["associates"]
        assert [p["staff_id"] for p in agents] == (["cc-2001"] if on else []), moment

    # A caller's scope narrows the answer.
    only_nyc = await api.on_duty(utc(2027, 3, 1, 15), region_id="us-east")
    assert [s["site_id"] for s in only_nyc["sites"]] == ["nyc-desk"] and [r["region_id"] for r in only_nyc["regions"]] == ["us-east"]


async def test_on_duty_and_opening_hours_across_dst_changes(api_per_database):
    api = api_per_database
    # Europe springs forward on Sunday 28 March 2027 at 01:00Z: Helsinki 03:00 EET becomes 04:00 EEST.
    night = (datetime(2027, 3, 27, 22, tzinfo=HELSINKI), datetime(2027, 3, 28, 6, tzinfo=HELSINKI))
    assert night[1].astimezone(UTC) - night[0].astimezone(UTC) == timedelta(hours=7)
    await schedule(api, "cc-2001", "hel-callcentre", *night)
    # Sunday opening at 10:00 local is 08:00Z before the change and 07:00Z after it.
    refused = await api.shift("mgr-0007", "hel-kamppi", utc(2027, 3, 21, 7), utc(2027, 3, 21, 15))
    assert refused.status_code == 422 and "opening hours" in refused.json()["detail"][0]["msg"]
    await schedule(api, "mgr-0007", "hel-kamppi", utc(2027, 3, 28, 7), utc(2027, 3, 28, 15))
    # New York springs forward on 14 March: opening at 08:00 local is 13:00Z before, 12:00Z after.
    assert (await api.shift("emp-3001", "nyc-desk", utc(2027, 3, 8, 12), utc(2027, 3, 8, 20))).status_code == 422
    await schedule(api, "emp-3001", "nyc-desk", utc(2027, 3, 15, 12), utc(2027, 3, 15, 20))
    for site_id, week in (("hel-callcentre", "2027-03-22"), ("hel-kamppi", "2027-03-22"), ("nyc-desk", "2027-03-15")):
        assert (await api.publish(site_id, week)).status_code == 200

    agents = lambda answer: [p["staff_id"] for p in site(answer, "hel-callcentre")["associates"]]  # noqa: E731
    assert agents(await api.on_duty(utc(2027, 3, 28, 0, 59))) == ["cc-2001"]  # 02:59 EET
    assert agents(await api.on_duty(utc(2027, 3, 28, 1, 0))) == ["cc-2001"]  # 04:00 EEST: the hour 03–04 never was
    assert agents(await api.on_duty(utc(2027, 3, 28, 2, 59))) == ["cc-2001"]  # 05:59 EEST
    assert agents(await api.on_duty(utc(2027, 3, 28, 3, 0))) == []  # 06:00 EEST
    assert manager(await api.on_duty(utc(2027, 3, 28, 7)), "hel-kamppi") == "mgr-0007"
    desk = await api.on_duty(utc(2027, 3, 15, 12, 30))
    assert [p["staff_id"] for p in site(desk, "nyc-desk")["associates"]] == ["emp-3001"]
