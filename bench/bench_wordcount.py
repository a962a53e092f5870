"""Word count benchmark: zmr and its peers on the same corpus, in the same run.

    python bench/bench_wordcount.py [--size 256MB] [--reps 3] [--modes inline,vectorized]
                                    [--tokeniser regex|split]

Generates (or reuses, cached under bench/data/) a deterministic corpus, runs the plain
``collections.Counter`` baseline and every requested mode ``--reps`` times, interleaved so
that any drift of the machine hits all of them alike, checks that every run found exactly
the baseline's word counts, and prints a table: wall time (median), MB/s, peak RSS of the
largest process, and speed relative to the baseline (baseline wall / mode wall, so 2.0
means twice as fast) and, when it ran, to the hand-written ``mp_counter``. Modes are listed
in ``MODES``; a new one is one entry there. ``--tokeniser split`` makes zmr and the Python
peers tokenise with ``line.split()`` instead of the regex (see peers/common.py).
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
sys.path.insert(0, BENCH)    # run as a script from anywhere

from gen_corpus import parse_size, write_corpus  # noqa: E402

PY = sys.executable
BASELINE = "py_counter"
CORPUS_VERSION = "v2"        # bump when gen_corpus.py changes its output, to drop old caches
MP_PEER = "mp_counter"
# (files, output, zmr flags, task) -> argv; task is "wordcount" or "bigram", with
# ":split" appended for the str.split tokeniser
Command = Callable[[list[str], str, list[str], str], list[str]]
#: The zmr job of each task (record path, and vectorised where there is one).
JOBS = {"wordcount": "wordcount.py", "bigram": "bigram.py",
        "wordcount:split": "wordcount_split.py"}
VECTORISED_JOBS = {"wordcount": "wordcount_vectorized.py"}
TOKENISERS = ("regex", "split")
#: Modes that can tokenise with str.split (the others tokenise in their own kernels).
SPLIT_MODES = ("py_counter", "inline", "cluster2", "cluster2_lz4", "cluster2_zstd",
               "mp_counter", "dask_bag", "dask_distributed", "spark_rdd")


def _zmr(*flags: str, vectorised: bool = False) -> Command:
    """``python -m zmr run`` of the task's job in jobs/, with extra flags."""
    def command(files: list[str], out: str, zmr_flags: list[str], task: str) -> list[str]:
        job = (VECTORISED_JOBS if vectorised else JOBS)[task]
        return [PY, "-m", "zmr", "run", os.path.join(ROOT, "jobs", job), "--quiet", *flags,
                *zmr_flags, "--output", out, "--input", *files]
    return command


def _peer(script: str) -> Command:
    """A peer in bench/peers/, called as
    ``script [--bigram] [--tokeniser split] OUTPUT_FILE INPUT_FILE...``."""
    def command(files: list[str], out: str, zmr_flags: list[str], task: str) -> list[str]:
        name, _, tokeniser = task.partition(":")
        flag = ["--bigram"] if name == "bigram" else []
        flag += ["--tokeniser", tokeniser] if tokeniser else []
        return [PY, os.path.join(BENCH, "peers", script), *flag, out, *files]
    return command


