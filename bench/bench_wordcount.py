"""Word count benchmark: zmr and its peers on the same corpus, in the same run.

    python bench/bench_wordcount.py [--size 256MB] [--reps 3]
        [--modes inline,vectorized,cluster2,cluster2_vectorized,spark_rdd,dask_bag]

Generates (or reuses) a deterministic corpus under bench/data/, runs every mode and peer
``--reps`` times, checks that all of them found the same word counts, and prints wall time
(median), MB/s, peak RSS of the largest process, and each mode's ratio to the plain-Python
Counter baseline (higher is better for zmr).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
sys.path[:0] = [ROOT, BENCH]    # run as a script from anywhere

from gen_corpus import write_corpus  # noqa: E402

from tests.helpers import read_output  # noqa: E402
from zmr.storage.splits import parse_size  # noqa: E402
PY = sys.executable


PEERS = ("py_counter", "spark_rdd", "dask_bag")


def corpus(size: int) -> list[str]:
    directory = os.path.join(BENCH, "data", f"corpus-{size >> 20}MB")
    stamp = os.path.join(directory, "_COMPLETE")
    if not os.path.exists(stamp):
        shutil.rmtree(directory, ignore_errors=True)
        write_corpus(size, directory)
        open(stamp, "w").close()
    return sorted(os.path.join(directory, f) for f in os.listdir(directory)
                  if f.endswith(".txt"))


def commands(mode: str, files: list[str], out: str) -> list[str]:
    """The command line of one benchmarked mode or peer."""
    zmr_run = [PY, "-m", "zmr", "run", "--quiet", "--output", out, "--input", *files]
    table = {
        "py_counter": [PY, os.path.join(BENCH, "peers", "py_counter.py"), out, *files],
        "inline": [*zmr_run, "--inline", os.path.join(ROOT, "jobs", "wordcount.py")],
        "vectorized": [*zmr_run, "--inline",
                       os.path.join(ROOT, "jobs", "wordcount_vectorized.py")],
        "cluster2": [*zmr_run, "--workers", "2", os.path.join(ROOT, "jobs", "wordcount.py")],
        "cluster2_vectorized": [*zmr_run, "--workers", "2",
                                os.path.join(ROOT, "jobs", "wordcount_vectorized.py")],
        "spark_rdd": [PY, os.path.join(BENCH, "peers", "spark_rdd.py"), out, *files],
        "dask_bag": [PY, os.path.join(BENCH, "peers", "dask_bag.py"), out, *files],
    }
    return table[mode]


def measure(mode: str, files: list[str], scratch: str) -> tuple[dict, dict]:
    out = os.path.join(scratch, mode)
    shutil.rmtree(out, ignore_errors=True)
    cmd = commands(mode, files, out)
    result = json.loads(subprocess.run([PY, os.path.join(BENCH, "measure.py"), *cmd],
                                       capture_output=True, text=True, check=True).stdout)
    if result["returncode"] != 0:
        raise SystemExit(f"{mode} failed:\n{result['stderr']}")
    counts = read_output(out) if os.path.isdir(out) else dict(
        (w, int(n)) for w, n in (ln.rstrip("\n").split("\t") for ln in open(out)))
    return result, counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="256MB")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--modes", default="inline,vectorized")
    args = parser.parse_args()
    files = corpus(parse_size(args.size, "--size"))
    megabytes = sum(os.path.getsize(f) for f in files) / (1 << 20)
    modes = ["py_counter", *args.modes.split(",")]
    runs: dict[str, list[dict]] = {m: [] for m in modes}
    reference = None
    with tempfile.TemporaryDirectory(prefix="zmr-bench-") as scratch:
        for _ in range(args.reps):
            for mode in modes:
                result, counts = measure(mode, files, scratch)
                reference = reference or counts
                if counts != reference:
                    raise SystemExit(f"{mode} disagrees with py_counter on the word counts")
                runs[mode].append(result)
    report(runs, megabytes, args.reps)


def report(runs: dict[str, list[dict]], megabytes: float, reps: int) -> None:
    base = statistics.median(r["wall_s"] for r in runs["py_counter"])
    print(f"word count, {megabytes:.0f} MB corpus, median of {reps}")
    print(f"| {'tool':<24} | {'wall s':>7} | {'MB/s':>6} | {'peak RSS MB':>11} "
          f"| {'x py_counter':>12} |")
    print(f"|{'-' * 26}|{'-' * 9}|{'-' * 8}|{'-' * 13}|{'-' * 14}|")
    for mode, results in runs.items():
        wall = statistics.median(r["wall_s"] for r in results)
        rss = max(r["peak_rss_mb"] for r in results)
        name = mode if mode in PEERS else f"zmr {mode}"
        print(f"| {name:<24} | {wall:7.2f} | {megabytes / wall:6.1f} | {rss:11.0f} "
              f"| {base / wall:12.2f} |")


if __name__ == "__main__":
    main()
