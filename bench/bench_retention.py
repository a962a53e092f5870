"""Disk use of a long-lived cluster: many jobs, one after another, on one embedded cluster
of real workers, printing after each job what the workers' data directories and the
coordinator's state directory hold (files and bytes). With ``[retention]`` in force the
figures stop growing once the limits are reached; ``--keep 0`` runs with no limits to
compare (every job's logs and history stay).

Each job has ``--maps`` one-line map tasks whose mapper prints a line (so every attempt
has a log) and one reducer.

    python3 bench/bench_retention.py [--jobs 30] [--maps 100] [--workers 2] [--keep 5]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from zmr.client import Client  # noqa: E402
from zmr.runners.local import LocalCluster  # noqa: E402

JOB = ("def mapper(key, line):\n    print('mapping', line * 20)\n    yield line, 1\n\n"
       "def reducer(key, ones):\n    yield key, sum(ones)\n")
NO_LIMIT = 10**9


def disk_use(path: str) -> tuple[int, int]:
    """(files, bytes) under ``path``."""
    files = size = 0
    for folder, _, names in os.walk(path):
        for name in names:
            try:
                size += os.lstat(os.path.join(folder, name)).st_size
                files += 1
            except OSError:
                pass
    return files, size


def settings(keep: int) -> dict[tuple[str, str], object]:
    count = keep or NO_LIMIT
    return {("retention", "worker_log_jobs"): count, ("retention", "history_jobs"): count,
            ("retention", "every_s"): 1.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=30)
    parser.add_argument("--maps", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep", type=int, default=5,
                        help="[retention] worker_log_jobs and history_jobs (0: no limit)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="zmr-retention-") as scratch:
        job, data = os.path.join(scratch, "job.py"), os.path.join(scratch, "in.txt")
        with open(job, "w") as f:
            f.write(JOB)
        with open(data, "w") as f:
            f.write("".join(f"{i % 10}\n" for i in range(args.maps)))
        base = os.path.join(scratch, "cluster")
        with LocalCluster(workers=args.workers, base_dir=base, settings=settings(args.keep),
                          log_level="warning") as cluster, Client(cluster.config_path) as c:
            print(f"{args.jobs} jobs of {args.maps} maps + 1 reduce, {args.workers} workers, "
                  f"retention: keep {args.keep or 'everything'}")
            print("| job | s | workers' files | workers' MB | coordinator files | "
                  "coordinator MB | history |")
            print("|---:|---:|---:|---:|---:|---:|---:|")
            for n in range(1, args.jobs + 1):
                started = time.perf_counter()
                handle = c.submit(job, [data], os.path.join(scratch, f"out{n}"), split_size=2)
                assert handle.wait(timeout_s=600)["state"] == "SUCCEEDED"
                elapsed = time.perf_counter() - started
                time.sleep(1.5)          # one retention pass ([retention] every_s = 1)
                wf, wb = disk_use(os.path.join(base, "workers"))
                cf, cb = disk_use(os.path.join(base, "coordinator"))
                print(f"| {n} | {elapsed:.1f} | {wf:,} | {wb / 1e6:.2f} | {cf} | "
                      f"{cb / 1e6:.2f} | {len(c.history())} |", flush=True)


if __name__ == "__main__":
    main()
