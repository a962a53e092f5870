"""Where the time goes, per phase, for each shuffle-heavy workload of issue 29.

    python3 bench/bench_profile.py [--workloads terasort,join,...] [--size 0.1] [--top 0]
                                   [--cluster] [--no-plain] [--dump DIR]

Each workload runs its job in this process (``zmr.run_inline``: every task one after the
other, the same task code a worker runs) under cProfile, and its profile is cut into the
phases of issue 29 (read, map call, encode, partition, sort, spill, merge, fetch, decode,
reduce call, output write; plus collect, combine, plan and other: see bench/phases.py for
which function goes where). The phases add up to the profile's total. Without
``--no-plain`` each job also runs once unprofiled first, for its real wall time (cProfile
slows Python-heavy phases more than Arrow's). ``--cluster`` also times the whole job on an
embedded 2-worker cluster (``zmr run --workers 2``, start-up included; PageRank: 5 rounds
on one ``zmr.LocalCluster``).

``--size`` scales issue 29's full sizes (1.0): TeraSort 2 M records (200 MB); join 100 k
rankings x 1 M visits (reduce-side, jobs/join.py, and broadcast, jobs/broadcast_join.py:
the two "join" workloads); secondary sort 1 M visits; PageRank 50 k nodes, 500 k edges, 5
rounds; inverted index 20 MB of text in 100 KB documents; bigram count 64 MB. The inputs
are generated from fixed seeds and cached under bench/data/issue29/.
"""

import argparse
import cProfile
import importlib.util
import json
import os
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
sys.path.insert(0, BENCH)    # run as a script from anywhere

import gen_shuffle  # noqa: E402
import phases  # noqa: E402
from gen_corpus import write_corpus  # noqa: E402
from gen_join import generate as generate_join  # noqa: E402
from gen_terasort import generate as generate_terasort  # noqa: E402

import zmr  # noqa: E402

JOBS = os.path.join(ROOT, "jobs")
DATA = os.path.join(BENCH, "data", "issue29")
PAGERANK_ROUNDS = 5


def job(name: str) -> str:
    return os.path.join(JOBS, f"{name}.py")


def cached(label: str, make: Callable[[str], Any]) -> str:
    """``bench/data/issue29/<label>/``, made by ``make(dir)`` once ('_COMPLETE' marks it)."""
    directory = os.path.join(DATA, label)
    if not os.path.exists(os.path.join(directory, "_COMPLETE")):
        shutil.rmtree(directory, ignore_errors=True)
        make(directory)
        open(os.path.join(directory, "_COMPLETE"), "w").close()
    return directory


@dataclass
class Workload:
    """A job, its input at a scale, and how to run it inline and on a 2-worker cluster."""

    name: str
    job_file: str
    describe: Callable[[float], str]
    inputs: Callable[[float], Any]                  # scale -> what run_inline takes
    settings: dict[str, Any] | None = None

    def run_inline(self, inputs: Any, out: str) -> None:
        zmr.run_inline(self.job_file, inputs, out, **(self.settings or {}))

    def cluster_command(self, inputs: Any, out: str) -> list[str]:
        args = [f"{k}={v}" for k, v in inputs.items()] if isinstance(inputs, dict) else inputs
        flags = [flag for path in args for flag in ("--input", path)]
        return [sys.executable, "-m", "zmr", "run", self.job_file, "--quiet", "--workers",
                "2", *flags, "--output", out]


def _terasort_input(scale: float) -> list[str]:
    records = max(1000, int(2_000_000 * scale))
    return [cached(f"terasort-{records}", lambda d: generate_terasort(records, d, files=4))]


def _join_input(scale: float) -> dict[str, str]:
    rankings, visits = max(400, int(100_000 * scale)), max(3000, int(1_000_000 * scale))
    top = cached(f"join-{rankings}-{visits}",
                 lambda d: generate_join(d, rankings, visits, files=4))
    return {"rankings": os.path.join(top, "rankings"), "visits": os.path.join(top, "uservisits")}


def _visits_input(scale: float) -> list[str]:
    count = max(1000, int(1_000_000 * scale))
    return [cached(f"visits-{count}", lambda d: gen_shuffle.visits(d, count))]


def _edges_input(scale: float) -> str:
    nodes, count = max(100, int(50_000 * scale)), max(1000, int(500_000 * scale))
    directory = cached(f"edges-{nodes}-{count}",
                       lambda d: gen_shuffle.edges(os.path.join(d, "edges.txt"), nodes, count))
    return os.path.join(directory, "edges.txt")


def _documents_input(scale: float) -> list[str]:
    size = max(200_000, int(20e6 * scale))
    return [cached(f"documents-{size}", lambda d: gen_shuffle.documents(d, size))]


def _corpus_input(scale: float) -> list[str]:
    size = max(200_000, int(64 * 2**20 * scale))
    return [cached(f"corpus-{size}", lambda d: write_corpus(size, d))]


