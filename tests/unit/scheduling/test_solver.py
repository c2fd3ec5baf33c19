"""The weekly schedule solver, judged by an independent checker of every staffing rule on the shifts
it returns — never by the solver's own status."""

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.scheduling.domain.solver import (
    Absence,
    Booked,
    DayOpening,
    Demand,
    DraftShift,
    Infeasible,
    Rules,
    Schedule,
    SiteWeek,
    Skill,
    SolverSettings,
    StaffMember,
    solve,
)
from services.shared.events.fields import Tier
from tests.support.weeks import call_centre

HELSINKI = "Europe/Helsinki"
MONDAY = date(2026, 11, 23)
SETTINGS = SolverSettings(work_limit=4)
SMALL = SolverSettings(work_limit=1)  # a small week needs less search
RULES = Rules()
STORE_HOURS = (*[DayOpening(8, 21)] * 5, DayOpening(9, 18), DayOpening(12, 18))
EVERY_SKILL = frozenset(Skill)
COUNTER = frozenset({Skill.register, Skill.returns})


def store_demand(opening: tuple[DayOpening | None, ...]) -> Demand:
    """Mornings quiet, the afternoon rush busy (12 people), evenings in between; Sunday flat."""
    def people(day: int, hour: int) -> int:
        if day == 6:
            return 6
        return 6 if hour < 10 else 10 if hour < 16 else 12 if hour < 19 else 8
    needs = {(day, hour): people(day, hour)
             for day, hours in enumerate(opening) if hours for hour in range(hours.opens, hours.closes)}
    return Demand(needs, frozenset(slot for slot, need in needs.items() if need == 12))


def store_staff() -> list[StaffMember]:
    """40 people: 2 store managers, 6 coordinators, 32 associates with mixed skills, leave and availability."""
    staff = [StaffMember(f"mgr-{i:04}", Tier.store_manager, EVERY_SKILL, 37, 40) for i in range(2)]
    staff += [StaffMember(f"coord-{i:04}", Tier.coordinator, COUNTER | {Skill.de_escalation}, 30, 40) for i in range(6)]
    for i in range(32):
        skills = {Skill.register} | ({Skill.returns} if i % 2 else set()) | ({Skill.de_escalation} if i % 4 == 0 else set())
        absences: tuple[Absence, ...] = ()
        if i % 8 == 1:  # on leave Wednesday and Thursday
            absences = (Absence(datetime(2026, 11, 25), datetime(2026, 11, 27)),)
        elif i % 8 == 2:  # a student: never after 16 on weekdays
            absences = tuple(Absence(datetime(2026, 11, 23 + d, 16), datetime(2026, 11, 24 + d)) for d in range(5))
        elif i % 8 == 3:  # a parent: never before 12
            absences = tuple(Absence(datetime(2026, 11, 23 + d), datetime(2026, 11, 23 + d, 12)) for d in range(7))
        staff.append(StaffMember(f"emp-{i:04}", Tier.associate, frozenset(skills), 16, 30, absences))
    return staff


