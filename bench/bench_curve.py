"""Cost of CurveZMQ on the shuffle: bigram count on a 2-worker embedded cluster with
``[security] curve`` off and on, same corpus, same run.

    python bench/bench_curve.py [--size 64MB] [--reps 3] [--split-size 4MB] [--reducers 8]

Bigram count (jobs/bigram.py) is the shuffle-heavy job: most keys are distinct, so the
combiner saves little and the map outputs are about three times the corpus. Each run starts a
fresh ``LocalCluster(workers=2)`` (start-up not timed) and times the job from submit to the
end of ``wait``. The two modes alternate (plain, curve, then curve, plain, ...) so a drift
in machine load hits both alike; the table shows medians of ``--reps``.

Only remote fetches are encrypted (a reducer reads the segments of maps that ran on its own
worker in place), so small splits and several reducers are used: every reducer then fetches
from many maps, and the share of shuffle bytes that crossed between the two workers is close
to one half (it is estimated from where each map and reduce task ran; with 2 workers half
is what random placement gives). Columns: wall s (median), reduce phase s (first reduce
start to last reduce end, median), shuffle MB (``REDUCE_SHUFFLE_BYTES``), remote share,
shuffle MB/s (shuffle MB / wall), and wall time relative to plain. Every run's output is
checked to be byte-identical to the first plain run's.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
sys.path[:0] = [ROOT, BENCH]

from bench_wordcount import corpus  # noqa: E402

from tests.helpers import output_bytes  # noqa: E402
from zmr.runners.local import LocalCluster  # noqa: E402
from zmr.storage.splits import parse_size  # noqa: E402
from zmr.transport.security import generate_keys  # noqa: E402

BIGRAM = os.path.join(ROOT, "jobs", "bigram.py")
MODES = ("plain", "curve")


def _placement(status: dict) -> tuple[dict[int, str], dict[int, str], list[tuple[float, float]]]:
    """Which worker ran the succeeded attempt of each map and reduce task, and the reduce
    attempts' (start, end) times."""
    maps: dict[int, str] = {}
    reduces: dict[int, str] = {}
    spans = []
    for task in status["tasks"]:
        for _attempt, worker, start, end, outcome, *_ in task["attempts"]:
            if outcome != "succeeded":
                continue
            (maps if task["task"] == "map" else reduces)[task["index"]] = worker
            if task["task"] == "reduce":
                spans.append((start, end))
    return maps, reduces, spans


def one_run(files: list[str], out: str, curve_keys: str | None, split_size: str,
            reducers: int) -> dict:
    """One job on a fresh 2-worker cluster; its figures."""
    settings = ({("security", "curve"): True, ("security", "keys_dir"): curve_keys}
                if curve_keys else {})
    with LocalCluster(workers=2, settings=settings) as cluster:
        started = time.monotonic()
        job = cluster.client.submit(BIGRAM, files, out, reducers=reducers,
                                    split_size=split_size)
        status = job.wait(timeout_s=3600)
        wall = time.monotonic() - started
    if status["state"] != "SUCCEEDED":
        raise SystemExit(f"job {status['state']}: {status['error']}")
    maps, reduces, spans = _placement(status)
    pairs = [(m, r) for m in maps.values() for r in reduces.values()]
    remote = sum(m != r for m, r in pairs) / max(1, len(pairs))
    return {"wall_s": wall,
            "reduce_s": max(e for _, e in spans) - min(s for s, _ in spans) if spans else 0.0,
            "shuffle_mb": status["counters"]["zmr"].get("REDUCE_SHUFFLE_BYTES", 0) / (1 << 20),
            "remote": remote}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="64MB", help="corpus size")
    parser.add_argument("--reps", type=int, default=3, help="runs per mode (median)")
    parser.add_argument("--split-size", default="4MB", help="input split size")
    parser.add_argument("--reducers", type=int, default=8, help="reduce tasks")
    parser.add_argument("--seed", type=int, default=42, help="corpus seed")
    args = parser.parse_args()
    files = corpus(parse_size(args.size, "--size"), args.seed)
    megabytes = sum(os.path.getsize(f) for f in files) / (1 << 20)
    runs: dict[str, list[dict]] = {mode: [] for mode in MODES}
    with tempfile.TemporaryDirectory(prefix="zmr-bench-curve-") as scratch:
        keys = os.path.join(scratch, "keys")
        generate_keys(keys)
        reference = None
        for rep in range(args.reps):
            for mode in MODES if rep % 2 == 0 else MODES[::-1]:
                out = os.path.join(scratch, f"out-{mode}-{rep}")
                figures = one_run(files, out, keys if mode == "curve" else None,
                                  args.split_size, args.reducers)
                runs[mode].append(figures)
                print(f"  {mode}: {figures['wall_s']:.2f} s", file=sys.stderr)
                produced = output_bytes(out)
                if not produced:
                    raise SystemExit(f"{mode}: no part files in {out}")
                reference = reference or produced
                if produced != reference:
                    raise SystemExit(f"{mode} run {rep + 1}: output differs from the first run")
                shutil.rmtree(out)
    print(f"bigram count, {megabytes:.1f} MB corpus, {args.split_size} splits, "
          f"{args.reducers} reducers, 2 workers, median of {args.reps}\n")
    print("| mode | wall s | reduce phase s | shuffle MB | remote share | shuffle MB/s "
          "| wall vs plain |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    base = statistics.median(r["wall_s"] for r in runs["plain"])
    for mode, results in runs.items():
        wall = statistics.median(r["wall_s"] for r in results)
        reduce_s = statistics.median(r["reduce_s"] for r in results)
        shuffle = statistics.median(r["shuffle_mb"] for r in results)
        remote = statistics.median(r["remote"] for r in results)
        print(f"| {mode} | {wall:.2f} | {reduce_s:.2f} | {shuffle:.1f} | {100 * remote:.0f}% "
              f"| {shuffle / wall:.1f} | {wall / base:.3f} |")
    curve = statistics.median(r["wall_s"] for r in runs["curve"])
    print(f"\ncurve/plain wall time: {curve / base:.3f} ({100 * (curve / base - 1):+.1f}%); "
          f"outputs identical: {len(reference)} part files, byte for byte, "
          f"in all {2 * args.reps} runs")


if __name__ == "__main__":
    main()
