"""TeraSort benchmark: zmr's jobs/terasort.py and ``LC_ALL=C sort`` on the same records,
alternately, in one run.

    python bench/bench_terasort.py [--records 200000] [--reps 3] [--workers 2] [--reducers 4]
                                   [--inline] [--job jobs/terasort.py]

Generates gensort-like records (bench/gen_terasort.py, 100 bytes each, cached under
bench/data/), then for each repetition runs GNU sort and ``zmr run jobs/terasort.py`` one
after the other, so machine drift hits both alike. Every zmr output (its part files
concatenated) must be byte-identical to GNU sort's output, or the benchmark fails. The
comparison is byte-for-byte because the records end in ``"\\r\\n"``: GNU sort sees each
record as one line (ending in ``"\\r"``) and, under ``LC_ALL=C``, compares lines as bytes;
all lines have the same length, so its order is the records' byte order, which is the
order of terasort.py's keys (first 10 bytes), ties broken by the whole record
(``SORT_VALUES``). Prints median wall times and zmr / sort (above 1: zmr is slower).
``--job tests/jobs/terasort_records.py`` times the same job with a per-record ``mapper``
in place of its columnar ``map_batch``.
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

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
sys.path.insert(0, BENCH)    # run as a script from anywhere

from gen_terasort import RECORD_BYTES, generate  # noqa: E402


def records_dir(records: int, files: int) -> str:
    path = os.path.join(BENCH, "data", f"terasort-{records}-{files}")
    if not os.path.isdir(path):
        generate(records, path + ".tmp", files=files)
        os.replace(path + ".tmp", path)
    return path


def inputs(directory: str) -> list[str]:
    return sorted(os.path.join(directory, n) for n in os.listdir(directory))


def run_sort(files: list[str], out: str) -> float:
    started = time.perf_counter()
    subprocess.run(["sort", "-o", out, *files], check=True, env={**os.environ, "LC_ALL": "C"})
    return time.perf_counter() - started


def run_zmr(directory: str, out: str, args: argparse.Namespace) -> float:
    where = ["--inline"] if args.inline else ["--workers", str(args.workers)]
    command = [sys.executable, "-m", "zmr", "run", os.path.join(ROOT, args.job),
               "-i", directory, "-o", out, "-r", str(args.reducers), "--quiet", *where]
    started = time.perf_counter()
    subprocess.run(command, check=True, cwd=ROOT)
    return time.perf_counter() - started


def same_bytes(zmr_out: str, sort_out: str) -> bool:
    """The part files, concatenated in name order, against GNU sort's file, a MB at a time."""
    parts = sorted(p for p in os.listdir(zmr_out) if p.startswith("part-"))
    with open(sort_out, "rb") as expected:
        for part in parts:
            with open(os.path.join(zmr_out, part), "rb") as got:
                while chunk := got.read(1 << 20):
                    if expected.read(len(chunk)) != chunk:
                        return False
        return expected.read(1) == b""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--files", type=int, default=4)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--reducers", type=int, default=4)
    parser.add_argument("--inline", action="store_true", help="zmr run --inline")
    parser.add_argument("--job", default=os.path.join("jobs", "terasort.py"),
                        help="the TeraSort job (relative to the repository)")
    args = parser.parse_args()
    directory = records_dir(args.records, args.files)
    files = inputs(directory)
    times: dict[str, list[float]] = {"sort": [], "zmr": []}
    scratch = tempfile.mkdtemp(prefix="zmr-terasort-")
    try:
        for rep in range(args.reps):
            sort_out = os.path.join(scratch, "sorted")
            zmr_out = os.path.join(scratch, f"zmr-{rep}")
            times["sort"].append(run_sort(files, sort_out))
            times["zmr"].append(run_zmr(directory, zmr_out, args))
            if not same_bytes(zmr_out, sort_out):
                raise SystemExit(f"zmr's output differs from LC_ALL=C sort's (run {rep + 1})")
            shutil.rmtree(zmr_out)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    mb = args.records * RECORD_BYTES / 1e6
    sort_s, zmr_s = statistics.median(times["sort"]), statistics.median(times["zmr"])
    mode = "inline" if args.inline else f"{args.workers} workers"
    print(f"{args.job}: {args.records:,} records ({mb:.0f} MB), {args.reps} reps, zmr {mode}, "
          f"{args.reducers} reducers; outputs byte-identical")
    print(f"  LC_ALL=C sort  {sort_s:8.2f} s  {mb / sort_s:7.1f} MB/s")
    print(f"  zmr terasort   {zmr_s:8.2f} s  {mb / zmr_s:7.1f} MB/s")
    print(f"  zmr / sort     {zmr_s / sort_s:8.2f}x wall time")


if __name__ == "__main__":
    main()