class PageRankWorkload(Workload):
    """jobs/pagerank.py's driver: the graph job, then 5 rounds (tol 0: never converges
    early), each round a job of its own, inline or on one LocalCluster."""

    def run_inline(self, inputs: Any, out: str) -> None:
        run_pagerank(_InlineCluster(), inputs, out)


class _InlineCluster:
    """What ``pagerank()`` needs of a LocalCluster (``run``), running every job inline."""

    def run(self, **given: Any) -> Any:
        return zmr.run(cluster="inline", **given)


def pagerank_module() -> Any:
    spec = importlib.util.spec_from_file_location("bench_pagerank_job", job("pagerank"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_pagerank(cluster: Any, edges: str, work_dir: str) -> dict[str, float]:
    os.makedirs(work_dir, exist_ok=True)
    ranks, rounds = pagerank_module().pagerank(cluster, edges, work_dir, tol=0.0,
                                               max_rounds=PAGERANK_ROUNDS)
    assert rounds == PAGERANK_ROUNDS, rounds
    return ranks


class BroadcastJoinWorkload(Workload):
    """jobs/broadcast_join.py: the rankings as side files (``RANKINGS``), visits as input."""

    def run_inline(self, inputs: Any, out: str) -> None:
        before = os.environ.get("RANKINGS")
        os.environ["RANKINGS"] = inputs["rankings"]     # read where the job is loaded
        try:
            zmr.run_inline(self.job_file, inputs["visits"], out)
        finally:
            if before is None:
                del os.environ["RANKINGS"]
            else:
                os.environ["RANKINGS"] = before

    def cluster_command(self, inputs: Any, out: str) -> list[str]:
        return ["env", f"RANKINGS={inputs['rankings']}",
                *super().cluster_command([inputs["visits"]], out)]


WORKLOADS: dict[str, Workload] = {w.name: w for w in [
    Workload("terasort", job("terasort"),
             lambda s: f"{max(1000, int(2e6 * s)):,} records of 100 bytes, 4 reducers",
             _terasort_input),
    Workload("join", job("join"),
             lambda s: f"{max(400, int(1e5 * s)):,} rankings x {max(3000, int(1e6 * s)):,} "
                       "visits (two steps)", _join_input),
    BroadcastJoinWorkload("broadcast_join", job("broadcast_join"),
                          lambda s: "the join's tables, rankings as side files (one step)",
                          _join_input),
    Workload("secondary_sort", job("secondary_sort"),
             lambda s: f"~{max(1000, int(1e6 * s)):,} visits, GROUP_BY = 1, 4 reducers",
             _visits_input),
    PageRankWorkload("pagerank", job("pagerank"),
                     lambda s: f"{max(100, int(5e4 * s)):,} nodes, ~{max(1000, int(5e5 * s)):,}"
                               f" edges, graph job + {PAGERANK_ROUNDS} rounds",
                     _edges_input),
    Workload("inverted_index", job("inverted_index"),
             lambda s: f"{max(200_000, int(20e6 * s)) / 1e6:.1f} MB of text in 100 KB "
                       "documents", _documents_input),
    Workload("bigram", job("bigram"),
             lambda s: f"{max(200_000, int(64 * 2**20 * s)) / 2**20:.1f} MB of text",
             _corpus_input),
]}


@dataclass
class Profiled:
    """One workload's figures: the phase split, and wall times (None: not measured)."""

    attribution: phases.Attribution
    profiled_s: float
    plain_s: float | None = None
    cluster_s: float | None = None


def warm_up() -> None:
    """Import what the tasks import lazily, so no timed run pays for it."""
    import pyarrow.compute  # noqa: F401
    import pyarrow.csv  # noqa: F401
    import pyarrow.ipc  # noqa: F401
    import pyarrow.json  # noqa: F401
    import pyarrow.parquet  # noqa: F401

    import zmr.tasks.map_task  # noqa: F401
    import zmr.tasks.reduce_task  # noqa: F401
    import zmr.tasks.sampling  # noqa: F401


def profile(workload: Workload, scale: float, scratch: str, plain: bool = True,
            dump: str | None = None) -> Profiled:
    """Run ``workload`` at ``scale`` inline (once plain if asked, then under cProfile)."""
    inputs = workload.inputs(scale)
    plain_s = None
    if plain:
        started = time.perf_counter()
        workload.run_inline(inputs, _fresh(scratch, "plain"))
        plain_s = time.perf_counter() - started
    profiler = cProfile.Profile(builtins=False)    # a C call's time is its caller's
    started = time.perf_counter()
    profiler.enable()
    try:
        workload.run_inline(inputs, _fresh(scratch, "profiled"))
    finally:
        profiler.disable()
    profiled_s = time.perf_counter() - started
    if dump:
        os.makedirs(dump, exist_ok=True)
        profiler.dump_stats(os.path.join(dump, f"{workload.name}.pstats"))
    stats = pstats.Stats(profiler).stats     # type: ignore[attr-defined]
    return Profiled(phases.attribute(stats, {workload.job_file}), profiled_s, plain_s)


def time_on_cluster(workload: Workload, scale: float, scratch: str) -> float:
    """Wall time of the whole job on an embedded 2-worker cluster, start-up included."""
    inputs = workload.inputs(scale)
    out = _fresh(scratch, "cluster")
    if isinstance(workload, PageRankWorkload):
        started = time.perf_counter()
        with zmr.LocalCluster(workers=2) as cluster:
            run_pagerank(cluster, inputs, out)
        return time.perf_counter() - started
    probe = subprocess.run([sys.executable, os.path.join(BENCH, "measure.py"),
                            *workload.cluster_command(inputs, out)],
                           capture_output=True, text=True, check=True, cwd=ROOT)
    figures = json.loads(probe.stdout)
    if figures["returncode"] != 0:
        raise SystemExit(f"{workload.name} on 2 workers failed:\n{figures['stderr']}")
    return float(figures["wall_s"])


def _fresh(scratch: str, name: str) -> str:
    path = os.path.join(scratch, name)
    shutil.rmtree(path, ignore_errors=True)
    return path


def report(name: str, scale: float, figures: Profiled, top: int) -> None:
    workload = WORKLOADS[name]
    print(f"\n### {name}: {workload.describe(scale)}\n")
    walls = [f"profiled {figures.profiled_s:.2f} s (phases add up to "
             f"{figures.attribution.total:.2f} s)"]
    if figures.plain_s is not None:
        walls.insert(0, f"inline {figures.plain_s:.2f} s unprofiled")
    if figures.cluster_s is not None:
        walls.append(f"2 workers {figures.cluster_s:.2f} s")
    print("; ".join(walls) + "\n")
    print("\n".join(phases.table(figures.attribution)))
    if top:
        print("\nbiggest functions (own time) and their phases:")
        print("\n".join(phases.explain(figures.attribution, top)))


def summary(profiles: dict[str, Profiled]) -> list[str]:
    """One markdown table of every workload: each phase's share (%), then the wall times."""
    names = list(profiles)
    rows = ["| phase | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
    for phase in phases.PHASES:
        shares = [100 * p.attribution.seconds.get(phase, 0.0) / (p.attribution.total or 1)
                  for p in profiles.values()]
        if any(share >= 0.05 for share in shares):
            rows.append(f"| {phase} | " + " | ".join(f"{x:.1f}" for x in shares) + " |")
    walls = [("profiled s", lambda p: p.profiled_s), ("inline s", lambda p: p.plain_s),
             ("2 workers s", lambda p: p.cluster_s)]
    for label, wall in walls:
        if any(wall(p) is not None for p in profiles.values()):
            cells = [f"{wall(p):.2f}" if wall(p) is not None else "" for p in
                     profiles.values()]
            rows.append(f"| {label} | " + " | ".join(cells) + " |")
    return rows


def parse_workloads(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in WORKLOADS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown workload {', '.join(unknown) or '(none)'}; known: {', '.join(WORKLOADS)}")
    return names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workloads", type=parse_workloads, default=list(WORKLOADS),
                        help=f"comma-separated, from: {', '.join(WORKLOADS)} (default: all)")
    parser.add_argument("--size", type=float, default=0.1,
                        help="scale of issue 29's full sizes (default 0.1)")
    parser.add_argument("--top", type=int, default=0, metavar="N",
                        help="also list the N biggest functions and their phases")
    parser.add_argument("--cluster", action="store_true",
                        help="also time each job on an embedded 2-worker cluster")
    parser.add_argument("--no-plain", action="store_true",
                        help="skip the unprofiled inline run")
    parser.add_argument("--dump", metavar="DIR", help="save each profile as DIR/NAME.pstats")
    args = parser.parse_args(argv)
    if args.size <= 0:
        parser.error("--size must be above 0")
    print(f"issue 29 phase profile, --size {args.size:g}, inline under cProfile "
          f"(builtins=False); legend: bench/phases.py")
    warm_up()
    profiles: dict[str, Profiled] = {}
    for name in args.workloads:
        scratch = tempfile.mkdtemp(prefix=f"zmr-profile-{name}-")
        try:
            figures = profile(WORKLOADS[name], args.size, scratch, not args.no_plain,
                              args.dump)
            if args.cluster:
                figures.cluster_s = time_on_cluster(WORKLOADS[name], args.size, scratch)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        report(name, args.size, figures, args.top)
        profiles[name] = figures
    if len(profiles) > 1:
        print(f"\n### All workloads, --size {args.size:g}: % of each profile\n")
        print("\n".join(summary(profiles)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
