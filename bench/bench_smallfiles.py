"""Many small files: word count over 1,000 files of 1-8 KB, ``--inline`` against an
embedded 2-worker cluster (issue 13's targets: the cluster within 1.5x of inline, and
under 3 s in all).

    python3 bench/bench_smallfiles.py [--files 1000] [--reps 5] [--unpacked]

The files are generated from a fixed seed (same bytes every time) into a scratch
directory. The modes run alternately, each in a fresh measuring process (``measure.py``),
every answer is checked against the first one, word for word, and the medians, the ratio
and PASS/MISS per target are printed. ``--unpacked`` adds both modes with
``COMBINE_FILES = False`` (one map task per file, as before packing) for comparison.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
sys.path.insert(0, BENCH)    # run as a script from anywhere

from bench_wordcount import read_counts  # noqa: E402

PY = sys.executable
JOB = os.path.join(ROOT, "jobs", "wordcount.py")
#: mode -> (label, extra zmr flags, packed?)
MODES = {
    "inline": ("zmr --inline", ["--inline"], True),
    "cluster2": ("zmr 2 workers", ["--workers", "2"], True),
    "inline_unpacked": ("zmr --inline, COMBINE_FILES = False", ["--inline"], False),
    "cluster2_unpacked": ("zmr 2 workers, COMBINE_FILES = False", ["--workers", "2"], False),
}
TARGET_RATIO, TARGET_WALL_S = 1.5, 3.0


def write_files(directory: str, count: int, seed: int) -> int:
    """``count`` files of 1-8 KB of lowercase words; returns their total size in bytes."""
    rng = random.Random(seed)
    vocabulary = ["".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=rng.randint(2, 9)))
                  for _ in range(3000)]
    total = 0
    for i in range(count):
        size, lines = rng.randint(1 << 10, 8 << 10), []
        while sum(map(len, lines)) < size:
            lines.append(" ".join(rng.choices(vocabulary, k=rng.randint(4, 14))) + "\n")
        path = os.path.join(directory, f"{i // 100:02}", f"doc-{i:05}.txt")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write("".join(lines))
        total += os.path.getsize(path)
    return total


def unpacked_job(scratch: str) -> str:
    """jobs/wordcount.py with packing turned off."""
    path = os.path.join(scratch, "wordcount_unpacked.py")
    with open(JOB) as src, open(path, "w") as out:
        out.write(src.read() + "\nCOMBINE_FILES = False\n")
    return path


def measure(mode: str, inputs: str, scratch: str) -> tuple[float, dict[str, int]]:
    """One run of ``mode``: its wall time and its word counts."""
    _, flags, packed = MODES[mode]
    out = os.path.join(scratch, f"out-{mode}")
    shutil.rmtree(out, ignore_errors=True)
    job = JOB if packed else unpacked_job(scratch)
    command = [PY, "-m", "zmr", "run", job, "--quiet", *flags, "--input", inputs,
               "--output", out]
    probe = subprocess.run([PY, os.path.join(BENCH, "measure.py"), *command],
                           capture_output=True, text=True, check=True, cwd=ROOT)
    figures = json.loads(probe.stdout)
    if figures["returncode"] != 0:
        raise SystemExit(f"{mode} failed ({' '.join(command)}):\n{figures['stderr']}")
    return figures["wall_s"], read_counts(out)


def run(modes: list[str], inputs: str, scratch: str, reps: int) -> dict[str, list[float]]:
    """Every mode ``reps`` times, alternating; every answer must equal the first."""
    times: dict[str, list[float]] = {m: [] for m in modes}
    reference: dict[str, int] | None = None
    for rep in range(reps):
        for mode in modes:
            wall, counts = measure(mode, inputs, scratch)
            reference = counts if reference is None else reference
            if counts != reference:
                raise SystemExit(f"{mode} disagrees with {modes[0]}: "
                                 f"{sum(counts.values())} vs {sum(reference.values())} words")
            times[mode].append(wall)
            print(f"  rep {rep + 1} {mode}: {wall:.2f} s", file=sys.stderr)
    assert reference is not None
    print(f"all runs agree: {sum(reference.values()):,} words, {len(reference):,} distinct")
    return times


def report(times: dict[str, list[float]], files: int, total: int, reps: int) -> None:
    """Medians as a markdown table, then the targets."""
    print(f"\n{files:,} files, {total / 1024:.0f} KB in all, median of {reps}\n")
    print("| mode | wall s (median) | runs |")
    print("|---|---:|---|")
    for mode, walls in times.items():
        runs = ", ".join(f"{w:.2f}" for w in walls)
        print(f"| {MODES[mode][0]} | {statistics.median(walls):.2f} | {runs} |")
    inline, cluster = (statistics.median(times[m]) for m in ("inline", "cluster2"))
    ratio = cluster / inline
    print(f"\ncluster2 / inline = {ratio:.2f} (target <= {TARGET_RATIO}): "
          f"{'PASS' if ratio <= TARGET_RATIO else 'MISS'}")
    print(f"cluster2 wall = {cluster:.2f} s (target <= {TARGET_WALL_S} s): "
          f"{'PASS' if cluster <= TARGET_WALL_S else 'MISS'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--reps", type=int, default=5, help="runs per mode (median)")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--unpacked", action="store_true",
                        help="also run both modes with COMBINE_FILES = False")
    args = parser.parse_args()
    modes = ["inline", "cluster2", *(["inline_unpacked", "cluster2_unpacked"]
                                     if args.unpacked else [])]
    scratch = tempfile.mkdtemp(prefix="zmr-smallfiles-")
    try:
        inputs = os.path.join(scratch, "in")
        total = write_files(inputs, args.files, args.seed)
        report(run(modes, inputs, scratch, args.reps), args.files, total, args.reps)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
