"""k-means (Lloyd's algorithm), driven from Python on one local cluster (issue 15: iteration).

    python jobs/kmeans.py points.csv --k 3 [--workers 2] [--tol 1e-9]

``points.csv`` holds one point per line, its coordinates separated by commas. The first
``k`` distinct points are the starting centroids (deterministic, so a run can be checked).
Each round is one job: the mapper assigns every point to its nearest centroid (the lowest
index on a tie) and emits ``(index, (sum of coordinates, count))``; the combiner and reducer
add them up. The driver reads the ``k`` small output records, moves each centroid to the
mean of its points (a centroid that lost all its points stays where it was) and stops when
no centroid moved more than ``tol``. A counter of malformed lines is checked every round.

The mapper closes over the current centroids (shipped with cloudpickle): the cluster
starts once for all rounds.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import sys
import tempfile
from typing import Any

import zmr

Point = tuple[float, ...]


def parse_point(line: str) -> Point | None:
    try:
        point = tuple(float(x) for x in line.split(","))
    except ValueError:
        return None
    return point or None


def nearest(point: Point, centroids: list[Point]) -> int:
    distances = [math.dist(point, c) for c in centroids]
    return distances.index(min(distances))


def add(values):
    """Sum of (coordinate sums, count) pairs."""
    total, count = None, 0
    for sums, n in values:
        total = list(sums) if total is None else [a + b for a, b in zip(total, sums, strict=True)]
        count += n
    return total, count


def round_job(centroids: list[Point]) -> dict[str, Any]:
    def mapper(_: Any, line: str):
        point = parse_point(line)
        if point is None or len(point) != len(centroids[0]):
            zmr.increment_counter("kmeans", "bad_lines")
            return
        yield nearest(point, centroids), (point, 1)

    def reducer(index: int, values):
        yield index, add(values)

    return {"mapper": mapper, "combiner": reducer, "reducer": reducer}


def first_points(path: str, k: int) -> list[Point]:
    """The first ``k`` distinct points of the file (or of the files of a directory)."""
    files = sorted(os.path.join(path, f) for f in os.listdir(path)) if os.path.isdir(path) \
        else [path]
    seen: list[Point] = []
    for name in files:
        with open(name, encoding="utf-8") as f:
            for line in f:
                point = parse_point(line)
                if point is not None and point not in seen:
                    seen.append(point)
                    if len(seen) == k:
                        return seen
    raise zmr.InputError(f"{path}: fewer than k={k} distinct points")


def kmeans(cluster: zmr.LocalCluster, points: str, k: int, work_dir: str, tol: float = 1e-9,
           max_rounds: int = 100) -> tuple[list[Point], int]:
    """Final centroids and the number of rounds run, on a running cluster."""
    centroids = first_points(points, k)
    for rounds in range(1, max_rounds + 1):
        out = os.path.join(work_dir, f"round-{rounds}")
        result = cluster.run(**round_job(centroids), input=points, output=out, reducers=1,
                             progress=False)
        if result.counter("kmeans", "bad_lines"):
            raise zmr.InputError(f"{points}: {result.counter('kmeans', 'bad_lines')} lines "
                                 f"are not {len(centroids[0])} comma-separated numbers")
        moved = centroids_from(dict(result.read_pairs()), centroids)
        shutil.rmtree(out)
        shift = max(math.dist(a, b) for a, b in zip(centroids, moved, strict=True))
        centroids = moved
        if shift <= tol:
            break
    return centroids, rounds


def centroids_from(sums: dict[int, Any], old: list[Point]) -> list[Point]:
    return [tuple(s / sums[i][1] for s in sums[i][0]) if i in sums else c
            for i, c in enumerate(old)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("points")
    parser.add_argument("--k", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--tol", type=float, default=1e-9)
    args = parser.parse_args(argv)
    work_dir = tempfile.mkdtemp(prefix="zmr-kmeans-")
    try:
        with zmr.LocalCluster(workers=args.workers) as cluster:
            centroids, rounds = kmeans(cluster, args.points, args.k, work_dir, args.tol)
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
    for centroid in centroids:
        print(",".join(f"{x:.6f}" for x in centroid))
    print(f"converged after {rounds} rounds", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
