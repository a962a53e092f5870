"""Secondary sort: jobs/secondary_sort.py (each user's visits in time order, ``GROUP_BY =
1``) on an embedded 2-worker zmr cluster against DuckDB's ``list(url ORDER BY time)``
(2 threads, ``peers/duckdb_secondary_sort.py``) on the same files.

    python3 bench/bench_secondary_sort.py [--records 1000000] [--reps 3]

The visits (``user,time,url`` lines in 4 files, ~20 per user, a user's times distinct so
the order is unique) come from a fixed seed (``gen_shuffle.visits``). zmr and DuckDB run
alternately, each in a fresh ``measure.py`` process; every zmr answer must equal DuckDB's,
user for user and URL for URL. Issue 29's target: zmr <= 4x DuckDB.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile

BENCH = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, BENCH)    # run as a script from anywhere

import alternate  # noqa: E402
from gen_shuffle import visits  # noqa: E402

TARGET = 4.0


def modes(data: str) -> dict[str, tuple[str, alternate.Command]]:
    peer = os.path.join(BENCH, "peers", "duckdb_secondary_sort.py")
    return {"zmr": ("zmr, 2 workers (embedded)",
                    alternate.zmr_run("secondary_sort", "--input", data)),
            "peer": ("DuckDB, 2 threads", lambda out: [alternate.PY, peer, out, data])}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000, help="visits (about)")
    parser.add_argument("--reps", type=int, default=3, help="runs per system (median)")
    args = parser.parse_args(argv)
    scratch = tempfile.mkdtemp(prefix="zmr-secondary-")
    try:
        data = os.path.join(scratch, "visits")
        files = visits(data, args.records)
        megabytes = sum(os.path.getsize(f) for f in files) / 1e6
        chosen = modes(data)
        results = alternate.run(chosen, args.reps, scratch, alternate.same_keys_and_values)
        alternate.report(chosen, results, f"secondary sort of ~{args.records:,} visits "
                         f"({megabytes:.1f} MB CSV)", TARGET)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
