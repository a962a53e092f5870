"""Every core busy (issue 30): zmr with its defaults against the program a user writes, and
an embedded 2-worker cluster against ``--inline`` on inputs that cut into few splits.

    python3 bench/bench_cores.py [--parts wordcount,cpu,bigram] [--reps 3]
                                 [--sizes 64MB,256MB] [--bigram-size 16MB]

* ``wordcount``: ``zmr run jobs/wordcount_split.py -i DIR -o OUT`` with no other flag
  (an embedded cluster of the default size, 2 workers here) against
  ``../shared/bench/wordcount_pool.py`` (``Pool(2)``, one Counter per file, ``str.split``),
  each corpus cut into 4 files of equal size. Target: zmr's speed >= 0.9x the peer's.
* ``cpu``: a mapper that hashes each line (~0.2 ms a line), 2 workers against
  ``--inline``, on 8 small files (900 KB in all), on one 750 KB file, and on one 750 KB
  file whose last tenth costs 10x a line. Target: 2 workers <= 0.6x the inline wall time,
  and slot utilisation >= 90% (as the run's summary reports it).
* ``bigram``: bigram count with defaults against ``--reducers 1``, ``2`` and ``4``. Target:
  defaults no slower than the best hand-picked count (within 5%, the noise of one run).

The modes of a part run alternately, each in a fresh measuring process (``measure.py``),
every answer is checked against the first one's, and medians, ratios and PASS/MISS per
target are printed as markdown.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
sys.path.insert(0, BENCH)    # run as a script from anywhere

from bench_wordcount import corpus, read_counts  # noqa: E402
from gen_corpus import parse_size  # noqa: E402

PY = sys.executable
POOL_PEER = os.path.join(ROOT, "..", "shared", "bench", "wordcount_pool.py")
WORDCOUNT = os.path.join(ROOT, "jobs", "wordcount_split.py")
BIGRAM = os.path.join(ROOT, "jobs", "bigram.py")
TARGET_SPEED, TARGET_CPU_RATIO, TARGET_UTILISATION, BIGRAM_NOISE = 0.9, 0.6, 0.90, 1.05

#: The CPU-heavy job: each line's first field says how many times its cost is paid, so
#: one input can be cheap at the start and 10x dearer at the end (skew in cost, not size).
CPU_JOB = '''"""Hash every line ROUNDS x weight times (~0.2 ms a line at weight 1); count the
first hex digit of the digests."""
import hashlib

ROUNDS = 350


def mapper(key, line):
    weight, _, text = line.partition(" ")
    digest = text.encode()
    for _ in range(ROUNDS * int(weight)):
        digest = hashlib.sha256(digest).digest()
    yield digest.hex()[0], 1


def combiner(key, counts):
    yield key, sum(counts)


def reducer(key, counts):
    yield key, sum(counts)
'''

Command = list[str]


def measure(command: Command, out: str) -> tuple[dict, dict[str, int]]:
    """One run in a fresh measuring process: its figures and its ``key<TAB>count`` pairs."""
    shutil.rmtree(out, ignore_errors=True)
    probe = subprocess.run([PY, os.path.join(BENCH, "measure.py"), *command],
                           capture_output=True, text=True, check=True, cwd=ROOT)
    figures = json.loads(probe.stdout)
    if figures["returncode"] != 0:
        raise SystemExit(f"failed ({' '.join(command)}):\n{figures['stderr']}")
    return figures, read_counts(out)


def alternate(modes: dict[str, Callable[[str], Command]], scratch: str,
              reps: int) -> dict[str, list[dict]]:
    """Every mode ``reps`` times, interleaved; every answer must equal the first mode's."""
    runs: dict[str, list[dict]] = {m: [] for m in modes}
    reference: dict[str, int] | None = None
    for rep in range(reps):
        for mode, command in modes.items():
            out = os.path.join(scratch, "out-" + re.sub(r"\W+", "_", mode))
            figures, counts = measure(command(out), out)
            reference = counts if reference is None else reference
            if counts != reference:
                raise SystemExit(f"{mode} disagrees with {next(iter(modes))}: "
                                 f"{sum(counts.values())} vs {sum(reference.values())}")
            runs[mode].append(figures)
            print(f"  rep {rep + 1} {mode}: {figures['wall_s']:.2f} s "
                  f"{summary_figures(figures['stderr'])}", file=sys.stderr)
    return runs


