"""Per-task overhead end to end: many no-op map tasks through a running embedded cluster of
real workers (real executors, real files, real sockets), submit to ``_SUCCESS``, against
``--inline``-style sequential execution of the same tasks in this process. Issue 13's
target: at most 2 ms per task with 2 workers (5,000 tasks).

Each task is one 16-byte line of one file (``--split-size 16``), so there are exactly
``--tasks`` maps; the mapper yields nothing and the job has one reducer, so every map
writes a (partitioned, empty) output and its index, as a real map does.

    python3 bench/bench_tasks.py [--tasks 5000] [--workers 2] [--reps 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from zmr.runners.inline import run_inline  # noqa: E402
from zmr.runners.local import LocalCluster  # noqa: E402

NOOP_JOB = "def mapper(key, line):\n    return ()\n\n\ndef reducer(key, values):\n" \
           "    return ()\n"
LINE = 16
TARGET_MS = 2.0


def prepare(scratch: str, tasks: int) -> tuple[str, str]:
    job = os.path.join(scratch, "noop.py")
    with open(job, "w") as f:
        f.write(NOOP_JOB)
    data = os.path.join(scratch, "lines.txt")
    with open(data, "w") as f:
        f.writelines(f"line{i:011d}\n" for i in range(tasks))     # 16 bytes each
    return job, data


def on_cluster(cluster: LocalCluster, job: str, data: str, scratch: str) -> float:
    out = tempfile.mkdtemp(dir=scratch) + "/out"
    started = time.perf_counter()
    status = cluster.client.submit(job, [data], out, split_size=LINE, reducers=1) \
        .wait()
    elapsed = time.perf_counter() - started
    assert status["state"] == "SUCCEEDED", status["error"]
    return elapsed


def inline(job: str, data: str, scratch: str) -> float:
    out = tempfile.mkdtemp(dir=scratch) + "/out"
    started = time.perf_counter()
    run_inline(job, [data], out, reducers=1, split_size=LINE)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    scratch = tempfile.mkdtemp(prefix="zmr-bench-tasks-")
    try:
        job, data = prepare(scratch, args.tasks)
        cluster_s, inline_s = [], []
        with LocalCluster(workers=args.workers, base_dir=os.path.join(scratch, "c")) as c:
            on_cluster(c, job, data, scratch)                     # warm: executors loaded
            for _ in range(args.reps):                            # alternate the two
                cluster_s.append(on_cluster(c, job, data, scratch))
                inline_s.append(inline(job, data, scratch))
        report(args, statistics.median(cluster_s), statistics.median(inline_s))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def report(args: argparse.Namespace, cluster_s: float, inline_s: float) -> None:
    per_task = cluster_s / args.tasks * 1000
    verdict = "PASS" if per_task <= TARGET_MS else "MISS"
    print(f"| run | {args.tasks} no-op map tasks, s | ms per task |")
    print("|---|---:|---:|")
    print(f"| embedded cluster, {args.workers} workers | {cluster_s:.2f} | {per_task:.2f} |")
    print(f"| inline (one process, no engine round trips) | {inline_s:.2f} | "
          f"{inline_s / args.tasks * 1000:.2f} |")
    print(f"\nper-task overhead on {args.workers} workers: {per_task:.2f} ms "
          f"(target <= {TARGET_MS} ms: {verdict}); cluster/inline = "
          f"{cluster_s / inline_s:.2f}x")


if __name__ == "__main__":
    main()
