"""The iteration examples (jobs/pagerank.py, jobs/kmeans.py): Python driver loops on one
LocalCluster, reading counters and small outputs between rounds, checked against plain
Python implementations of the same algorithms."""

from __future__ import annotations

import importlib.util
import math
import os
import random

import pytest

import zmr
from tests.helpers import EXAMPLES


def _example(name):
    spec = importlib.util.spec_from_file_location(f"example_{name}",
                                                  os.path.join(EXAMPLES, f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    with zmr.LocalCluster(workers=2, base_dir=str(tmp_path_factory.mktemp("iter"))) as c:
        yield c


def _pagerank_oracle(edges, damping, rounds):
    nodes = sorted({n for edge in edges for n in edge})
    out = {n: sorted({t for s, t in edges if s == n}) for n in nodes}
    rank = {n: 1 / len(nodes) for n in nodes}
    for _ in range(rounds):
        dangling = sum(rank[n] for n in nodes if not out[n])
        new = {n: (1 - damping) / len(nodes) + damping * dangling / len(nodes) for n in nodes}
        for n in nodes:
            for t in out[n]:
                new[t] += damping * rank[n] / len(out[n])
        rank = new
    return rank


def test_pagerank_converges_like_plain_python_with_dangling_nodes(cluster, tmp_path):
    rng = random.Random(7)
    edges = sorted({(f"n{rng.randrange(20)}", f"n{rng.randrange(24)}") for _ in range(60)})
    edges += [("n3", "sink1"), ("n5", "sink2")]          # nodes without out-links
    (tmp_path / "edges.txt").write_text("".join(f"{s} {t}\n" for s, t in edges))
    pagerank = _example("pagerank")
    ranks, rounds = pagerank.pagerank(cluster, str(tmp_path / "edges.txt"), str(tmp_path),
                                      damping=0.5, tol=1e-6)
    assert 3 < rounds < 60
    oracle = _pagerank_oracle(edges, 0.5, rounds)
    assert sorted(ranks) == sorted(oracle)
    assert all(abs(ranks[n] - oracle[n]) < 1e-12 for n in oracle), "not the same rounds"
    assert abs(sum(ranks.values()) - 1) < 1e-9            # no rank leaked at dangling nodes
    converged = _pagerank_oracle(edges, 0.5, 200)
    assert all(abs(ranks[n] - converged[n]) < 1e-5 for n in oracle)


def _kmeans_oracle(points, centroids, rounds):
    for _ in range(rounds):
        groups = {}
        for p in points:
            d = [math.dist(p, c) for c in centroids]
            groups.setdefault(d.index(min(d)), []).append(p)
        centroids = [tuple(sum(x) / len(groups[i]) for x in zip(*groups[i])) if i in groups
                     else c for i, c in enumerate(centroids)]
    return centroids


def test_kmeans_converges_like_plain_python(cluster, tmp_path):
    rng = random.Random(3)
    points = [(rng.gauss(cx, 1.0), rng.gauss(cy, 1.0))
              for cx, cy in [(0, 0), (6, 6), (0, 8)] for _ in range(50)]
    rng.shuffle(points)
    (tmp_path / "points").mkdir()
    for part in range(3):                                 # several files: several maps
        (tmp_path / "points" / f"p{part}.csv").write_text(
            "".join(f"{x!r},{y!r}\n" for x, y in points[part::3]))
    kmeans = _example("kmeans")
    start = kmeans.first_points(str(tmp_path / "points"), 3)
    centroids, rounds = kmeans.kmeans(cluster, str(tmp_path / "points"), 3,
                                      str(tmp_path / "work"))
    assert 1 < rounds < 100
    oracle = _kmeans_oracle(points, start, rounds)
    assert all(math.dist(a, b) < 1e-9 for a, b in zip(centroids, oracle, strict=True))
    again = _kmeans_oracle(points, oracle, 1)       # converged: one more round moves nothing
    assert all(math.dist(a, b) < 1e-9 for a, b in zip(again, oracle, strict=True))
    (tmp_path / "points" / "p9.csv").write_text("1.0,2.0\nnot a point\n")
    with pytest.raises(zmr.InputError, match="1 lines are not 2 comma-separated numbers"):
        kmeans.kmeans(cluster, str(tmp_path / "points"), 3, str(tmp_path / "work2"))