def summary_figures(stderr: str) -> dict[str, float]:
    """What the run's summary says of its slots: utilisation (a share), maps, reduces."""
    found: dict[str, float] = {}
    if m := re.search(r"slots (\d+(?:\.\d+)?)% busy", stderr):
        found["utilisation"] = float(m.group(1)) / 100
    if m := re.search(r"(\d+) map tasks?", stderr):
        found["maps"] = int(m.group(1))
    if m := re.search(r"(\d+) reduce tasks?", stderr):
        found["reduces"] = int(m.group(1))
    return found


def median_wall(runs: list[dict]) -> float:
    return statistics.median(r["wall_s"] for r in runs)


def table(title: str, runs: dict[str, list[dict]]) -> None:
    print(f"\n{title}\n\n| mode | wall s (median) | runs | maps | reduces | utilisation |")
    print("|---|---:|---|---:|---:|---:|")
    for mode, results in runs.items():
        said = summary_figures(results[-1]["stderr"])
        use = said.get("utilisation")
        walls = ", ".join(f"{r['wall_s']:.2f}" for r in results)
        shown = "-" if use is None else f"{use:.0%}"
        print(f"| {mode} | {median_wall(results):.2f} | {walls} | {said.get('maps', '-')} "
              f"| {said.get('reduces', '-')} | {shown} |")


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


# -- inputs ------------------------------------------------------------------------------
def recut(files: list[str], directory: str, pieces: int) -> str:
    """The lines of ``files`` in ``pieces`` files of about equal size (whole lines)."""
    os.makedirs(directory, exist_ok=True)
    data = b"".join(open(f, "rb").read() for f in files)
    step, start = len(data) // pieces, 0
    for i in range(pieces):
        end = len(data) if i == pieces - 1 else data.index(b"\n", start + step) + 1
        with open(os.path.join(directory, f"part-{i:03}.txt"), "wb") as f:
            f.write(data[start:end])
        start = end
    return directory


def cpu_lines(count: int, heavy_from: int | None = None) -> list[str]:
    """``count`` lines of ~100 bytes, weight 1, or 10 from line ``heavy_from`` on."""
    return [f"{10 if heavy_from is not None and i >= heavy_from else 1} line {i:07} "
            + "lorem ipsum dolor sit amet " * 3 + "\n" for i in range(count)]


def cpu_inputs(directory: str) -> dict[str, str]:
    """The three inputs of the cpu part: name -> directory."""
    made = {}
    for name, files in (("8 files, 900 KB", [cpu_lines(1125)] * 8),
                        ("1 file, 750 KB", [cpu_lines(7500)]),
                        ("1 file, 750 KB, last tenth 10x", [cpu_lines(7500, 6750)])):
        path = os.path.join(directory, re.sub(r"\W+", "_", name))
        os.makedirs(path, exist_ok=True)
        for i, lines in enumerate(files):
            with open(os.path.join(path, f"in-{i}.txt"), "w") as f:
                f.write("".join(lines))
        made[name] = path
    return made


# -- parts -------------------------------------------------------------------------------
def zmr(job: str, inputs: str, *flags: str) -> Callable[[str], Command]:
    return lambda out: [PY, "-m", "zmr", "run", job, "-i", inputs, "-o", out, *flags]


