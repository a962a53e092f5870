"""Peak RSS and CPU time of every task of a job, run inline in one process as an executor
runs them (task processes' memory set-up, freed memory returned between attempts), so a
change's effect on a task's peak and CPU can be compared run for run on a busy machine.

    python3 bench/bench_task_peaks.py bigram --size 24MB [--memory 32MB] [--split-size 22MB]

Linux only: each task's peak is ``VmHWM``, reset before it through ``/proc/self/clear_refs``.
A 1 KB run of the same job goes first, so imports are not counted in the job's tasks; the
last line is the md5 of the output parts, to check before and after give the same bytes.
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import os
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
sys.path.insert(0, ROOT)
sys.path.insert(0, BENCH)

from bench_wordcount import corpus  # noqa: E402
from gen_corpus import parse_size  # noqa: E402

from zmr.runners import inline  # noqa: E402
from zmr.tasks import memory  # noqa: E402


def status_mb(field: str) -> float:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field)) / 1024


def timed(kind: str, task: Callable[..., Any], rows: list[tuple[str, float, float]]
          ) -> Callable[..., Any]:
    def run(*args: Any, **kwargs: Any) -> Any:
        memory.release_memory()             # as the executor does after each attempt
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")                    # VmHWM := VmRSS
        started = time.process_time()
        result = task(*args, **kwargs)
        rows.append((kind, status_mb("VmHWM"), time.process_time() - started))
        return result
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("job", help="a job of jobs/, e.g. bigram or wordcount")
    parser.add_argument("--size", default="24MB", help="corpus size (bench_wordcount's)")
    parser.add_argument("--memory", default="32MB")
    parser.add_argument("--split-size", default="22MB", help="a 2-worker cluster's split")
    args = parser.parse_args()
    memory.prepare_task_process()
    rows: list[tuple[str, float, float]] = []
    inline.run_map_task = timed("map", inline.run_map_task, rows)
    inline.run_reduce_task = timed("reduce", inline.run_reduce_task, rows)
    job = os.path.join(ROOT, "jobs", f"{args.job}.py")
    with tempfile.TemporaryDirectory(prefix="zmr-peaks-") as scratch:
        tiny = os.path.join(scratch, "tiny.txt")
        with open(tiny, "w") as f:
            f.write("a tiny job measures the fixed overhead of a task process\n" * 16)
        inline.run_inline(job, [tiny], os.path.join(scratch, "tiny"), reducers=2,
                          memory_budget=args.memory)
        overhead = max(peak for _, peak, _ in rows)
        rows.clear()
        inline.run_inline(job, corpus(parse_size(args.size)), os.path.join(scratch, "out"),
                          reducers=2, memory_budget=args.memory, split_size=args.split_size)
        digest = hashlib.md5()
        for part in sorted(glob.glob(os.path.join(scratch, "out", "part-*"))):
            with open(part, "rb") as f:
                digest.update(f.read())
    for kind in ("map", "reduce"):
        mine = [(peak, cpu) for k, peak, cpu in rows if k == kind]
        print(f"{kind}: {len(mine)} tasks, peak {max(p for p, _ in mine):.0f} MB "
              f"(1 KB job: {overhead:.0f} MB), CPU {sum(c for _, c in mine):.2f} s")
    print(f"output md5 {digest.hexdigest()}")


if __name__ == "__main__":
    main()
