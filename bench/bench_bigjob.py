"""A big job with defaults, as a new user runs it: ``zmr run jobs/wordcount.py`` over a 1 GB
corpus with no flags (embedded cluster, 2 workers, 64 MB splits) against the hand-written
``multiprocessing.Pool(2)`` peer with the same regex tokeniser, alternating, answers checked
equal; and how often zmr's progress line moved (issue 13: at least every 2 s).

    python3 bench/bench_bigjob.py [--size 1GB] [--reps 1]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, BENCH)

from bench_wordcount import PY, ROOT, corpus, read_counts  # noqa: E402
from gen_corpus import parse_size  # noqa: E402

PROGRESS_EVERY_S = 2.0
RATIO_TARGET = 0.8


def run_zmr(files: list[str], out: str) -> tuple[float, float]:
    """Wall time, and the longest wait between two changes of the progress line (read as
    the plain lines ``zmr run`` prints off a terminal)."""
    command = [PY, "-m", "zmr", "run", os.path.join(ROOT, "jobs", "wordcount.py"),
               "--output", out, "--input", *files]
    started = time.perf_counter()
    moves = [started]
    with subprocess.Popen(command, stderr=subprocess.PIPE, text=True) as proc:
        assert proc.stderr is not None
        last = ""
        for line in proc.stderr:
            shown = line.rsplit("  ", 1)[0]          # the line without its elapsed time
            if " RUNNING: " in line and shown != last:
                moves.append(time.perf_counter())
                last = shown
    wall = time.perf_counter() - started
    if proc.returncode:
        raise SystemExit(f"zmr run failed with exit code {proc.returncode}")
    # from the first progress line (the cluster is up) to the end of the map phase
    gaps = [b - a for a, b in zip(moves[1:], moves[2:], strict=False)]
    return wall, max(gaps, default=float("inf"))


def run_peer(files: list[str], out: str) -> float:
    started = time.perf_counter()
    subprocess.run([PY, os.path.join(BENCH, "peers", "mp_counter.py"), out, *files],
                   check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=parse_size, default="1GB")
    parser.add_argument("--reps", type=int, default=1)
    args = parser.parse_args()
    files = corpus(args.size)
    zmr_s, peer_s, gaps = [], [], []
    with tempfile.TemporaryDirectory(prefix="zmr-bench-big-") as scratch:
        for rep in range(args.reps):
            wall, gap = run_zmr(files, os.path.join(scratch, f"zmr-{rep}"))
            zmr_s.append(wall)
            gaps.append(gap)
            peer_s.append(run_peer(files, os.path.join(scratch, f"mp-{rep}.txt")))
            ours = read_counts(os.path.join(scratch, f"zmr-{rep}"))
            theirs = read_counts(os.path.join(scratch, f"mp-{rep}.txt"))
            if ours != theirs:
                raise SystemExit("zmr and the multiprocessing peer disagree")
    ours, theirs = statistics.median(zmr_s), statistics.median(peer_s)
    ratio, gap = theirs / ours, max(gaps)
    print(f"| run ({args.size >> 20} MB, defaults) | wall s |\n|---|---:|")
    print(f"| zmr run jobs/wordcount.py (embedded, 2 workers) | {ours:.2f} |")
    print(f"| multiprocessing.Pool(2), same tokeniser | {theirs:.2f} |")
    print(f"\nzmr speed vs Pool(2): {ratio:.2f}x (target >= {RATIO_TARGET}x: "
          f"{'PASS' if ratio >= RATIO_TARGET else 'MISS'}); longest wait between progress "
          f"moves: {gap:.1f} s (target <= {PROGRESS_EVERY_S} s: "
          f"{'PASS' if gap <= PROGRESS_EVERY_S else 'MISS'})")


if __name__ == "__main__":
    main()
