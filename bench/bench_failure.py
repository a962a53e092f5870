"""Cost of losing a worker: word count on 4 workers, with one worker killed (kill -9) when
half of the map tasks are done, versus no failure; same corpus, same run.

    python bench/bench_failure.py [--size 64MB] [--split-size 4MB] [--reps 3]

The MapReduce paper reports a 5% slowdown with 200 of 1746 workers killed mid-job.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
sys.path[:0] = [ROOT, BENCH]

from bench_wordcount import corpus  # noqa: E402

from tests.helpers import output_bytes  # noqa: E402
from zmr.runners.local import LocalCluster  # noqa: E402
from zmr.storage.splits import parse_size  # noqa: E402

WORDCOUNT = os.path.join(ROOT, "jobs", "wordcount.py")


def one_run(files: list[str], split_size: str, out: str, kill: bool) -> tuple[float, dict]:
    with LocalCluster(workers=4, heartbeat_interval_s=1.0, liveness=3) as cluster:
        started = time.monotonic()
        job = cluster.client.submit(WORDCOUNT, files, out, reducers=4, split_size=split_size)
        killed = not kill
        while True:
            status = job.status()
            if status["state"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
                break
            if not killed and status["maps_done"] >= status["maps_total"] // 2:
                cluster.workers["local-1"].send_signal(signal.SIGKILL)
                killed = True
            time.sleep(0.05)
        wall = time.monotonic() - started
    if status["state"] != "SUCCEEDED":
        raise SystemExit(f"job {status['state']}: {status['error']}")
    return wall, status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="64MB")
    parser.add_argument("--split-size", default="4MB")
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    files = corpus(parse_size(args.size, "--size"))
    walls: dict[bool, list[float]] = {False: [], True: []}
    reruns = []
    with tempfile.TemporaryDirectory(prefix="zmr-bench-fail-") as scratch:
        reference = None
        for rep in range(args.reps):
            for kill in (False, True):
                out = os.path.join(scratch, f"out-{rep}-{kill}")
                wall, status = one_run(files, args.split_size, out, kill)
                walls[kill].append(wall)
                if kill:
                    reruns.append(status["counters"].get("zmr.job", {}).get("RERUN_MAPS", 0))
                reference = reference or output_bytes(out)
                if output_bytes(out) != reference:
                    raise SystemExit("outputs differ between runs")
                shutil.rmtree(out)
    base, failed = statistics.median(walls[False]), statistics.median(walls[True])
    print(f"word count, {args.size} corpus, {args.split_size} splits, 4 workers, "
          f"median of {args.reps}")
    print(f"| run | wall s |\n|---|---:|\n| no failure | {base:.2f} |")
    print(f"| one worker killed at 50% of the map phase | {failed:.2f} |")
    print(f"slowdown: {100 * (failed / base - 1):.1f}%  (map tasks re-run per killed run: "
          f"{reruns}); outputs identical")


if __name__ == "__main__":
    main()
