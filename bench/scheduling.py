"""Solver time and memory for a 40-person store week and a 200-person round-the-clock call-centre week,
with the scheduling service's own solver settings (one CP-SAT worker, SCHEDULING_SOLVER_WORK_LIMIT).

    .venv/bin/python bench/scheduling.py [--work-limit 10]

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
from datetime import UTC
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from services.scheduling.domain.solver import Schedule, SolverSettings, check_capacity, solve  # noqa: E402
from services.scheduling.settings import SchedulingSettings  # noqa: E402
from tests.support.weeks import call_centre, store  # noqa: E402

CASES = {"store, 40 staff": store, "call centre, 200 staff": call_centre}


def measure(case: str, mode: str, work_limit: float) -> dict:
    """Run in a child interpreter: seconds and peak memory of the pre-check or the whole solve."""
    week, demand, staff, rules = CASES[case]()
    started = time.perf_counter()
    if mode == "precheck":
        outcome = f"{len(check_capacity(week, demand, staff, rules))} conflicts"
    else:
        result = solve(week, demand, staff, rules, SolverSettings(work_limit=work_limit))
        if isinstance(result, Schedule):
            worked = {member.staff_id: 0.0 for member in staff}
            for shift in result.shifts:
                worked[shift.staff_id] += (shift.ends_at.astimezone(UTC) - shift.starts_at).total_seconds() / 3600
            short = sum(max(0.0, member.contracted_hours - worked[member.staff_id]) for member in staff)
            outcome = (f"{len(result.shifts)} shifts, {sum(worked.values()):.0f} staff-h for a demand of "
                       f"{sum(demand.people.values())}, {short:.0f} h short of contracts "
                       f"(at least {max(0.0, sum(m.contracted_hours for m in staff) - sum(worked.values())):.0f}), "
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
    print(f"(one CP-SAT worker, at most {work_limit} work units; ratios are solve / pre-check in this run)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work-limit", type=float, default=SchedulingSettings.model_fields["solver_work_limit"].default,
                        help="CP-SAT deterministic work units per solve (default: the service's)")
    parser.add_argument("--child", nargs=2, metavar=("CASE", "MODE"), help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        print(json.dumps(measure(*arguments.child, arguments.work_limit)))
    else:
        main(arguments.work_limit)
