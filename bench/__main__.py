"""make bench (python -m bench): starts its own Kafka broker and PostgreSQL, runs the benchmarks with a
progress bar, prints the table and writes bench/results.json.

    .venv/bin/python -m bench                          # everything, 3 rounds
    .venv/bin/python -m bench --only B1 --rounds 1 --scale 0.2
    .venv/bin/python -m bench --only B1 --profile /tmp/profiles   # py-spy (pip install py-spy) on each subject
"""

import argparse
import asyncio
from pathlib import Path

from bench import analytics, end_to_end, filing, idle, memory, routing
from bench.harness import RESULTS, Options, own_infra, run

BENCHMARKS = {"B1": filing.run, "B2": routing.run, "B3": end_to_end.run, "B4": analytics.run, "B5": memory.run, "B6": idle.run}


async def main(only: list[str], options: Options, output: Path) -> None:
    async with own_infra() as infra:
        await run({name: BENCHMARKS[name] for name in only}, infra, options, output=output)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", choices=sorted(BENCHMARKS), default=sorted(BENCHMARKS),
                        help="the benchmarks to run (default: all)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per figure, baseline and subject alternated")
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies each benchmark's work (B1: 1000 requests a run)")
    parser.add_argument("--output", type=Path, default=RESULTS, help=f"where the JSON goes (default: {RESULTS})")
    parser.add_argument("--profile", metavar="FOLDER",
                        help="profile each subject with py-spy into FOLDER (collapsed stacks: b1-subject.txt, ...)")
    arguments = parser.parse_args()
    if arguments.rounds < 1 or arguments.scale <= 0:
        parser.error("--rounds must be at least 1 and --scale above 0")
    asyncio.run(main(arguments.only, Options(arguments.rounds, arguments.scale, arguments.profile), arguments.output))
