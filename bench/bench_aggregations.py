"""Built-in aggregations against the Python combiner and reducer they replace (issue 29).

    python bench/bench_aggregations.py [--size 20MB] [--rounds 3] [--modes inline,workers2]
                                       [--workloads wordcount,bigram]

For each workload (``jobs/wordcount.py``, ``jobs/bigram.py``) three variants of the same job
run on one corpus (bench/gen_corpus.py, cached under bench/data/): as written (Python
combiner and reducer), with ``REDUCE = "sum"`` in place of both, and with
``COMBINER = "sum"`` for its Python reducer. The variants are alternated round after round,
so a drift of the machine hits all alike; every output is compared with the Python one
(sha256 of the part files) and a run that differs stops the bench. Prints the best wall
time of each, and for ``--inline`` runs also the CPU time (user + system), steadier on a
shared machine.
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
sys.path.insert(0, BENCH)    # run as a script from anywhere

from gen_corpus import parse_size, write_corpus  # noqa: E402

MODES = {"inline": ["--inline"], "workers2": ["--workers", "2"]}
VARIANTS = ("python", "REDUCE", "COMBINER")


def variants(workload: str, where: str) -> dict[str, str]:
    """The job as written, and the two built-in variants written next to it in ``where``."""
    source_path = os.path.join(ROOT, "jobs", f"{workload}.py")
    with open(source_path, encoding="utf-8") as f:
        source = f.read()
    jobs = {"python": source_path,
            "REDUCE": os.path.join(where, f"{workload}_reduce.py"),
            "COMBINER": os.path.join(where, f"{workload}_combiner.py")}
    with open(jobs["REDUCE"], "w", encoding="utf-8") as f:
        f.write(source[:source.index("def combiner")] + '\nREDUCE = "sum"\n')
    with open(jobs["COMBINER"], "w", encoding="utf-8") as f:
        f.write(source.replace("def combiner(", "def _python_combiner(") +
                '\nCOMBINER = "sum"\n')
    return jobs


def digest(output: str) -> str:
    sha = hashlib.sha256()
    for part in sorted(glob.glob(os.path.join(output, "part-*"))):
        with open(part, "rb") as f:
            sha.update(f.read())
    return sha.hexdigest()


def timed_run(job: str, corpus: str, output: str, flags: list[str]) -> tuple[float, float]:
    """(wall s, CPU s of the finished child processes) of one ``zmr run``."""
    shutil.rmtree(output, ignore_errors=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "zmr", "run", job, "--input", corpus,
                           "--output", output, "--reducers", "2", *flags],
                          capture_output=True, text=True)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode:
        sys.exit(f"{job} failed:\n{proc.stderr}")
    return wall, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=parse_size, default=parse_size("20MB"))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--modes", default="inline,workers2")
    parser.add_argument("--workloads", default="wordcount,bigram")
    args = parser.parse_args()
    corpus = os.path.join(BENCH, "data", f"corpus-{args.size}")
    if not os.path.isdir(corpus):
        write_corpus(args.size, corpus)
    work = tempfile.mkdtemp(prefix="zmr-bench-aggs-")
    best: dict[tuple[str, str, str], tuple[float, float]] = {}
    try:
        for _ in range(args.rounds):
            for workload in args.workloads.split(","):
                jobs = variants(workload, work)
                for mode in args.modes.split(","):
                    expected = None
                    for variant in VARIANTS:
                        output = os.path.join(work, "out")
                        wall, cpu = timed_run(jobs[variant], corpus, output, MODES[mode])
                        expected = expected or digest(output)
                        if digest(output) != expected:
                            sys.exit(f"{workload} {variant} {mode}: output differs")
                        key = (workload, mode, variant)
                        old = best.get(key, (wall, cpu))
                        best[key] = (min(old[0], wall), min(old[1], cpu))
                        print(f"{workload} {mode} {variant}: {wall:.2f} s wall, "
                              f"{cpu:.2f} s CPU", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"\nbest of {args.rounds} | python | REDUCE | COMBINER")
    for workload in args.workloads.split(","):
        for mode in args.modes.split(","):
            row = [best[(workload, mode, v)] for v in VARIANTS]
            cpu = " / ".join(f"{c:.2f}" for _, c in row) if mode == "inline" else ""
            print(f"{workload} {mode}: wall " + " / ".join(f"{w:.2f}" for w, _ in row) +
                  (f"; CPU {cpu}" if cpu else ""))


if __name__ == "__main__":
    main()
