"""Fair dispatch at scale: how long task slots sit idle while tasks are pending, on a
2,000+ task job run by real workers (real executors, files and sockets).

From the job's own record (every attempt's worker, assignment and finish time as the
coordinator saw them): a worker's slot is idle from the moment one of its attempts ends,
leaving it fewer attempts than slots, until its next assignment; such a gap counts only
while a task it could have run was pending (an unassigned map; a reduce once every map is
done). Printed: p50, p95, p99 and max gap over every slot, which worker had the max, and
tasks/s.

    python3 bench/bench_idle.py [--tasks 2500] [--workers 8] [--slots 1] [--reps 1]
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

NOOP_JOB = "def mapper(key, line):\n    return ()\n\n\ndef reducer(key, values):\n" \
           "    return ()\n"


def idle_gaps(job: dict[str, Any], slots: int) -> list[tuple[float, str]]:
    """(seconds, worker) of every idle-slot gap while work was pending (module doc)."""
    tasks = job["tasks"]
    maps_done_s = max(a[3] for t in tasks if t["task"] == "map" for a in t["attempts"]
                      if a[4] == "succeeded")
    first_map = sorted(t["attempts"][0][2] for t in tasks if t["task"] == "map")
    first_reduce = sorted(t["attempts"][0][2] for t in tasks if t["task"] == "reduce")

    def pending(at: float) -> bool:
        if bisect.bisect_right(first_map, at) < len(first_map):
            return True                 # a map not yet handed out
        return at >= maps_done_s and bisect.bisect_right(first_reduce, at) < len(first_reduce)

    events: dict[str, list[tuple[float, int]]] = collections.defaultdict(list)
    for t in tasks:
        for _, worker, started, finished, _, _ in t["attempts"]:
            events[worker].append((started, 1))
            if finished is not None:
                events[worker].append((finished, -1))
    gaps = []
    for worker, seq in events.items():
        inflight, idle_since = 0, collections.deque()
        for at, step in sorted(seq, key=lambda e: (e[0], -e[1])):
            inflight += step
            if step < 0 and inflight < slots and pending(at):
                idle_since.append(at)
            elif step > 0 and idle_since:
                gaps.append((at - idle_since.popleft(), worker))
    return gaps


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def run_once(tasks: int, workers: int, slots: int, scratch: str, rep: int) -> str:
    job, data = os.path.join(scratch, "noop.py"), os.path.join(scratch, "lines.txt")
    with open(job, "w") as f:
        f.write(NOOP_JOB)
    with open(data, "w") as f:
        f.write("x\n" * tasks)
    base = os.path.join(scratch, f"cluster{rep}")
    with LocalCluster(workers=workers, slots=slots, base_dir=base,
                      log_level="warning") as cluster, Client(cluster.config_path) as client:
        started = time.perf_counter()
        handle = client.submit(job, [data], os.path.join(scratch, f"out{rep}"), split_size=2)
        status = handle.wait(timeout_s=3600)
        elapsed = time.perf_counter() - started
        assert status["state"] == "SUCCEEDED", status["error"]
        (full,) = client.status(handle.job_id)
    gaps = idle_gaps(full, slots)
    seconds = [g for g, _ in gaps]
    worst = max(gaps, default=(0.0, "-"))
    ms = {q: 1000 * percentile(seconds, q) for q in (0.5, 0.95, 0.99)}
    return (f"| {tasks:,} maps + 1 reduce | {workers} x {slots} slots | {tasks / elapsed:,.0f} "
            f"tasks/s | {len(seconds):,} gaps | p50 {ms[0.5]:.0f} ms | p95 {ms[0.95]:.0f} ms "
            f"| p99 {ms[0.99]:.0f} ms | max {1000 * worst[0]:,.0f} ms ({worst[1]}) | "
            f"mean {1000 * statistics.fmean(seconds or [0]):.0f} ms |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=2500)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--slots", type=int, default=1)
    parser.add_argument("--reps", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="zmr-idle-") as scratch:
        for rep in range(args.reps):
            print(run_once(args.tasks, args.workers, args.slots, scratch, rep), flush=True)


if __name__ == "__main__":
    main()
