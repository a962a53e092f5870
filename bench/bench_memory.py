"""Bounded memory: a corpus 4x the task memory budget, on a 2-worker cluster, with the peak
RSS of every process (worker agents and their task processes) sampled by psutil.

    python3 bench/bench_memory.py [--memory 32MB] [--jobs wordcount,bigram]

The budget bounds what a task buffers (map output before a spill, merge inputs); the rest of
a task process is a fixed overhead (Python, numpy, pyarrow, the job code), measured here on a
1 KB job first. Issue 6's target: every process's peak <= budget + that fixed overhead.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time

import psutil

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
sys.path.insert(0, ROOT)
sys.path.insert(0, BENCH)

from bench_wordcount import corpus  # noqa: E402
from gen_corpus import parse_size  # noqa: E402

from zmr.runners.local import LocalCluster  # noqa: E402

#: Runs of the 1 KB job whose highest task peak is the fixed overhead.
TINY_RUNS = 3


class PeakSampler:
    """Peak RSS (MB) of the cluster's processes, by role, sampled every 20 ms: its
    coordinator, its worker agents, and the task processes (a worker's grandchildren: a
    worker forks its fork server, which forks the executors). Roles come from the process
    tree, not command lines: the embedded cluster's processes may be forked from this
    one (zmr.runners.forked) and then share its command line."""

    def __init__(self, cluster: LocalCluster) -> None:
        self.cluster = cluster
        self.peaks: dict[int, tuple[float, str]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()      # once more: a job shorter than a few periods may be missed

    def _roles(self) -> list[tuple[psutil.Process, str]]:
        found = []
        if self.cluster.coordinator is not None:
            found.append((psutil.Process(self.cluster.coordinator.pid), "coordinator"))
        for proc in self.cluster.workers.values():
            worker = psutil.Process(proc.pid)
            found.append((worker, "worker"))
            for child in worker.children():         # its fork server
                found += [(task, "task") for task in child.children()]
        return found

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            time.sleep(0.02)

    def _sample(self) -> None:
        try:
            roles = self._roles()
        except psutil.Error:
            roles = []
        for p, kind in roles:
            try:
                rss = p.memory_info().rss / (1 << 20)
                old = self.peaks.get(p.pid, (0.0, kind))
                self.peaks[p.pid] = (max(old[0], rss), kind)
            except psutil.Error:
                pass

    def peak(self, kind: str) -> float:
        return max((rss for rss, k in self.peaks.values() if k == kind), default=0.0)


def run(job: str, inputs: list[str], budget: str, scratch: str) -> dict[str, float]:
    with LocalCluster(workers=2, base_dir=tempfile.mkdtemp(dir=scratch)) as cluster:
        with PeakSampler(cluster) as sampler:
            started = time.perf_counter()
            cluster.client.submit(os.path.join(ROOT, "jobs", job), inputs,
                                  tempfile.mkdtemp(dir=scratch) + "/out",
                                  memory_budget=budget).wait()
            wall = time.perf_counter() - started
    return {"wall": wall, "task": sampler.peak("task"), "worker": sampler.peak("worker"),
            "coordinator": sampler.peak("coordinator")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--memory", default="32MB", help="task memory budget (--memory)")
    parser.add_argument("--jobs", default="wordcount,bigram")
    args = parser.parse_args()
    budget_mb = parse_size(args.memory) / (1 << 20)
    files = corpus(int(4 * parse_size(args.memory)))
    with tempfile.TemporaryDirectory(prefix="zmr-memory-") as scratch:
        tiny = os.path.join(scratch, "tiny.txt")
        with open(tiny, "w") as f:
            f.write("a tiny job measures the fixed overhead of a task process\n" * 16)
        # the most of TINY_RUNS runs: one job of 0.1 s is a few samples, and may miss the
        # moment its first spill imports pyarrow.compute (measured 52-68 MB on one machine)
        overhead = max((run("wordcount.py", [tiny], args.memory, scratch)
                        for _ in range(TINY_RUNS)), key=lambda figures: figures["task"])
        if not overhead["task"]:
            raise SystemExit("bench_memory: found no task process to measure")
        print(f"fixed overhead (peak RSS of a 1 KB job's task process, most of {TINY_RUNS} "
              f"runs): {overhead['task']:.0f} MB; budget {budget_mb:.0f} MB; corpus "
              f"{4 * budget_mb:.0f} MB (4x)")
        print("| job | wall s | peak task RSS MB | budget + overhead MB | peak worker agent MB "
              "| |")
        print("|---|---:|---:|---:|---:|---|")
        for job in args.jobs.split(","):
            figures = run(f"{job}.py", files, args.memory, scratch)
            limit = budget_mb + overhead["task"]
            verdict = "PASS" if figures["task"] <= limit else \
                f"MISS by {figures['task'] - limit:.0f} MB"
            print(f"| {job} | {figures['wall']:.1f} | {figures['task']:.0f} | {limit:.0f} | "
                  f"{figures['worker']:.0f} | {verdict} |")


if __name__ == "__main__":
    main()
