"""Solver time and memory for a 40-person store week and a 200-person round-the-clock call-centre week.

    .venv/bin/python bench/scheduling.py --work-limit 60

Each measurement runs in its own interpreter, so its peak resident memory (CP-SAT's native memory
included) is its own. The baseline, in the same run, is the capacity pre-check alone — the week's
slots and every shift each person could work, checked hour by hour — so the ratios say what the
CP-SAT model and search cost on top of reading the week.
"""

import argparse
import json
import resource
import subprocess
import sys
import time
from datetime import UTC, date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from services.scheduling.domain.solver import (  # noqa: E402
    DayOpening,
    Demand,
    Rules,
    Schedule,
    SiteWeek,
    Skill,
    SolverSettings,
    StaffMember,
    check_capacity,
    solve,
)
from services.shared.events.fields import Tier  # noqa: E402

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


CASES = {"store, 40 staff": store, "call centre, 200 staff": call_centre}


def measure(case: str, mode: str, work_limit: float) -> dict:
    """Run in a child interpreter: seconds and peak memory of the pre-check or the whole solve."""
    week, demand, staff, rules = CASES[case]()
    started = time.perf_counter()
    if mode == "precheck":
        outcome = f"{len(check_capacity(week, demand, staff, rules))} conflicts"
    else:
        result = solve(week, demand, staff, rules, SolverSettings(work_limit=work_limit, workers=2))
        if isinstance(result, Schedule):
            staffed = sum((shift.ends_at.astimezone(UTC) - shift.starts_at).total_seconds() for shift in result.shifts) / 3600
            outcome = (f"{len(result.shifts)} shifts, {staffed:.0f} staff-h for a demand of {sum(demand.people.values())}, "
                       f"{'optimal' if result.proven_best else 'limit reached'}")
        else:
            outcome = f"no schedule: {result.conflicts[0][:70]}"
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "outcome": outcome}


def child(case: str, mode: str, work_limit: float) -> dict:
    output = subprocess.run(
        [sys.executable, __file__, "--child", case, mode, "--work-limit", str(work_limit)],
        capture_output=True, text=True, check=True, cwd=REPO,
    ).stdout
    return json.loads(output)


def main(work_limit: float) -> None:
    print(f"{'case':24} {'pre-check s':>11} {'solve s':>9} {'ratio':>8} "
          f"{'pre-check MB':>12} {'solve MB':>9} {'ratio':>6}  outcome")
    for case in CASES:
        baseline, solved = child(case, "precheck", work_limit), child(case, "solve", work_limit)
        print(f"{case:24} {baseline['seconds']:11.3f} {solved['seconds']:9.2f} {solved['seconds'] / baseline['seconds']:8.0f} "
              f"{baseline['peak_mb']:12.0f} {solved['peak_mb']:9.0f} {solved['peak_mb'] / baseline['peak_mb']:6.1f}  "
              f"{solved['outcome']}")
    print(f"(two CP-SAT workers, at most {work_limit} work units; ratios are solve / pre-check in this run)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work-limit", type=float, default=60.0, help="CP-SAT deterministic work units per solve")
    parser.add_argument("--child", nargs=2, metavar=("CASE", "MODE"), help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        print(json.dumps(measure(*arguments.child, arguments.work_limit)))
    else:
        main(arguments.work_limit)