# name -> (label in the table, command, tasks it can run). Peers need their own packages
# (pyspark + Java, dask[distributed], duckdb, polars): see bench/README.md.
BOTH = ("wordcount", "bigram")
MODES: dict[str, tuple[str, Command, tuple[str, ...]]] = {
    "py_counter": ("plain Counter, 1 process", _peer("py_counter.py"), BOTH),
    "inline": ("zmr --inline (record path + combiner)", _zmr("--inline"), BOTH),
    "vectorized": ("zmr --inline, vectorised", _zmr("--inline", vectorised=True),
                   ("wordcount",)),
    "cluster2": ("zmr 2 workers (record path + combiner)", _zmr("--workers", "2"), BOTH),
    "cluster2_vectorized": ("zmr 2 workers, vectorised (map_batch + REDUCE)",
                            _zmr("--workers", "2", vectorised=True), ("wordcount",)),
    "cluster2_lz4": ("zmr 2 workers, LZ4 intermediates",
                     _zmr("--workers", "2", "--compression", "lz4"), BOTH),
    "cluster2_zstd": ("zmr 2 workers, ZSTD intermediates",
                      _zmr("--workers", "2", "--compression", "zstd"), BOTH),
    "mp_counter": ("hand-written multiprocessing, 2 processes", _peer("mp_counter.py"), BOTH),
    "dask_bag": ("Dask bag, 2 processes", _peer("dask_bag.py"), BOTH),
    "dask_distributed": ("Dask distributed, 2 workers", _peer("dask_distributed.py"), BOTH),
    "spark_rdd": ("PySpark RDD local[2]", _peer("spark_rdd.py"), BOTH),
    "spark_df": ("PySpark DataFrame local[2]", _peer("spark_df.py"), BOTH),
    "duckdb": ("DuckDB, 2 threads", _peer("duckdb_count.py"), BOTH),
    "polars": ("polars", _peer("polars_count.py"), ("wordcount",)),
}


def corpus(size: int, seed: int = 42) -> list[str]:
    """The corpus files of ``size`` bytes, generated once and cached under bench/data/."""
    label = f"{size >> 20}MB" if size % (1 << 20) == 0 else f"{size}B"
    directory = os.path.join(BENCH, "data", f"corpus-{CORPUS_VERSION}-s{seed}-{label}")
    stamp = os.path.join(directory, "_COMPLETE")     # '_' files are not job input
    if not os.path.exists(stamp):
        shutil.rmtree(directory, ignore_errors=True)
        write_corpus(size, directory, seed)
        open(stamp, "w").close()
    return sorted(glob.glob(os.path.join(directory, "part-*.txt")))


def measure(mode: str, files: list[str], scratch: str, zmr_flags: list[str],
            task: str = "wordcount") -> tuple[dict, dict[str, int]]:
    """One run of ``mode`` in a fresh measuring process: its figures and its counts."""
    out = os.path.join(scratch, mode)
    shutil.rmtree(out, ignore_errors=True)
    command = MODES[mode][1](files, out, zmr_flags, task)
    probe = subprocess.run([PY, os.path.join(BENCH, "measure.py"), *command],
                           capture_output=True, text=True, check=True)
    figures = json.loads(probe.stdout)
    if figures["returncode"] != 0:
        raise SystemExit(f"{mode} failed ({' '.join(command)}):\n{figures['stderr']}")
    return figures, read_counts(out)


def read_counts(out: str) -> dict[str, int]:
    """``word<TAB>count`` lines of a zmr output directory (part-*) or of a peer's file."""
    paths = sorted(glob.glob(os.path.join(out, "part-*"))) if os.path.isdir(out) else [out]
    counts: dict[str, int] = {}
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for line in f:
                word, count = line.rstrip("\n").split("\t")
                counts[word] = int(count)
    return counts


def check_same(mode: str, counts: dict[str, int], reference: dict[str, int]) -> None:
    """Stop the benchmark if a mode's answer differs from the baseline's, saying how."""
    if counts == reference:
        return
    missing = sorted(reference.keys() - counts.keys())[:5]
    extra = sorted(counts.keys() - reference.keys())[:5]
    wrong = [w for w in sorted(reference.keys() & counts.keys()) if counts[w] != reference[w]]
    raise SystemExit(f"{mode} disagrees with {BASELINE}: total {sum(counts.values())} vs "
                     f"{sum(reference.values())}; missing {missing}, extra {extra}, "
                     f"different counts {[(w, counts[w], reference[w]) for w in wrong[:5]]}")


