"""What a draft run gives the solver from the directory: the week's opening hours (only what has not
begun), each person's absences and skills."""

from datetime import UTC, date, datetime

import pytest

from services.scheduling.domain.solver import Absence, DayOpening, Skill
from services.scheduling.service.drafts import HoursNotDraftable, absences, not_begun, site_week, skills
from services.scheduling.store.models import Site, StaffMember

WEEK = date(2027, 3, 8)


def site(opening_hours: dict, exceptions: dict | None = None) -> Site:
    return Site(id="tre-koskikeskus", region_id="pirkanmaa", name="Koskikeskus", kind="store", timezone="Europe/Helsinki",
                opening_hours=opening_hours, exceptions=exceptions or {})


def test_the_week_takes_the_days_opening_hours_and_exceptions():
    week = site({"mon": [["09:00", "17:00"]], "sat": [["00:00", "24:00"]]}, {"2027-03-08": [["10:00", "14:00"]]})

    assert site_week(week, WEEK).opening == (DayOpening(10, 14), None, None, None, None, DayOpening(0, 24), None)


@pytest.mark.parametrize("hours", [[["09:30", "17:00"]], [["09:00", "12:00"], ["13:00", "17:00"]]], ids=["half-hour", "split"])
def test_a_day_not_open_one_whole_hour_period_is_named(hours):
    with pytest.raises(HoursNotDraftable, match="not open one whole-hour period on 2027-03-09"):
        site_week(site({"tue": hours}), WEEK)


def test_of_the_current_week_only_the_hours_not_yet_begun_are_drafted():
    week = site_week(site({day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed")}), WEEK)

    remaining = not_begun(week, datetime(2027, 3, 9, 10, 30, tzinfo=UTC))  # Tuesday 12:30 in Helsinki

    assert remaining.opening[:3] == (None, DayOpening(13, 17), DayOpening(9, 17))


def test_absences_are_leave_and_the_hours_outside_availability():
    member = StaffMember(
        id="emp-1042", availability={"mon": [["08:00", "12:00"], ["16:00", "24:00"]], "wed": [["00:00", "24:00"]]},
        leave=[{"first": "2027-03-12", "last": "2027-03-20"}, {"first": "2027-01-01", "last": "2027-01-02"}],
    )

    away = absences(member, WEEK)

    assert away[0] == Absence(datetime(2027, 3, 12), datetime(2027, 3, 21))
    assert set(away[1:]) == {
        Absence(datetime(2027, 3, 8), datetime(2027, 3, 8, 8)), Absence(datetime(2027, 3, 8, 12), datetime(2027, 3, 8, 16)),
        Absence(datetime(2027, 3, 9), datetime(2027, 3, 10)),
        *(Absence(datetime(2027, 3, day), datetime(2027, 3, day + 1)) for day in (11, 12, 13, 14)),
    }
    assert absences(StaffMember(id="emp-1043", availability={}, leave=[]), WEEK) == ()


def test_register_trained_means_all_four_tenders():
    tenders = ["register_cash", "register_credit", "register_debit", "register_gift_card"]

    assert skills([*tenders, "returns_exchanges", "de_escalation"]) == {Skill.register, Skill.returns, Skill.de_escalation}
    assert skills(["register_cash", "register_credit", "register_debit", "promotions"]) == {Skill.promotions}
