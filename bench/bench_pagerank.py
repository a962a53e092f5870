"""PageRank: jobs/pagerank.py's driver, a graph job then 5 rounds on one
``zmr.LocalCluster`` of 2 workers (cluster start-up included), against a plain-Python power
iteration of the same 5 rounds in one process, on the same edge list.

    python3 bench/bench_pagerank.py [--nodes 50000] [--edges 500000] [--rounds 5] [--reps 3]

The graph (distinct ``source target`` edges, Zipf-like in-degrees, a fifth of the nodes
dangling) comes from a fixed seed (``gen_shuffle.edges``). Both sides compute
``rank'(v) = (1 - d) / N + d * (sum of rank(u) / outdeg(u) over u -> v + D / N)`` with the
dangling nodes' rank ``D`` spread over all nodes, d = 0.85, from rank 1/N. They run
alternately, each in a fresh ``measure.py`` process (this script again, with ``--run``),
and every zmr answer must equal the plain one to 1e-9 relative for every node. Issue 29's
target: zmr <= 5x plain Python.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import tempfile

BENCH = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, BENCH)    # run as a script from anywhere

import alternate  # noqa: E402

TARGET = 5.0
DAMPING = 0.85


def plain_pagerank(path: str, rounds: int, damping: float = DAMPING) -> dict[str, float]:
    """The power iteration in plain Python, as jobs/pagerank.py defines a round, written as
    a user after speed would: nodes numbered as they are read, ranks and out-links in lists
    indexed by number (twice as fast as the same loop over dicts and sets keyed by name)."""
    number: dict[str, int] = {}
    links: set[tuple[int, int]] = set()
    with open(path, encoding="utf-8") as f:
        for line in f:
            fields = line.split()
            if len(fields) == 2:
                links.add((number.setdefault(fields[0], len(number)),
                           number.setdefault(fields[1], len(number))))
    n = len(number)
    out: list[list[int]] = [[] for _ in range(n)]
    for source, target in links:
        out[source].append(target)
    rank = [1.0 / n] * n
    for _ in range(rounds):
        dangling = sum(r for r, targets in zip(rank, out) if not targets)
        incoming = [0.0] * n
        for r, targets in zip(rank, out):
            if targets:
                share = r / len(targets)
                for target in targets:
                    incoming[target] += share
        base = (1 - damping) / n + damping * dangling / n
        rank = [base + damping * x for x in incoming]
    return dict(zip(number, rank))


def zmr_pagerank(path: str, rounds: int, workers: int = 2) -> dict[str, float]:
    """jobs/pagerank.py's ``pagerank()``: ``rounds`` rounds (tol 0) on one LocalCluster."""
    from bench_profile import pagerank_module     # imports zmr: only in the zmr run

    import zmr
    work = tempfile.mkdtemp(prefix="zmr-pagerank-")
    try:
        with zmr.LocalCluster(workers=workers) as cluster:
            ranks, done = pagerank_module().pagerank(cluster, path, work, damping=DAMPING,
                                                     tol=0.0, max_rounds=rounds)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    assert done == rounds, done
    return ranks


def agree(got: alternate.Answer, want: alternate.Answer) -> str | None:
    if set(got) != set(want):
        return f"{len(set(want) ^ set(got))} nodes differ"
    bad = [n for n in want if not math.isclose(got[n], want[n], rel_tol=1e-9)]
    return f"{len(bad)} ranks differ, e.g. {bad[0]}: {got[bad[0]]} != {want[bad[0]]}" \
        if bad else None


def modes(edges: str, rounds: int) -> dict[str, tuple[str, alternate.Command]]:
    me = os.path.abspath(__file__)
    run = lambda how: (lambda out: [alternate.PY, me, "--run", how, "--rounds", str(rounds),
                                    "--edge-file", edges, "--out", out])  # noqa: E731
    return {"zmr": (f"zmr, LocalCluster of 2 workers, {rounds} rounds", run("zmr")),
            "peer": (f"plain Python, 1 process, {rounds} rounds", run("python"))}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=50_000)
    parser.add_argument("--edges", type=int, default=500_000, help="edges drawn (about)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--reps", type=int, default=3, help="runs per system (median)")
    parser.add_argument("--run", choices=["zmr", "python"], help=argparse.SUPPRESS)
    parser.add_argument("--edge-file", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.run:        # one measured run, in its own process
        how = zmr_pagerank if args.run == "zmr" else plain_pagerank
        ranks = how(args.edge_file, args.rounds)
        with open(args.out, "w", encoding="utf-8") as f:
            f.writelines(f"{node}\t{json.dumps(rank)}\n" for node, rank in ranks.items())
        return
    from gen_shuffle import edges as write_edges     # numpy: not in the measured runs

    scratch = tempfile.mkdtemp(prefix="zmr-pagerank-bench-")
    try:
        edges = os.path.join(scratch, "edges.txt")
        count = write_edges(edges, args.nodes, args.edges)
        chosen = modes(edges, args.rounds)
        results = alternate.run(chosen, args.reps, scratch, agree)
        alternate.report(chosen, results, f"PageRank, {args.nodes:,} nodes, {count:,} edges, "
                         f"{args.rounds} rounds", TARGET)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
