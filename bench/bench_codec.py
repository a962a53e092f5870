"""The compiled key codec and grouping (issue 29): jobs with tuple keys or values run
``--inline`` with zmr's C extension and with ``ZMR_PURE_PYTHON=1`` (the pure-Python codec,
grouping and map loops), alternately, outputs compared byte for byte.

    python3 bench/bench_codec.py [--scale 1.0] [--reps 3] [--before CHECKOUT]

Workloads (inputs generated from fixed seeds into a scratch directory; ``--scale 1`` is
the size docs/benchmarks.md reports):

* ``secondary_sort``: jobs/secondary_sort.py (``GROUP_BY = 1``, keys ``(user, date)``) on
  400 k ``user,date,url`` lines of 20 k users;
* ``join``: jobs/join.py (values tagged tuples, two steps) on bench/gen_join.py's 30 k
  rankings x 600 k visits;
* ``inverted_index``: jobs/inverted_index.py (list values) on 12 MiB of bench/gen_corpus.py
  text in 24 documents;
* ``pagerank``: one round of jobs/pagerank.py (tuple values, 400 k links of 40 k nodes).

``--before CHECKOUT`` adds a third configuration: the same jobs with another zmr checkout on
PYTHONPATH (e.g. one before the change; its own C extension, if built, is used). Each run
is timed by /usr/bin/time-like rusage of the child: wall and CPU (user + sys) seconds; the
medians are printed, CPU being the steadier on a shared machine.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
JOBS = os.path.join(ROOT, "jobs")
sys.path.insert(0, BENCH)    # run as a script from anywhere

from gen_corpus import write_corpus  # noqa: E402
from gen_join import generate as generate_join  # noqa: E402

ROUND_JOB = f"""import sys
sys.path.insert(0, {JOBS!r})
from pagerank import (round_mapper as mapper, round_mapper_init as mapper_init,
                      round_mapper_final as mapper_final, round_reducer as reducer)
PARAMS = {{"nodes": "NODES", "damping": "0.85", "dangling_mass": "0.0"}}
"""


def make_visits(folder: str, lines: int) -> None:
    rng = random.Random(1)
    os.makedirs(folder)
    with open(os.path.join(folder, "part-0.txt"), "w", encoding="utf-8") as f:
        for _ in range(lines):
            f.write(f"user{rng.randrange(20000)},2000-{rng.randrange(1, 13):02d}-"
                    f"{rng.randrange(1, 29):02d},http://site{rng.randrange(5000)}.com/"
                    f"p{rng.randrange(100)}\n")


def make_documents(folder: str, size: int, documents: int = 24) -> None:
    lines: list[str] = []
    for path in write_corpus(size, folder + "-raw", seed=42):
        with open(path, encoding="utf-8") as f:
            lines += f.readlines()
    os.makedirs(folder)
    step = -(-len(lines) // documents)
    for d in range(documents):
        with open(os.path.join(folder, f"doc{d:02d}.txt"), "w", encoding="utf-8") as f:
            f.writelines(lines[d * step:(d + 1) * step])


def make_graph_state(scratch: str, links: int, nodes: int) -> str:
    """A PageRank round's input: the graph step of jobs/pagerank.py run on random links."""
    rng = random.Random(5)
    edges = os.path.join(scratch, "edges")
    os.makedirs(edges)
    with open(os.path.join(edges, "e.txt"), "w", encoding="utf-8") as f:
        for _ in range(links):
            f.write(f"n{int(rng.paretovariate(1.2)) % nodes} n{rng.randrange(nodes)}\n")
    build = os.path.join(scratch, "pr_build.py")
    with open(build, "w", encoding="utf-8") as f:
        f.write(f"import sys\nsys.path.insert(0, {JOBS!r})\n"
                "from pagerank import build_mapper as mapper, build_reducer as reducer\n")
    state = os.path.join(scratch, "graph")
    subprocess.run([sys.executable, "-m", "zmr", "run", build, "-i", edges, "-o", state,
                    "--inline", "--quiet"], check=True, env={**os.environ, "PYTHONPATH": ROOT})
    return state