def open_periods(week: SiteWeek) -> list[tuple[datetime, datetime]]:
    """The week's open periods in real time; days that meet at midnight make one period."""
    zone, merged = ZoneInfo(week.time_zone), []
    for day, opening in enumerate(week.opening):
        if opening is None:
            continue
        on = week.starts_on + timedelta(days=day)
        begins = datetime.combine(on, time(opening.opens), zone).astimezone(UTC)
        ends = datetime.combine(on + timedelta(days=opening.closes // 24), time(opening.closes % 24), zone).astimezone(UTC)
        if merged and merged[-1][1] == begins:
            merged[-1] = (merged[-1][0], ends)
        else:
            merged.append((begins, ends))
    return merged


def violations(week: SiteWeek, demand: Demand, staff: list[StaffMember], rules: Rules, schedule: Schedule) -> list[str]:
    """Every broken rule in the schedule together with the shifts the staff had booked, worked out from
    the shifts' aware datetimes alone."""
    zone, members, found = ZoneInfo(week.time_zone), {m.staff_id: m for m in staff}, []
    by_staff: dict[str, list] = defaultdict(list)
    on_duty: dict[tuple[date, int], set[str]] = defaultdict(set)  # local (date, hour) -> staff on duty
    week_starts = datetime.combine(week.starts_on, datetime.min.time(), zone)
    week_ends = datetime.combine(week.starts_on + timedelta(days=7), datetime.min.time(), zone)
    for member in staff:
        for booked in member.booked:
            by_staff[member.staff_id].append((booked.starts_at.astimezone(UTC), booked.ends_at.astimezone(UTC)))
            instant = booked.starts_at
            while booked.here and instant < booked.ends_at:
                local = instant.astimezone(zone)
                on_duty[local.date(), local.hour].add(member.staff_id)
                instant += timedelta(minutes=30)
    for shift in schedule.shifts:
        starts, ends = shift.starts_at.astimezone(UTC), shift.ends_at.astimezone(UTC)
        local_start, local_end = starts.astimezone(zone), ends.astimezone(zone)
        member = members[shift.staff_id]
        by_staff[shift.staff_id].append((starts, ends))
        hours = (ends - starts) / timedelta(hours=1)
        if not rules.min_shift_hours <= hours <= rules.max_shift_hours:
            found.append(f"{shift}: {hours} h long")
        if not any(begins <= starts and ends <= finishes for begins, finishes in open_periods(week)):
            found.append(f"{shift}: outside opening hours")
        for absence in member.absences:
            if absence.starts < local_end.replace(tzinfo=None) and absence.ends > local_start.replace(tzinfo=None):
                found.append(f"{shift}: during an absence {absence}")
        instant = starts
        while instant < ends:
            local = instant.astimezone(zone)
            on_duty[local.date(), local.hour].add(shift.staff_id)
            instant += timedelta(minutes=30)
    for staff_id, shifts in by_staff.items():
        shifts.sort()
        member = members[staff_id]
        days = [starts.astimezone(zone).date() for starts, _ in shifts]
        if len(days) != len(set(days)):
            found.append(f"{staff_id}: two shifts on one day")
        for (_, ended), (started, _) in zip(shifts, shifts[1:], strict=False):
            if started - ended < timedelta(hours=rules.min_rest_hours):
                found.append(f"{staff_id}: only {started - ended} rest before {started}")
        in_week = [ends - starts for starts, ends in shifts if week_starts <= starts < week_ends]
        worked = sum(in_week, timedelta()) / timedelta(hours=1)
        if worked > member.max_hours:
            found.append(f"{staff_id}: {worked} h over the maximum {member.max_hours}")
    for day, opening in enumerate(week.opening):
        for hour in range(opening.opens, opening.closes) if opening else ():
            local = datetime.combine(week.starts_on + timedelta(days=day), datetime.min.time()) + timedelta(hours=hour)
            if local.replace(tzinfo=zone).astimezone(UTC).astimezone(zone).replace(tzinfo=None) != local:
                continue  # skipped by the clocks going forward
            people = [members[s] for s in on_duty[local.date(), hour]]
            need = demand.people.get((day, hour), 0)
            if len(people) < need:
                found.append(f"{local}: {len(people)} on duty, demand {need}")
            if not any(m.role in (Tier.coordinator, Tier.store_manager) for m in people):
                found.append(f"{local}: no manager-level person")
            required = [Skill.register, Skill.returns] + ([Skill.de_escalation] if (day, hour) in demand.busy else [])
            found += [f"{local}: nobody {skill}-trained" for skill in required if not any(skill in m.skills for m in people)]
    return found


def staffed(schedule: Schedule, zone: str) -> dict[tuple[date, int], int]:
    counts: dict[tuple[date, int], int] = defaultdict(int)
    for shift in schedule.shifts:
        instant = shift.starts_at.astimezone(UTC)
        while instant < shift.ends_at:
            local = instant.astimezone(ZoneInfo(zone))
            counts[local.date(), local.hour] += 1
            instant += timedelta(hours=1)
    return counts


def test_a_40_person_store_week_meets_every_rule():
    week = SiteWeek("hel-kamppi", HELSINKI, MONDAY, STORE_HOURS)
    demand, staff = store_demand(STORE_HOURS), store_staff()

    schedule = solve(week, demand, staff, RULES, SETTINGS)

    assert isinstance(schedule, Schedule), schedule
    assert violations(week, demand, staff, RULES, schedule) == []
    assert {shift.starts_at.tzinfo.key for shift in schedule.shifts} == {HELSINKI}


def test_a_200_person_call_centre_week_round_the_clock_is_drafted_within_the_service_default_limit():
    week, demand, staff, rules = call_centre()

    schedule = solve(week, demand, staff, rules, SolverSettings())

    assert isinstance(schedule, Schedule), schedule
    assert violations(week, demand, staff, rules, schedule) == []
    staff_hours = sum((s.ends_at - s.starts_at) / timedelta(hours=1) for s in schedule.shifts)
    assert staff_hours <= 1.02 * sum(demand.people.values())  # the cover plan's fit, not a blanket of extra shifts


def test_a_week_the_search_has_no_time_for_still_gets_a_schedule_that_meets_every_rule():
    week = SiteWeek("hel-kamppi", HELSINKI, MONDAY, STORE_HOURS)
    demand, staff = store_demand(STORE_HOURS), store_staff()

    schedule = solve(week, demand, staff, RULES, SolverSettings(work_limit=0.01))  # the search alone finds nothing

    assert isinstance(schedule, Schedule), schedule
    assert violations(week, demand, staff, RULES, schedule) == []
    assert not schedule.proven_best


def test_an_hour_with_more_demand_than_staff_available_is_named():
    opening = (DayOpening(8, 21), DayOpening(8, 21), None, None, None, None, None)
    week = SiteWeek("hel-kamppi", HELSINKI, MONDAY, opening)
    tuesday_evening = Absence(datetime(2026, 11, 24, 17), datetime(2026, 11, 25))
    staff = [
        StaffMember("mgr-0001", Tier.store_manager, EVERY_SKILL, 16, 40),
        StaffMember("coord-0001", Tier.coordinator, EVERY_SKILL, 16, 40),
        StaffMember("emp-0001", Tier.associate, COUNTER, 8, 20, (tuesday_evening,)),
        StaffMember("emp-0002", Tier.associate, COUNTER, 8, 20, (tuesday_evening,)),
    ]
    demand = Demand({(1, 18): 3})

    result = solve(week, demand, staff, RULES, SETTINGS)

    assert result == Infeasible("hel-kamppi", ("Tuesday 18–19: demand 3, only 2 available",))


def test_rules_that_conflict_only_together_are_named():
    """Every hour of Monday has a manager-level person who could work it, but a 13-hour day needs at
    least two shifts of at most 8 h and there is only one such person."""
    opening = (DayOpening(8, 21), None, None, None, None, None, None)
    week = SiteWeek("hel-kamppi", HELSINKI, MONDAY, opening)
    staff = [StaffMember("mgr-0001", Tier.store_manager, EVERY_SKILL, 8, 40)]
    staff += [StaffMember(f"emp-{i:04}", Tier.associate, COUNTER, 8, 20) for i in range(4)]

    result = solve(week, Demand({}), staff, RULES, SETTINGS)

    assert isinstance(result, Infeasible)
    assert result.conflicts == ("these rules cannot all hold together: Monday: a manager-level person every open hour",)


@pytest.mark.parametrize(
    ("monday", "clocks"),
    [(date(2026, 3, 23), "forward"), (date(2026, 10, 19), "back")],
    ids=["spring", "autumn"],
)
def test_a_round_the_clock_sunday_when_the_clocks_change(monday: date, clocks: str):
    """On the last Sunday of March 03:00 does not exist; on the last Sunday of October 03–04 happens
    twice. DraftShift lengths and rest are real hours, and every real hour is covered, through the night too."""
    opening = (None, None, None, None, None, DayOpening(0, 24), DayOpening(0, 24))
    week = SiteWeek("hel-service-desk", HELSINKI, monday, opening)
    staff = [StaffMember(f"coord-{i:04}", Tier.coordinator, EVERY_SKILL, 8, 16) for i in range(8)]
    demand = Demand({(day, hour): 1 for day in (5, 6) for hour in range(24)})

    schedule = solve(week, demand, staff, RULES, SETTINGS)

    assert isinstance(schedule, Schedule), schedule
    assert violations(week, demand, staff, RULES, schedule) == []
    sunday, next_monday = (datetime.combine(monday + timedelta(days=days), time(), ZoneInfo(HELSINKI)).astimezone(UTC)
                           for days in (6, 7))
    real_hours = sum((
        max(timedelta(), min(s.ends_at.astimezone(UTC), next_monday) - max(s.starts_at.astimezone(UTC), sunday))
        for s in schedule.shifts
    ), timedelta())
    assert real_hours == timedelta(hours=23 if clocks == "forward" else 25)
    through_the_change = [s for s in schedule.shifts if s.starts_at.utcoffset() != s.ends_at.utcoffset()]
    wall_clock = through_the_change[0].ends_at.replace(tzinfo=None) - through_the_change[0].starts_at.replace(tzinfo=None)
    real = through_the_change[0].ends_at.astimezone(UTC) - through_the_change[0].starts_at.astimezone(UTC)
    assert real - wall_clock == timedelta(hours=-1 if clocks == "forward" else 1)


def test_a_night_shift_crosses_midnight_when_the_site_stays_open():
    """Open Monday 20–24 and Tuesday 0–4, with one person who needs 11 h rest between shifts: only a
    night shift 20–04 covers it."""
    opening = (DayOpening(20, 24), DayOpening(0, 4), None, None, None, None, None)
    week = SiteWeek("hel-service-desk", HELSINKI, MONDAY, opening)
    staff = [StaffMember("coord-0001", Tier.coordinator, EVERY_SKILL, 8, 8)]
    demand = Demand({**{(0, hour): 1 for hour in range(20, 24)}, **{(1, hour): 1 for hour in range(4)}})

    schedule = solve(week, demand, staff, RULES, SMALL)

    zone = ZoneInfo(HELSINKI)
    assert schedule == Schedule("hel-service-desk", (
        DraftShift("coord-0001", datetime(2026, 11, 23, 20, tzinfo=zone), datetime(2026, 11, 24, 4, tzinfo=zone)),
    ), proven_best=True)
    assert violations(week, demand, staff, RULES, schedule) == []


def small_store_staff() -> list[StaffMember]:
    staff = [StaffMember(f"mgr-{i:04}", Tier.store_manager, EVERY_SKILL, 20, 40) for i in range(2)]
    staff += [StaffMember(f"coord-{i:04}", Tier.coordinator, EVERY_SKILL, 20, 40) for i in range(2)]
    staff += [StaffMember(f"emp-{i:04}", Tier.associate, COUNTER, 8, 30) for i in range(6)]
    staff += [StaffMember(f"emp-{i:04}", Tier.associate, COUNTER | {Skill.de_escalation}, 8, 30) for i in range(6, 8)]
    return staff


def test_raising_the_demand_of_busy_hours_changes_coverage_in_exactly_those_hours():
    opening = (*[DayOpening(9, 17)] * 5, None, None)
    week = SiteWeek("tre-koskikeskus", HELSINKI, MONDAY, opening)
    base = {(day, hour): 2 for day in range(5) for hour in range(9, 17)}
    friday_afternoon = frozenset((4, hour) for hour in range(13, 17))
    raised = Demand({**base, **{hour: 4 for hour in friday_afternoon}}, friday_afternoon)
    staff = small_store_staff()

    before = solve(week, Demand(base), staff, RULES, SMALL)
    after = solve(week, raised, staff, RULES, SMALL)

    assert isinstance(before, Schedule) and isinstance(after, Schedule)
    assert violations(week, raised, staff, RULES, after) == []
    counts_before, counts_after = staffed(before, HELSINKI), staffed(after, HELSINKI)
    changed = {key for key in counts_before.keys() | counts_after.keys() if counts_before[key] != counts_after[key]}
    assert changed == {(MONDAY + timedelta(days=day), hour) for day, hour in friday_afternoon}
    assert all(counts_after[MONDAY + timedelta(days=4), hour] == 4 for _, hour in friday_afternoon)


def test_booked_shifts_are_kept_and_planned_around():
    """The manager's hand-made shift here covers Monday (manager-level included) and fills part of their
    week; a shift elsewhere that ended at 23 on Sunday keeps its 11 h rest into Monday."""
    opening = (DayOpening(9, 17), DayOpening(9, 17), None, None, None, None, None)
    week = SiteWeek("tre-koskikeskus", HELSINKI, MONDAY, opening)
    zone = ZoneInfo(HELSINKI)
    hand_made = Booked(datetime(2026, 11, 23, 9, tzinfo=zone), datetime(2026, 11, 23, 17, tzinfo=zone), here=True)
    late_sunday = Booked(datetime(2026, 11, 22, 15, tzinfo=zone), datetime(2026, 11, 22, 23, tzinfo=zone))
    staff = [
        StaffMember("mgr-0001", Tier.store_manager, EVERY_SKILL, 16, 16, booked=(hand_made,)),
        StaffMember("emp-0001", Tier.associate, COUNTER, 8, 16, booked=(late_sunday,)),
        StaffMember("emp-0002", Tier.associate, COUNTER, 0, 8),
    ]
    demand = Demand({(day, hour): 2 for day in range(2) for hour in range(9, 17)})

    schedule = solve(week, demand, staff, RULES, SMALL)

    assert isinstance(schedule, Schedule), schedule
    assert violations(week, demand, staff, RULES, schedule) == []
    assert "mgr-0001" not in {s.staff_id for s in schedule.shifts if s.starts_at.date() == MONDAY}
    assert all(staffed(schedule, HELSINKI)[MONDAY, hour] == 1 for hour in range(9, 17))


def test_the_checker_counts_booked_shifts():
    opening = (DayOpening(9, 17), None, None, None, None, None, None)
    week = SiteWeek("tre-koskikeskus", HELSINKI, MONDAY, opening)
    zone = ZoneInfo(HELSINKI)
    late_sunday = Booked(datetime(2026, 11, 22, 15, tzinfo=zone), datetime(2026, 11, 22, 23, tzinfo=zone))
    staff = [StaffMember("mgr-0001", Tier.store_manager, EVERY_SKILL, 0, 8, booked=(late_sunday,))]
    shifts = (DraftShift("mgr-0001", datetime(2026, 11, 23, 9, tzinfo=zone), datetime(2026, 11, 23, 17, tzinfo=zone)),)

    found = violations(week, Demand({}), staff, RULES, Schedule("tre-koskikeskus", shifts, proven_best=False))

    assert found == ["mgr-0001: only 10:00:00 rest before 2026-11-23 07:00:00+00:00"]


def test_the_same_week_gets_the_same_schedule():
    opening = (*[DayOpening(9, 17)] * 5, None, None)
    week = SiteWeek("tre-koskikeskus", HELSINKI, MONDAY, opening)
    demand = Demand({(day, hour): 3 for day in range(5) for hour in range(9, 17)})

    assert solve(week, demand, small_store_staff(), RULES, SMALL) == solve(week, demand, small_store_staff(), RULES, SMALL)


def test_a_week_must_start_on_a_monday():
    with pytest.raises(ValueError, match="2026-11-24 is a Tuesday"):
        SiteWeek("hel-kamppi", HELSINKI, date(2026, 11, 24), STORE_HOURS)


def test_the_checker_catches_each_broken_rule():
    """So that an empty list from it means something."""
    opening = (DayOpening(8, 21), DayOpening(8, 21), None, None, None, None, None)
    week = SiteWeek("hel-kamppi", HELSINKI, MONDAY, opening)
    away = Absence(datetime(2026, 11, 23, 8), datetime(2026, 11, 23, 12))
    staff = [StaffMember("emp-0001", Tier.associate, frozenset({Skill.register}), 8, 8, (away,))]
    zone = ZoneInfo(HELSINKI)
    shifts = (
        DraftShift("emp-0001", datetime(2026, 11, 23, 7, tzinfo=zone), datetime(2026, 11, 23, 12, tzinfo=zone)),
        DraftShift("emp-0001", datetime(2026, 11, 23, 13, tzinfo=zone), datetime(2026, 11, 23, 21, tzinfo=zone)),
        DraftShift("emp-0001", datetime(2026, 11, 24, 6, tzinfo=zone), datetime(2026, 11, 24, 21, tzinfo=zone)),
    )

    found = violations(week, Demand({(0, 8): 2}), staff, RULES, Schedule("hel-kamppi", shifts, proven_best=False))

    for broken in ("outside opening hours", "during an absence", "two shifts on one day", "rest before", "over the maximum",
                   "h long", "demand 2", "no manager-level person", "nobody returns-trained"):
        assert any(broken in line for line in found), broken
