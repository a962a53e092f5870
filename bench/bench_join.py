"""Reduce-side join: jobs/join.py (Parquet rankings x CSV uservisits, Pavlo et al.'s join
task) on an embedded 2-worker zmr cluster against DuckDB (2 threads) on the same files.

    python3 bench/bench_join.py [--rankings 100000] [--visits 1000000] [--reps 3]
                                [--mode reduce|broadcast|both]

``--mode broadcast`` runs the map-side join jobs/broadcast_join.py instead (the rankings
shipped to every map task as side files, ``RANKINGS=DIR``), ``both`` runs the two zmr
jobs and DuckDB in turn, each answer checked against DuckDB's.

The tables are generated from a fixed seed (bench/gen_join.py) into a scratch directory.
zmr and DuckDB run alternately, each in a fresh measuring process (``measure.py``: wall
time and the peak RSS of the largest process); every answer is checked against DuckDB's
(revenue sums to 1e-9 relative: they are added in another order), and the medians and
the ratio zmr / DuckDB are printed.
"""

from __future__ import annotations

import argparse
import glob
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
sys.path.insert(0, BENCH)    # run as a script from anywhere

from gen_join import generate  # noqa: E402

PY = sys.executable
JOB = os.path.join(ROOT, "jobs", "join.py")
BROADCAST_JOB = os.path.join(ROOT, "jobs", "broadcast_join.py")
MODES = {"zmr": "zmr, 2 workers (embedded), reduce-side join",
         "broadcast": "zmr, 2 workers (embedded), broadcast join",
         "duckdb": "DuckDB, 2 threads"}
#: --mode: the zmr modes it runs (DuckDB always runs)
ZMR_MODES = {"reduce": ("zmr",), "broadcast": ("broadcast",), "both": ("zmr", "broadcast")}


def command(mode: str, out: str, rankings: str, visits: str) -> list[str]:
    if mode == "duckdb":
        return [PY, os.path.join(BENCH, "peers", "duckdb_join.py"), out, rankings, visits]
    if mode == "broadcast":      # the small table's directory, read where the job loads
        return ["env", f"RANKINGS={rankings}", PY, "-m", "zmr", "run", BROADCAST_JOB,
                "--quiet", "--workers", "2", "--input", visits, "--output", out]
    return [PY, "-m", "zmr", "run", JOB, "--quiet", "--workers", "2", "--input",
            f"rankings={rankings}", "--input", f"visits={visits}", "--output", out]


def read_answer(out: str) -> dict[str, list[float]]:
    """``ip<TAB>[revenue, rank]`` lines of a zmr output directory or a peer's file."""
    paths = sorted(glob.glob(os.path.join(out, "part-*"))) if os.path.isdir(out) else [out]
    answer = {}
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for line in f:
                ip, value = line.rstrip("\n").split("\t")
                answer[ip] = json.loads(value)
    return answer


def agree(got: dict[str, list[float]], want: dict[str, list[float]]) -> bool:
    return set(got) == set(want) and all(
        math.isclose(got[k][0], want[k][0], rel_tol=1e-9)
        and math.isclose(got[k][1], want[k][1], rel_tol=1e-12) for k in want)


def measure(mode: str, scratch: str, tables: tuple[str, str]) -> tuple[dict, dict]:
    out = os.path.join(scratch, f"out-{mode}")
    shutil.rmtree(out, ignore_errors=True)
    if os.path.exists(out):
        os.unlink(out)
    probe = subprocess.run([PY, os.path.join(BENCH, "measure.py"),
                            *command(mode, out, *tables)],
                           capture_output=True, text=True, check=True, cwd=ROOT)
    figures = json.loads(probe.stdout)
    if figures["returncode"] != 0:
        raise SystemExit(f"{mode} failed:\n{figures['stderr']}")
    return figures, read_answer(out)


def run(scratch: str, tables: tuple[str, str], reps: int,
        zmr_modes: tuple[str, ...] = ("zmr",)) -> dict[str, list[dict]]:
    modes = (*zmr_modes, "duckdb")
    results: dict[str, list[dict]] = {mode: [] for mode in modes}
    for rep in range(reps):
        answers = {}
        for mode in modes[::-1] if rep % 2 else modes:
            figures, answers[mode] = measure(mode, scratch, tables)
            results[mode].append(figures)
            print(f"  rep {rep + 1} {mode}: {figures['wall_s']:.2f} s, "
                  f"{figures['peak_rss_mb']:.0f} MB", file=sys.stderr)
        for mode in zmr_modes:
            if not agree(answers[mode], answers["duckdb"]):
                raise SystemExit(f"{MODES[mode]}: the answer differs from DuckDB's")
    print(f"all runs agree with DuckDB: {len(answers['duckdb']):,} source IPs")
    return results


def report(results: dict[str, list[dict]], sizes: tuple[int, int], args) -> None:
    print(f"\n{args.rankings:,} rankings ({sizes[0] / 1e6:.1f} MB Parquet), {args.visits:,} "
          f"visits ({sizes[1] / 1e6:.1f} MB CSV), median of {args.reps}\n")
    print("| system | wall s (median) | peak RSS MB | runs |")
    print("|---|---:|---:|---|")
    medians = {}
    for mode, runs in results.items():
        medians[mode] = statistics.median(r["wall_s"] for r in runs)
        rss = statistics.median(r["peak_rss_mb"] for r in runs)
        walls = ", ".join(f"{r['wall_s']:.2f}" for r in runs)
        print(f"| {MODES[mode]} | {medians[mode]:.2f} | {rss:.0f} | {walls} |")
    for mode in results:
        if mode != "duckdb":
            label = "zmr" if mode == "zmr" else "zmr broadcast"
            print(f"\n{label} / DuckDB = {medians[mode] / medians['duckdb']:.1f}x wall time")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rankings", type=int, default=100_000)
    parser.add_argument("--visits", type=int, default=1_000_000)
    parser.add_argument("--files", type=int, default=4)
    parser.add_argument("--reps", type=int, default=3, help="runs per system (median)")
    parser.add_argument("--mode", choices=list(ZMR_MODES), default="reduce",
                        help="zmr's join: reduce-side (jobs/join.py), broadcast "
                             "(jobs/broadcast_join.py) or both")
    args = parser.parse_args()
    scratch = tempfile.mkdtemp(prefix="zmr-join-")
    try:
        tables = generate(os.path.join(scratch, "tables"), args.rankings, args.visits,
                          args.files)
        sizes = tuple(sum(os.path.getsize(p) for p in glob.glob(os.path.join(d, "*")))
                      for d in tables)
        report(run(scratch, tables, args.reps, ZMR_MODES[args.mode]), sizes, args)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