def workloads(scratch: str, scale: float) -> dict[str, list[str]]:
    """Name -> ``zmr run`` arguments (job and inputs), generating the inputs."""
    visits, docs = os.path.join(scratch, "visits"), os.path.join(scratch, "docs")
    make_visits(visits, int(400_000 * scale))
    generate_join(os.path.join(scratch, "join"), max(50, int(30_000 * scale)),
                  int(600_000 * scale), 2)
    make_documents(docs, int(12 * 2**20 * scale))
    nodes = max(100, int(40_000 * scale))
    state = make_graph_state(scratch, int(400_000 * scale), nodes)
    round_job = os.path.join(scratch, "pr_round.py")
    with open(round_job, "w", encoding="utf-8") as f:
        f.write(ROUND_JOB.replace("NODES", str(nodes)))
    join = os.path.join(scratch, "join")
    return {"secondary_sort": [os.path.join(JOBS, "secondary_sort.py"), "-i", visits],
            "join": [os.path.join(JOBS, "join.py"), "-i", f"rankings={join}/rankings",
                     "-i", f"visits={join}/uservisits"],
            "inverted_index": [os.path.join(JOBS, "inverted_index.py"), "-i", docs],
            "pagerank": [round_job, "-i", state]}


def timed_run(args: list[str], out: str, env: dict[str, str]) -> tuple[float, float]:
    """(wall, CPU) seconds of one ``zmr run --inline`` in a child process, run in the
    output's folder: ``python -m`` puts its working directory first on sys.path, so from
    a checkout it would import that checkout's zmr whatever PYTHONPATH says."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "zmr", "run", *args, "-o", out, "--inline",
                    "--quiet"], check=True, env=env, stdout=subprocess.DEVNULL,
                   cwd=os.path.dirname(out))
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def configurations(before: str | None) -> dict[str, dict[str, str]]:
    env = {k: v for k, v in os.environ.items() if k != "ZMR_PURE_PYTHON"}
    configs = {"C": {**env, "PYTHONPATH": ROOT},
               "pure Python": {**env, "PYTHONPATH": ROOT, "ZMR_PURE_PYTHON": "1"}}
    if before:
        configs["before"] = {**env, "PYTHONPATH": os.path.abspath(before)}
    return configs


def outputs_identical(a: str, b: str) -> bool:
    names = sorted(n for n in os.listdir(a) if n.startswith("part-"))
    return names == sorted(n for n in os.listdir(b) if n.startswith("part-")) and all(
        filecmp.cmp(os.path.join(a, n), os.path.join(b, n), shallow=False) for n in names)


def print_table(jobs: dict[str, list[str]], configs: dict[str, dict[str, str]],
                times: dict[tuple[str, str], list[tuple[float, float]]]) -> None:
    """Medians of wall and CPU seconds, and each configuration's CPU over C's."""
    others = [c for c in configs if c != "C"]
    print(f"| job | {' | '.join(f'{c} wall / CPU s' for c in configs)} | "
          f"{' | '.join(f'{c} / C CPU' for c in others)} |")
    print(f"|---|{'---:|' * (len(configs) + len(others))}")
    for job in jobs:
        wall = {c: statistics.median(t[0] for t in times[job, c]) for c in configs}
        cpu = {c: statistics.median(t[1] for t in times[job, c]) for c in configs}
        print(f"| {job} | " + " | ".join(f"{wall[c]:.2f} / {cpu[c]:.2f}" for c in configs)
              + " | " + " | ".join(f"{cpu[c] / cpu['C']:.2f}x" for c in others) + " |")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scale", type=float, default=1.0, help="input size factor")
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--before", help="another zmr checkout to time the same way")
    args = p.parse_args()
    scratch = tempfile.mkdtemp(prefix="zmr-bench-codec-")
    try:
        jobs, configs = workloads(scratch, args.scale), configurations(args.before)
        times = {(job, c): [] for job in jobs for c in configs}
        for _ in range(args.reps):
            for job, job_args in jobs.items():
                outs = {}
                for name, env in configs.items():      # alternated, rep after rep
                    outs[name] = os.path.join(scratch, f"out-{job}-{len(outs)}")
                    shutil.rmtree(outs[name], ignore_errors=True)
                    times[job, name].append(timed_run(job_args, outs[name], env))
                first = next(iter(outs.values()))
                if not all(outputs_identical(first, o) for o in outs.values()):
                    print(f"{job}: outputs differ between {list(outs)}", file=sys.stderr)
                    return 1
        print_table(jobs, configs, times)
        print(f"outputs identical in every configuration, {args.reps} reps")
        return 0
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
