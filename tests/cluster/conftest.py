"""A real local cluster (coordinator + worker processes on 127.0.0.1) for cluster tests."""

from __future__ import annotations

import os

import pytest

from zmr.runners.local import LocalCluster

JOBS = os.path.join(os.path.dirname(__file__), "..", "jobs")
EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "jobs")


@pytest.fixture(scope="module")
def cluster3(tmp_path_factory):
    with LocalCluster(workers=3, base_dir=str(tmp_path_factory.mktemp("cluster3"))) as c:
        yield c


def write_lines(directory, files: int, lines_per_file: int, prefix: str = "w") -> str:
    os.makedirs(directory, exist_ok=True)
    for f in range(files):
        with open(os.path.join(directory, f"in-{f}.txt"), "w") as out:
            for i in range(lines_per_file):
                out.write(f"{prefix}{(f * 7 + i) % 13} {prefix}{i % 5} line {i}\n")
    return str(directory)
