"""zmr against its peers, word count (regex and str.split tokenisers) and bigram count, in
one run, with issue 13's targets (and issue 6's for the vectorised path).

    python3 bench/run_all.py [--size 256MB] [--reps 3] [--bigram-reps 1] [--skip-bigram]

Same corpus for everyone (bench/gen_corpus.py, cached in bench/data/), every mode's answer
checked against the plain Counter's, wall time median of ``--reps``, MB/s, peak RSS of the
largest process, then each target as a ratio with PASS or MISS. Takes about 4 minutes per
repetition of word count and 8 per repetition of bigram count at 256 MB on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys

BENCH = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, BENCH)

from bench_wordcount import MODES, corpus, report, run_all  # noqa: E402
from gen_corpus import parse_size  # noqa: E402

WORDCOUNT_MODES = ["py_counter", "inline", "vectorized", "cluster2", "cluster2_vectorized",
                   "mp_counter", "dask_bag", "dask_distributed", "spark_rdd", "spark_df",
                   "duckdb", "polars"]
#: word count with ``line.split()`` in zmr's job and in the Python peers alike
SPLIT_MODES = ["py_counter", "inline", "cluster2", "mp_counter", "dask_bag", "spark_rdd"]
BIGRAM_MODES = ["py_counter", "inline", "cluster2", "mp_counter", "dask_bag", "spark_rdd",
                "spark_df", "duckdb"]
#: (task, zmr mode, peer mode, required speed-up of zmr over the peer)
TARGETS = [
    ("wordcount", "cluster2", "dask_bag", 2.0),
    ("wordcount", "cluster2", "spark_rdd", 4.0),
    ("wordcount", "cluster2", "mp_counter", 0.8),
    ("wordcount:split", "cluster2", "mp_counter", 0.8),
    ("wordcount", "cluster2_vectorized", "spark_df", 6.0),
    ("wordcount", "cluster2_vectorized", "duckdb", 0.6),
    ("bigram", "cluster2", "spark_rdd", 2.5),
    ("bigram", "cluster2", "dask_bag", 5.0),
]


def targets(results: dict[str, dict[str, list[dict]]]) -> None:
    print("\n| target | zmr s | peer s | zmr speed-up | needed | |")
    print("|---|---:|---:|---:|---:|---|")
    for task, mine, peer, needed in TARGETS:
        if mine not in results.get(task, {}) or peer not in results.get(task, {}):
            continue
        ours = statistics.median(r["wall_s"] for r in results[task][mine])
        theirs = statistics.median(r["wall_s"] for r in results[task][peer])
        ratio = theirs / ours
        verdict = "PASS" if ratio >= needed else f"MISS (needs {needed * ours / theirs:.1f}x" \
            " faster)"
        print(f"| {task}: {MODES[mine][0]} vs {MODES[peer][0]} | {ours:.2f} | {theirs:.2f} "
              f"| {ratio:.2f}x | >= {needed}x | {verdict} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=parse_size, default="256MB")
    parser.add_argument("--reps", type=int, default=3, help="word count runs per mode")
    parser.add_argument("--bigram-reps", type=int, default=1, help="bigram runs per mode")
    parser.add_argument("--skip-bigram", action="store_true")
    parser.add_argument("--modes", default="", help="only these modes (comma-separated)")
    args = parser.parse_args()
    only = set(args.modes.split(",")) | {"py_counter"} if args.modes else None
    files = corpus(args.size)
    megabytes = sum(os.path.getsize(f) for f in files) / (1 << 20)
    results: dict[str, dict[str, list[dict]]] = {}
    plan = [("wordcount", WORDCOUNT_MODES, args.reps),
            ("wordcount:split", SPLIT_MODES, args.reps)]
    if not args.skip_bigram:
        plan.append(("bigram", BIGRAM_MODES, args.bigram_reps))
    for task, modes, reps in plan:
        modes = [m for m in modes if only is None or m in only]
        results[task] = run_all(modes, files, reps, task=task)
        report(results[task], megabytes, reps, task=task)
    targets(results)


if __name__ == "__main__":
    main()
