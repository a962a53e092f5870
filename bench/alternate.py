"""Run zmr and a peer alternately, each in a fresh measuring process (``measure.py``),
check every answer against the peer's, and print medians and the ratio: the shared loop
of bench_secondary_sort.py, bench_pagerank.py and bench_inverted_index.py.

A mode is (label, command): ``command(out)`` is the command line writing its answer to
``out`` (a file or a directory of ``part-*`` files) as ``key<TAB>value`` lines.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import statistics
import subprocess
import sys
from collections.abc import Callable
from typing import Any

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
PY = sys.executable

Command = Callable[[str], list[str]]
Answer = dict[str, Any]


def zmr_run(job: str, *flags: str) -> Command:
    """``zmr run jobs/<job>.py`` on an embedded 2-worker cluster, with ``flags``."""
    path = os.path.join(ROOT, "jobs", f"{job}.py")
    return lambda out: [PY, "-m", "zmr", "run", path, "--quiet", "--workers", "2", *flags,
                        "--output", out]


def read_lines(out: str) -> Answer:
    """``key<TAB>JSON value`` lines of a zmr output directory or a peer's file."""
    paths = sorted(glob.glob(os.path.join(out, "part-*"))) if os.path.isdir(out) else [out]
    answer: Answer = {}
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for line in f:
                key, value = line.rstrip("\n").split("\t", 1)
                if key in answer:
                    raise SystemExit(f"{path}: key {key!r} written twice")
                answer[key] = json.loads(value)
    return answer


def measure(name: str, command: Command, scratch: str,
            read: Callable[[str], Answer]) -> tuple[dict, Answer]:
    out = os.path.join(scratch, f"out-{name}")
    shutil.rmtree(out, ignore_errors=True)
    if os.path.exists(out):
        os.unlink(out)
    probe = subprocess.run([PY, os.path.join(BENCH, "measure.py"), *command(out)],
                           capture_output=True, text=True, check=True, cwd=ROOT)
    figures = json.loads(probe.stdout)
    if figures["returncode"] != 0:
        raise SystemExit(f"{name} failed:\n{figures['stderr']}")
    return figures, read(out)


def run(modes: dict[str, tuple[str, Command]], reps: int, scratch: str,
        agree: Callable[[Answer, Answer], str | None],
        read: Callable[[str], Answer] = read_lines) -> dict[str, list[dict]]:
    """``modes``: {"zmr": ..., "peer": ...}; they alternate (zmr first on odd reps, the
    peer first on even ones) and zmr's answer must ``agree`` with the peer's (it returns
    None, or what differs)."""
    results: dict[str, list[dict]] = {name: [] for name in modes}
    size = 0
    for rep in range(reps):
        answers = {}
        for name in ("peer", "zmr") if rep % 2 else ("zmr", "peer"):
            figures, answers[name] = measure(name, modes[name][1], scratch, read)
            results[name].append(figures)
            print(f"  rep {rep + 1} {name}: {figures['wall_s']:.2f} s, "
                  f"{figures['peak_rss_mb']:.0f} MB", file=sys.stderr)
        problem = agree(answers["zmr"], answers["peer"])
        if problem:
            raise SystemExit(f"zmr's answer differs from the peer's (rep {rep + 1}): "
                             f"{problem}")
        size = len(answers["peer"])
    print(f"all {reps} runs agree with the peer: {size:,} keys")
    return results


def same_keys_and_values(got: Answer, want: Answer) -> str | None:
    """Exact agreement, or the first difference."""
    if set(got) != set(want):
        missing, extra = sorted(set(want) - set(got)), sorted(set(got) - set(want))
        return f"{len(missing)} keys missing ({missing[:3]}), {len(extra)} extra ({extra[:3]})"
    for key in sorted(want):
        if got[key] != want[key]:
            return f"key {key!r}: {str(got[key])[:200]} != {str(want[key])[:200]}"
    return None


def report(modes: dict[str, tuple[str, Command]], results: dict[str, list[dict]],
           title: str, target: float | None = None) -> float:
    """The medians table and zmr / peer (wall time; ``target``: issue 29's most); returns
    the ratio."""
    reps = len(results["zmr"])
    print(f"\n{title}, median of {reps}\n")
    print("| system | wall s (median) | peak RSS MB | runs |")
    print("|---|---:|---:|---|")
    medians = {}
    for name, runs in results.items():
        medians[name] = statistics.median(r["wall_s"] for r in runs)
        rss = statistics.median(r["peak_rss_mb"] for r in runs)
        walls = ", ".join(f"{r['wall_s']:.2f}" for r in runs)
        print(f"| {modes[name][0]} | {medians[name]:.2f} | {rss:.0f} | {walls} |")
    ratio = medians["zmr"] / medians["peer"]
    verdict = ""
    if target is not None:
        verdict = f" (issue 29's target <= {target:g}x: " \
                  f"{'PASS' if ratio <= target else 'MISS'})"
    print(f"\nzmr / peer = {ratio:.2f}x wall time{verdict}")
    return ratio
