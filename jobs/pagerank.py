"""PageRank to convergence, driven from Python on one local cluster (issue 15: iteration).

    python jobs/pagerank.py edges.txt [--workers 2] [--damping 0.85] [--tol 1e-8]

``edges.txt`` holds one ``source target`` pair per line. A first job builds the graph
(each node with its sorted out-links; counters say how many nodes there are and how many
have no out-links), then one job per round computes

    rank'(v) = (1 - d) / N + d * (sum of rank(u) / outdeg(u) over links u -> v + D / N)

where D is the rank held by dangling nodes (no out-links), spread evenly over all nodes as
if they linked to every node (the usual fix; without it rank leaks away). The driver learns D
and the round's total change from the round's counters, so it reads no output between
rounds, and stops when the change is under ``tol``. Counters are integers: those two
sums are kept in units of 1e-15 (``SCALE``), far below any tolerance one would ask for.

Every round is a job of the same functions (a mapper with its init and final hooks and a
reducer, shipped to the workers with cloudpickle) given the round's numbers as job
parameters (``params={"nodes": N, "dangling_mass": D, "damping": d}``, read with
``zmr.param``); the cluster starts once.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from typing import Any

import zmr

SCALE = 10**15
GROUP = "pagerank"


def build_mapper(_: Any, line: str):
    """``source target``: the link, and the target as a node in its own right."""
    fields = line.split()
    if len(fields) == 2:
        yield fields[0], fields[1]
        yield fields[1], None


def build_reducer(node: str, targets):
    zmr.increment_counter(GROUP, "nodes")
    out = sorted({t for t in targets if t is not None})
    if not out:
        zmr.increment_counter(GROUP, "dangling_nodes")
    yield node, {"out": out, "rank": None}


# target -> the rank its in-links in this map task send it (see round_mapper)
_incoming: dict[str, float] = {}


def round_mapper_init() -> None:
    _incoming.clear()


def round_mapper(_: Any, line: str):
    """A node's state: its links. Its share of rank for each target is added up per target
    over the whole map task and emitted once, by ``round_mapper_final`` (in-mapper
    combining: one record per target and task, where one per link would be ten times as
    many to sort and shuffle)."""
    node, state = line.split("\t", 1)
    state = json.loads(state)
    rank = 1.0 / zmr.param("nodes", type=int) if state["rank"] is None else state["rank"]
    out = state["out"]
    yield node, ("node", out, rank)
    if out:
        share = rank / len(out)
        for target in out:
            _incoming[target] = _incoming.get(target, 0.0) + share


def round_mapper_final():
    for target, incoming in _incoming.items():
        yield target, ("share", incoming)
    _incoming.clear()


def round_reducer(node: str, values):
    """The node's new rank; its change and (if dangling) its rank go to the counters."""
    nodes, damping = zmr.param("nodes", type=int), zmr.param("damping", type=float)
    out, old, incoming = [], 0.0, 0.0
    for value in values:
        if value[0] == "node":
            out, old = value[1], value[2]
        else:
            incoming += value[1]
    rank = (1 - damping) / nodes + damping * (
        incoming + zmr.param("dangling_mass", type=float) / nodes)
    zmr.increment_counter(GROUP, "change", round(abs(rank - old) * SCALE))
    if not out:
        zmr.increment_counter(GROUP, "dangling_mass", round(rank * SCALE))
    yield node, {"out": out, "rank": rank}


def pagerank(cluster: zmr.LocalCluster, edges: str, work_dir: str, damping: float = 0.85,
             tol: float = 1e-8, max_rounds: int = 200, reducers: int = 2
             ) -> tuple[dict[str, float], int]:
    """Ranks by node and the number of rounds run, on a running cluster."""
    graph = cluster.run(mapper=build_mapper, reducer=build_reducer, input=edges,
                        output=os.path.join(work_dir, "round-0"), reducers=reducers,
                        progress=False)
    nodes = graph.counter(GROUP, "nodes")
    if nodes == 0:
        raise zmr.InputError(f"{edges}: no 'source target' lines")
    mass = graph.counter(GROUP, "dangling_nodes") / nodes      # every node starts at 1/N
    previous, rounds = graph, 0
    for rounds in range(1, max_rounds + 1):
        result = cluster.run(mapper=round_mapper, reducer=round_reducer,
                             mapper_init=round_mapper_init, mapper_final=round_mapper_final,
                             input=previous.output,
                             output=os.path.join(work_dir, f"round-{rounds}"),
                             params={"nodes": nodes, "dangling_mass": mass,
                                     "damping": damping},
                             reducers=reducers, progress=False)
        shutil.rmtree(previous.output)
        previous, mass = result, result.counter(GROUP, "dangling_mass") / SCALE
        if result.counter(GROUP, "change") / SCALE < tol:
            break
    return {node: state["rank"] for node, state in previous.read_pairs()}, rounds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("edges")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--damping", type=float, default=0.85)
    parser.add_argument("--tol", type=float, default=1e-8)
    args = parser.parse_args(argv)
    work_dir = tempfile.mkdtemp(prefix="zmr-pagerank-")
    try:
        with zmr.LocalCluster(workers=args.workers) as cluster:
            ranks, rounds = pagerank(cluster, args.edges, work_dir, args.damping, args.tol)
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
    for node, rank in sorted(ranks.items(), key=lambda item: (-item[1], item[0])):
        print(f"{node}\t{rank:.10f}")
    print(f"converged after {rounds} rounds", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