def wordcount_part(sizes: list[int], scratch: str, reps: int) -> list[bool]:
    passed = []
    for size in sizes:
        inputs = recut(corpus(size), os.path.join(scratch, f"wc-{size >> 20}MB"), 4)
        runs = alternate({"zmr defaults": zmr(WORDCOUNT, inputs),
                          "wordcount_pool.py Pool(2)":
                              lambda out, i=inputs: [PY, POOL_PEER, out, i]}, scratch, reps)
        table(f"word count, {size >> 20} MB in 4 files, median of {reps}", runs)
        speed = median_wall(runs["wordcount_pool.py Pool(2)"]) / median_wall(runs["zmr defaults"])
        print(f"\nzmr speed vs Pool(2) = {speed:.2f}x (target >= {TARGET_SPEED}x): "
              f"{verdict(speed >= TARGET_SPEED)}")
        passed.append(speed >= TARGET_SPEED)
    return passed


def cpu_part(scratch: str, reps: int) -> list[bool]:
    job = os.path.join(scratch, "cpu_heavy.py")
    with open(job, "w") as f:
        f.write(CPU_JOB)
    passed = []
    for name, inputs in cpu_inputs(os.path.join(scratch, "cpu")).items():
        runs = alternate({"inline": zmr(job, inputs, "--inline"),
                          "2 workers": zmr(job, inputs, "--workers", "2")}, scratch, reps)
        table(f"CPU-heavy mapper, {name}, median of {reps}", runs)
        ratio = median_wall(runs["2 workers"]) / median_wall(runs["inline"])
        uses = [summary_figures(r["stderr"]).get("utilisation", 0.0) for r in runs["2 workers"]]
        use = statistics.median(uses)
        print(f"\n2 workers / inline = {ratio:.2f} (target <= {TARGET_CPU_RATIO}): "
              f"{verdict(ratio <= TARGET_CPU_RATIO)}; slot utilisation {use:.0%} "
              f"(target >= {TARGET_UTILISATION:.0%}): {verdict(use >= TARGET_UTILISATION)}")
        passed += [ratio <= TARGET_CPU_RATIO, use >= TARGET_UTILISATION]
    return passed


def bigram_part(size: int, scratch: str, reps: int) -> list[bool]:
    inputs = recut(corpus(size), os.path.join(scratch, f"bigram-{size >> 20}MB"), 4)
    modes = {"defaults": zmr(BIGRAM, inputs)}
    modes.update({f"--reducers {n}": zmr(BIGRAM, inputs, "--reducers", str(n))
                  for n in (1, 2, 4)})
    runs = alternate(modes, scratch, reps)
    table(f"bigram count, {size >> 20} MB in 4 files, median of {reps}", runs)
    best = min(median_wall(r) for m, r in runs.items() if m != "defaults")
    ratio = median_wall(runs["defaults"]) / best
    print(f"\ndefaults / best hand-picked = {ratio:.2f} (target <= {BIGRAM_NOISE}): "
          f"{verdict(ratio <= BIGRAM_NOISE)}")
    return [ratio <= BIGRAM_NOISE]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parts", default="wordcount,cpu,bigram")
    parser.add_argument("--reps", type=int, default=3, help="runs per mode (median)")
    parser.add_argument("--sizes", default="64MB,256MB", help="word count corpus sizes")
    parser.add_argument("--bigram-size", type=parse_size, default="16MB")
    args = parser.parse_args()
    parts = args.parts.split(",")
    scratch = tempfile.mkdtemp(prefix="zmr-cores-")
    passed: list[bool] = []
    try:
        if "wordcount" in parts:
            sizes = [parse_size(s) for s in args.sizes.split(",")]
            passed += wordcount_part(sizes, scratch, args.reps)
        if "cpu" in parts:
            passed += cpu_part(scratch, args.reps)
        if "bigram" in parts:
            passed += bigram_part(args.bigram_size, scratch, args.reps)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"\n{sum(passed)} of {len(passed)} targets met")


if __name__ == "__main__":
    main()
