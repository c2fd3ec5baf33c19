"""Two weeks to schedule, shared by the solver's tests and bench/scheduling.py: a 40-person store and a
200-person call centre open round the clock."""

from datetime import date

from services.scheduling.domain.solver import DayOpening, Demand, Rules, SiteWeek, Skill, StaffMember
from services.shared.events.fields import Tier

MONDAY = date(2026, 11, 23)
COUNTER = frozenset({Skill.register, Skill.returns})


def busiest(people: dict[tuple[int, int], int], at_least: int) -> Demand:
    """The demand whose hours needing at least `at_least` people are busy."""
    return Demand(people, frozenset(slot for slot, need in people.items() if need >= at_least))


def store() -> tuple[SiteWeek, Demand, list[StaffMember], Rules]:
    opening = (*[DayOpening(8, 21)] * 5, DayOpening(9, 18), DayOpening(12, 18))
    demand = busiest({
        (day, hour): 6 if day == 6 or hour < 10 else 10 if hour < 16 else 12 if hour < 19 else 8
        for day, hours in enumerate(opening) for hour in range(hours.opens, hours.closes)
    }, 12)
    staff = [StaffMember(f"mgr-{i:04}", Tier.store_manager, frozenset(Skill), 37, 40) for i in range(2)]
    staff += [StaffMember(f"coord-{i:04}", Tier.coordinator, COUNTER | {Skill.de_escalation}, 30, 40) for i in range(6)]
    for i in range(32):
        skills = {Skill.register} | ({Skill.returns} if i % 2 else set()) | ({Skill.de_escalation} if i % 4 == 0 else set())
        staff.append(StaffMember(f"emp-{i:04}", Tier.associate, frozenset(skills), 16, 30))
    return SiteWeek("hel-kamppi", "Europe/Helsinki", MONDAY, opening), demand, staff, Rules()


def call_centre() -> tuple[SiteWeek, Demand, list[StaffMember], Rules]:
    """Open round the clock; agents are the associate tier, supervisors coordinators."""
    opening = tuple([DayOpening(0, 24)] * 7)
    def agents(day: int, hour: int) -> int:
        if hour < 7 or hour >= 22:
            return 10
        peak = 55 if 9 <= hour < 12 or 17 <= hour < 20 else 40
        return peak * 2 // 3 if day >= 5 else peak
    demand = busiest({(day, hour): agents(day, hour) for day in range(7) for hour in range(24)}, 50)
    staff = [StaffMember(f"coord-{i:04}", Tier.coordinator, COUNTER | {Skill.de_escalation}, 30, 40) for i in range(24)]
    staff += [
        StaffMember(f"agent-{i:04}", Tier.associate,
                    COUNTER | ({Skill.de_escalation} if i % 3 == 0 else set()), 24 if i % 2 else 32, 40)
        for i in range(176)
    ]
    week = SiteWeek("contact-centre-tampere", "Europe/Helsinki", MONDAY, opening)
    return week, demand, staff, Rules(min_shift_hours=6)
