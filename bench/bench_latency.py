"""Small-job latency: a 1 KB word count submitted to a running 2-worker cluster (end to
end, submit to ``_SUCCESS``), and ``zmr run`` of it, process start to exit, with an
embedded 2-worker cluster and with ``--inline``, the two run alternately so both see the
same machine. Targets: under 0.3 s submitted (issue 6), ``zmr run`` at most 0.8 s
(issue 30); the ratio to ``--inline`` is what start-up costs beyond running the job.

    python3 bench/bench_latency.py [--reps 10] [--no-submitted]

Timings are of the interpreter zmr is imported from (``PYTHONPATH`` picks the checkout);
zmr's bytecode is compiled first, as an installed package has it.
"""

from __future__ import annotations

import argparse
import compileall
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import zmr  # noqa: E402

JOB = os.path.join(ROOT, "jobs", "wordcount.py")
TEXT = "the quick brown fox jumps over the lazy dog\n" * 23       # ~1 KB
RUN_TARGET_S = 0.8
SUBMITTED_TARGET_S = 0.3


def submitted(data: str, scratch: str, reps: int) -> list[float]:
    from zmr.runners.local import LocalCluster

    times = []
    with LocalCluster(workers=2, base_dir=os.path.join(scratch, "cluster")) as cluster:
        for rep in range(reps + 2):                  # 2 to warm: job code cached once
            out = tempfile.mkdtemp(dir=scratch) + "/out"
            started = time.perf_counter()
            cluster.client.submit(JOB, [data], out).wait(poll_s=0.005)
            if rep >= 2:
                times.append(time.perf_counter() - started)
            assert os.path.exists(os.path.join(out, "_SUCCESS"))
    return times


def zmr_run(data: str, out: str, extra: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "zmr", "run", JOB, "--input", data, "--output",
                    out, "--quiet", *extra], check=True, cwd=ROOT)
    elapsed = time.perf_counter() - started
    assert os.path.exists(os.path.join(out, "_SUCCESS"))
    return elapsed


def alternated(data: str, scratch: str, reps: int) -> tuple[list[float], list[float]]:
    """``zmr run`` (embedded, 2 workers) and ``zmr run --inline``, one after the other."""
    embedded, inline = [], []
    for i in range(reps):
        embedded.append(zmr_run(data, os.path.join(scratch, f"run-{i}"), ["--workers", "2"]))
        inline.append(zmr_run(data, os.path.join(scratch, f"inline-{i}"), ["--inline"]))
    return embedded, inline


def row(label: str, times: list[float], target: str) -> str:
    return (f"| {label} | {statistics.median(times):.3f} s | {min(times):.3f} s | "
            f"{max(times):.3f} s | {target} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=10)
    parser.add_argument("--no-submitted", action="store_true",
                        help="only the zmr run pair (no running cluster)")
    args = parser.parse_args()
    compileall.compile_dir(os.path.dirname(zmr.__file__), quiet=1)
    scratch = tempfile.mkdtemp(prefix="zmr-latency-")
    try:
        data = os.path.join(scratch, "tiny.txt")
        with open(data, "w") as f:
            f.write(TEXT)
        running = [] if args.no_submitted else submitted(data, scratch, args.reps)
        embedded, inline = alternated(data, scratch, args.reps)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"1 KB job ({len(TEXT)} bytes), {args.reps} runs each, zmr from "
          f"{os.path.dirname(os.path.dirname(zmr.__file__))}")
    print("| small job | median | min | max | target |\n|---|---:|---:|---:|---|")
    if running:
        median = statistics.median(running)
        print(row("submitted to a running 2-worker cluster", running,
                  f"< {SUBMITTED_TARGET_S} s: {'PASS' if median < SUBMITTED_TARGET_S else 'MISS'}"))
    median = statistics.median(embedded)
    print(row("`zmr run`, embedded 2-worker cluster", embedded,
              f"<= {RUN_TARGET_S} s: {'PASS' if median <= RUN_TARGET_S else 'MISS'}"))
    print(row("`zmr run --inline`", inline, "(reference)"))
    print(f"zmr run / --inline: {median / statistics.median(inline):.2f}x (medians), "
          f"{min(embedded) / min(inline):.2f}x (mins)")


if __name__ == "__main__":
    main()
