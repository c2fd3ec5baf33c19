"""Runs a service module under tracemalloc, for B5's analysis of where the memory goes:

    BENCH_TRACED_MODULE=services.escalation.boards BENCH_TRACED_OUTPUT=/tmp/boards.txt \\
        .venv/bin/python -m bench.traced
    touch /tmp/boards.txt.trigger      # once it has caught up: the report is written to /tmp/boards.txt

A thread waits for the trigger file, then writes the traced Python heap's total and its largest
allocation sites by line (one frame each: deeper stacks make the snapshot too slow on a large heap).
Memory outside Python's allocator (RocksDB, the interpreter) is what VmRSS has beyond that total.
Tracing slows the process and adds memory of its own: it shows where the memory goes, not how much."""

import os
import runpy
import threading
import time
import tracemalloc
from pathlib import Path


def _report(output: Path) -> None:
    trigger = output.with_name(output.name + ".trigger")
    while True:
        time.sleep(1)
        if not trigger.exists():
            continue
        snapshot = tracemalloc.take_snapshot()
        stats = snapshot.statistics("lineno")
        total = sum(stat.size for stat in stats)
        lines = [f"traced Python heap: {total / 2**20:,.1f} MiB in {sum(s.count for s in stats):,} blocks; "
                 f"peak {tracemalloc.get_traced_memory()[1] / 2**20:,.1f} MiB", "", "by line:"]
        lines += [f"{stat.size / 2**20:9.1f} MiB {stat.count:>10,} blocks  {stat.traceback[0]}" for stat in stats[:30]]
        output.write_text("\n".join(lines) + "\n")
        trigger.unlink()


if __name__ == "__main__":
    tracemalloc.start(1)
    threading.Thread(target=_report, args=(Path(os.environ["BENCH_TRACED_OUTPUT"]),), daemon=True).start()
    runpy.run_module(os.environ["BENCH_TRACED_MODULE"], run_name="__main__", alter_sys=True)
