"""Fair dispatch at scale: how long task slots sit idle while tasks are pending, on a
2,000+ task job run by real workers (real executors, files and sockets).

Each map records in its attempt log its task process (a slot) and when its mapper began
and ended; a slot's idle gap is the time from one map's end to the next map's start in the
same process, counted only while some map had not been handed out yet (the coordinator's
record says when each was). It includes zmr's own per-task work around the mapper (reading
the split, committing the output, the report and the next assignment): what a user sees as
a slot doing nothing for them. Printed: p50, p95, p99 and max gap over every slot, which
worker had the max, and tasks/s.

    python3 bench/bench_idle.py [--tasks 2500] [--workers 8] [--slots 1] [--reps 1]
                                [--prefetch 1] [--task-ms 0]

Prefetch (a queued attempt behind each slot) hides the round trip to the coordinator, so
with it gaps only appear when a worker runs dry; ``--prefetch 0`` (or tasks averaging over
1 s, for which workers are offered no prefetch) shows every dispatch round trip.
"""

from __future__ import annotations

import argparse
import bisect
import collections
import os
import statistics
import sys
import tempfile
import time
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from zmr.client import Client  # noqa: E402
from zmr.runners.local import LocalCluster  # noqa: E402

JOB = ("import os, time\n\ndef mapper(key, line):\n    began = time.time()\n"
       "    time.sleep({sleep_s})\n"
       "    print('zmr-bench-slot', os.getpid(), began, time.time(), flush=True)\n"
       "    return ()\n\n\ndef reducer(key, values):\n    return ()\n")
MARK = "zmr-bench-slot"


def idle_gaps(job: dict[str, Any], logs: list[dict[str, Any]]) -> list[tuple[float, str]]:
    """(seconds, worker) of every gap in a task process (a slot) between one map's end and
    the next map's start while another map was still waiting to be handed out (module
    doc). Each map prints its process id, start and end (``time.time()``: the same clock as
    the coordinator's on one host) to its attempt log."""
    handed_out = sorted(t["attempts"][0][2] for t in job["tasks"] if t["task"] == "map")
    runs: dict[tuple[str, str], list[tuple[float, float]]] = collections.defaultdict(list)
    for entry in logs:
        for line in entry["log"].splitlines():
            if line.startswith(MARK):
                _, pid, began, ended = line.split()
                runs[entry["worker"], pid].append((float(began), float(ended)))
    gaps = []
    for (worker, _), spans in runs.items():
        spans.sort()
        for (_, ended), (began, _) in zip(spans, spans[1:]):
            if bisect.bisect_right(handed_out, ended) < len(handed_out):
                gaps.append((began - ended, worker))     # a map was waiting meanwhile
    return gaps


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def run_once(args: argparse.Namespace, scratch: str, rep: int) -> str:
    tasks, workers, slots = args.tasks, args.workers, args.slots
    job, data = os.path.join(scratch, "noop.py"), os.path.join(scratch, "lines.txt")
    with open(job, "w") as f:
        f.write(JOB.format(sleep_s=args.task_ms / 1000))
    with open(data, "w") as f:
        f.write("x\n" * tasks)
    base = os.path.join(scratch, f"cluster{rep}")
    settings = {("worker", "prefetch"): args.prefetch}
    with LocalCluster(workers=workers, slots=slots, base_dir=base, settings=settings,
                      log_level="warning") as cluster, Client(cluster.config_path) as client:
        started = time.perf_counter()
        handle = client.submit(job, [data], os.path.join(scratch, f"out{rep}"), split_size=2)
        status = handle.wait(timeout_s=3600)
        elapsed = time.perf_counter() - started
        assert status["state"] == "SUCCEEDED", status["error"]
        (full,) = client.status(handle.job_id)
        logs = client.logs(handle.job_id, "map")
    gaps = idle_gaps(full, logs)
    seconds = [g for g, _ in gaps]
    worst = max(gaps, default=(0.0, "-"))
    ms = {q: 1000 * percentile(seconds, q) for q in (0.5, 0.95, 0.99)}
    return (f"| {tasks:,} maps of {args.task_ms} ms + 1 reduce | {workers} x {slots} slots, "
            f"prefetch {args.prefetch} | {tasks / elapsed:,.0f} "
            f"tasks/s | {len(seconds):,} gaps | p50 {ms[0.5]:.0f} ms | p95 {ms[0.95]:.0f} ms "
            f"| p99 {ms[0.99]:.0f} ms | max {1000 * worst[0]:,.0f} ms ({worst[1]}) | "
            f"mean {1000 * statistics.fmean(seconds or [0]):.0f} ms |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=2500)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--slots", type=int, default=1)
    parser.add_argument("--reps", type=int, default=1)
    parser.add_argument("--prefetch", type=int, default=1, help="[worker] prefetch")
    parser.add_argument("--task-ms", type=int, default=0, help="each map sleeps this long")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="zmr-idle-") as scratch:
        for rep in range(args.reps):
            print(run_once(args, scratch, rep), flush=True)


if __name__ == "__main__":
    main()
