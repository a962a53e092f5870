"""Small-job latency: a 1 KB word count submitted to a running 2-worker cluster (end to end,
submit to ``_SUCCESS``), and ``zmr run`` of it with an embedded cluster (process start to
exit). Issue 6's targets: under 0.3 s and under 1.5 s.

    python3 bench/bench_latency.py [--reps 10]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from zmr.runners.local import LocalCluster  # noqa: E402

JOB = os.path.join(ROOT, "jobs", "wordcount.py")
TEXT = "the quick brown fox jumps over the lazy dog\n" * 23       # ~1 KB


def submitted(cluster: LocalCluster, data: str, scratch: str, reps: int) -> list[float]:
    times = []
    for _ in range(reps):
        out = tempfile.mkdtemp(dir=scratch) + "/out"
        started = time.perf_counter()
        cluster.client.submit(JOB, [data], out).wait(poll_s=0.005)
        times.append(time.perf_counter() - started)
        assert os.path.exists(os.path.join(out, "_SUCCESS"))
    return times


def embedded(data: str, scratch: str, reps: int) -> list[float]:
    times = []
    for i in range(reps):
        out = os.path.join(scratch, f"run-{i}")
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "zmr", "run", JOB, "--input", data, "--output",
                        out, "--workers", "2", "--quiet"], check=True, cwd=ROOT)
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=10)
    args = parser.parse_args()
    scratch = tempfile.mkdtemp(prefix="zmr-latency-")
    try:
        data = os.path.join(scratch, "tiny.txt")
        with open(data, "w") as f:
            f.write(TEXT)
        with LocalCluster(workers=2, base_dir=os.path.join(scratch, "cluster")) as cluster:
            submitted(cluster, data, scratch, 2)                 # warm: job code cached once
            running = submitted(cluster, data, scratch, args.reps)
        runs = embedded(data, scratch, args.reps)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"1 KB job ({len(TEXT)} bytes), {args.reps} runs each")
    for label, times, target in (("submitted to a running 2-worker cluster", running, 0.3),
                                 ("zmr run, embedded 2-worker cluster", runs, 1.5)):
        median = statistics.median(times)
        verdict = "PASS" if median < target else "MISS"
        print(f"| {label} | median {median:.3f} s | min {min(times):.3f} s | max "
              f"{max(times):.3f} s | target < {target} s | {verdict} |")


if __name__ == "__main__":
    main()
