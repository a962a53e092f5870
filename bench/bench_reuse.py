"""``--reuse`` benchmark: a word count run first, then rerun with only its reducer changed,
and over the same input plus one new 8 MB file (issue 28's targets: each <= 0.2x the first
run's time).

    python bench/bench_reuse.py [--size 256MB] [--new 8MB] [--reps 3] [--workers 2]

Every rep starts from an empty cache of kept outputs (its own ``ZMR_WORKER_REUSE_DIR``)
and runs, each in a fresh measuring process (``measure.py``) on an embedded cluster:
``plain`` (no ``--reuse``: what keeping outputs costs), ``first`` (``--reuse``, nothing
kept yet), then ``reducer`` and ``new file`` in alternating order. Each answer is checked:
``reducer`` (whose reducer computes the same sums another way) must equal ``first``, and
``new file`` must be ``first`` plus the new file's own counts (``collections.Counter``).
Prints the medians and the ratios to ``first``.
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import shutil
import statistics
import sys
import tempfile

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
sys.path.insert(0, BENCH)    # run as a script from anywhere

from alternate import read_lines  # noqa: E402
from bench_wordcount import corpus  # noqa: E402
from gen_corpus import parse_size, write_corpus  # noqa: E402

PY = sys.executable
TARGET = 0.2
WORD = re.compile(r"[a-z0-9']+")      # jobs/wordcount.py's tokeniser
#: The reducer of the changed job: the same sums, computed another way.
CHANGED_REDUCER = ("def reducer(word, counts):\n"
                   "    # changed: counts summed one by one\n"
                   "    total = 0\n"
                   "    for count in counts:\n"
                   "        total += count\n"
                   "    yield word, total\n")


def write_jobs(scratch: str) -> tuple[str, str]:
    """jobs/wordcount.py, and a copy whose reducer alone differs."""
    with open(os.path.join(ROOT, "jobs", "wordcount.py"), encoding="utf-8") as f:
        source = f.read()
    start = source.index("def reducer(")
    changed = source[:start] + CHANGED_REDUCER
    paths = (os.path.join(scratch, "wordcount.py"), os.path.join(scratch, "wordcount2.py"))
    for path, text in zip(paths, (source, changed)):
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    return paths


def new_file(size: int) -> str:
    """One new file of ``size`` bytes (another seed than the corpus), cached."""
    directory = os.path.join(BENCH, "data", f"reuse-new-{size >> 20}MB")
    if not os.path.exists(os.path.join(directory, "_COMPLETE")):
        shutil.rmtree(directory, ignore_errors=True)
        write_corpus(size, directory, seed=7)
        open(os.path.join(directory, "_COMPLETE"), "w").close()
    target = os.path.join(directory, "new-part.txt")
    if not os.path.exists(target):
        os.rename(os.path.join(directory, "part-000.txt"), target)
    return target


def counts_of(path: str) -> collections.Counter:
    with open(path, encoding="utf-8") as f:
        return collections.Counter(w for line in f for w in WORD.findall(line.lower()))


def zmr(job: str, inputs: list[str], workers: int, reuse: bool = True):
    flags = ["--reuse"] if reuse else []
    return lambda out: [PY, "-m", "zmr", "run", job, "--quiet", "--workers", str(workers),
                        *flags, "--output", out, "--input", *inputs]


def measure_mode(name: str, command, scratch: str) -> tuple[dict, dict]:
    import alternate
    return alternate.measure(name, command, scratch, read_lines)


def one_rep(rep: int, modes: dict, scratch: str, extra: collections.Counter,
            results: dict[str, list[dict]]) -> None:
    os.environ["ZMR_WORKER_REUSE_DIR"] = os.path.join(scratch, f"cache-{rep}")
    later = ["reducer", "new file"] if rep % 2 == 0 else ["new file", "reducer"]
    answers = {}
    for name in ["plain", "first", *later]:
        figures, answers[name] = measure_mode(name, modes[name], scratch)
        results[name].append(figures)
        print(f"  rep {rep + 1} {name}: {figures['wall_s']:.2f} s", file=sys.stderr)
    check(answers, extra)
    shutil.rmtree(os.environ["ZMR_WORKER_REUSE_DIR"], ignore_errors=True)


def check(answers: dict[str, dict], extra: collections.Counter) -> None:
    if answers["first"] != answers["plain"] or answers["reducer"] != answers["first"]:
        raise SystemExit("a rerun's answer differs from the first run's")
    expected = collections.Counter(answers["first"]) + extra
    if answers["new file"] != dict(expected):
        raise SystemExit("the run with the new file did not count first + the new file")


def report(results: dict[str, list[dict]], size: int, new: int) -> None:
    medians = {name: statistics.median(r["wall_s"] for r in runs)
               for name, runs in results.items()}
    print(f"\nword count, {size >> 20} MB + a new {new >> 20} MB file, median of "
          f"{len(results['first'])}\n")
    print("| run | wall s (median) | / first | runs |")
    print("|---|---:|---:|---|")
    for name, runs in results.items():
        walls = ", ".join(f"{r['wall_s']:.2f}" for r in runs)
        print(f"| {name} | {medians[name]:.2f} | {medians[name] / medians['first']:.2f}x "
              f"| {walls} |")
    for name in ("reducer", "new file"):
        ratio = medians[name] / medians["first"]
        print(f"{name}: {ratio:.2f}x the first run (target <= {TARGET}x: "
              f"{'PASS' if ratio <= TARGET else 'MISS'})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="256MB", help="corpus size (default 256MB)")
    parser.add_argument("--new", default="8MB", help="the new file's size (default 8MB)")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    size, new = parse_size(args.size), parse_size(args.new)
    files, added = corpus(size), new_file(new)
    extra = counts_of(added)
    scratch = tempfile.mkdtemp(prefix="zmr-bench-reuse-")
    try:
        job, changed = write_jobs(scratch)
        modes = {"plain": zmr(job, files, args.workers, reuse=False),
                 "first": zmr(job, files, args.workers),
                 "reducer": zmr(changed, files, args.workers),
                 "new file": zmr(job, [*files, added], args.workers)}
        results: dict[str, list[dict]] = {name: [] for name in modes}
        for rep in range(args.reps):
            one_rep(rep, modes, scratch, extra, results)
        report(results, size, new)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