def run_all(modes: list[str], files: list[str], reps: int,
            zmr_flags: list[str] = (), task: str = "wordcount") -> dict[str, list[dict]]:
    """Every mode ``reps`` times, interleaved; answers checked against the baseline's."""
    name, _, tokeniser = task.partition(":")
    modes = [m for m in modes if name in MODES[m][2] and (not tokeniser or m in SPLIT_MODES)]
    runs: dict[str, list[dict]] = {m: [] for m in modes}
    reference: dict[str, int] | None = None
    with tempfile.TemporaryDirectory(prefix="zmr-bench-") as scratch:
        for _ in range(reps):
            for mode in modes:
                figures, counts = measure(mode, files, scratch, list(zmr_flags), task)
                reference = counts if reference is None else reference
                check_same(mode, counts, reference)
                runs[mode].append(figures)
                print(f"  {task} {mode}: {figures['wall_s']:.2f} s", file=sys.stderr)
    print(f"{task}: all runs agree: {sum(reference.values()):,} keys counted, "
          f"{len(reference):,} distinct")
    return runs


def report(runs: dict[str, list[dict]], megabytes: float, reps: int,
           zmr_flags: list[str] = (), task: str = "wordcount") -> None:
    """The results as a markdown table (ready to paste into a README)."""
    base = statistics.median(r["wall_s"] for r in runs[BASELINE])
    flags = f", zmr {' '.join(zmr_flags)}" if zmr_flags else ""
    print(f"\n{task}, {megabytes:.0f} MB corpus, median of {reps}{flags}\n")
    mp = statistics.median(r["wall_s"] for r in runs[MP_PEER]) if MP_PEER in runs else None
    extra = f" speed vs {MP_PEER} |" if mp else ""
    print(f"| tool | wall s | MB/s | peak RSS MB | speed vs {BASELINE} |{extra}")
    print("|---|---:|---:|---:|---:|" + ("---:|" if mp else ""))
    for mode, results in runs.items():
        wall = statistics.median(r["wall_s"] for r in results)
        rss = max(r["peak_rss_mb"] for r in results)
        ratio = f" {mp / wall:.2f} |" if mp else ""
        print(f"| {MODES[mode][0]} | {wall:.2f} | {megabytes / wall:.1f} | {rss:.0f} "
              f"| {base / wall:.2f} |{ratio}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=parse_size, default="256MB", help="corpus size")
    parser.add_argument("--reps", type=int, default=3, help="runs per mode (median)")
    parser.add_argument("--modes", default="inline,vectorized",
                        help=f"comma-separated, from: {', '.join(MODES)}")
    parser.add_argument("--seed", type=int, default=42, help="corpus seed")
    parser.add_argument("--split-size", help="zmr modes: input split size (default: zmr's)")
    parser.add_argument("--reducers", help="zmr modes: reduce tasks (default: zmr's)")
    parser.add_argument("--task", choices=("wordcount", "bigram"), default="wordcount")
    parser.add_argument("--tokeniser", choices=TOKENISERS, default="regex",
                        help="split: line.split() in zmr and the Python peers (word count)")
    args = parser.parse_args()
    task = args.task if args.tokeniser == "regex" else f"{args.task}:{args.tokeniser}"
    if task not in JOBS:
        parser.error(f"no zmr job for {args.task} with the {args.tokeniser} tokeniser")
    modes = [BASELINE, *(m for m in args.modes.split(",") if m and m != BASELINE)]
    unknown = [m for m in modes if m not in MODES]
    if unknown:
        parser.error(f"unknown mode(s) {unknown}; known: {', '.join(MODES)}")
    files = corpus(args.size, args.seed)
    megabytes = sum(os.path.getsize(f) for f in files) / (1 << 20)
    zmr_flags = [*(["--split-size", args.split_size] if args.split_size else []),
                 *(["--reducers", args.reducers] if args.reducers else [])]
    runs = run_all(modes, files, args.reps, zmr_flags, task)
    report(runs, megabytes, args.reps, zmr_flags, task)


if __name__ == "__main__":
    main()
