"""Plain helpers shared by tests of every tier: where things are, writing inputs, reading
job output back. Fixtures live in ``tests/conftest.py`` (shared) or a folder's
``conftest.py`` (that folder's only); no test imports from a ``conftest.py``."""

from __future__ import annotations

import glob
import importlib.util
import os

from zmr.storage.formats import parse_field

#: The repository's root, its example jobs (``jobs/``) and the tests' fixture jobs.
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
EXAMPLES = os.path.join(ROOT, "jobs")
JOBS = os.path.join(ROOT, "tests", "jobs")
#: Whether the C map loops (``zmr._speedups``) were built at install.
BUILT = importlib.util.find_spec("zmr._speedups") is not None


def write_lines(directory, files: int, lines_per_file: int, prefix: str = "w") -> str:
    """``files`` text files of ``lines_per_file`` lines of a few repeating words."""
    os.makedirs(directory, exist_ok=True)
    for f in range(files):
        with open(os.path.join(directory, f"in-{f}.txt"), "w") as out:
            for i in range(lines_per_file):
                out.write(f"{prefix}{(f * 7 + i) % 13} {prefix}{i % 5} line {i}\n")
    return str(directory)


def write_inputs(directory, files: int, boom: bool = False) -> str:
    """``files`` files of 20 short lines; with ``boom`` the first also holds a line that
    ``tests/jobs/fails_on_boom.py`` fails on."""
    os.makedirs(directory, exist_ok=True)
    for f in range(files):
        with open(os.path.join(directory, f"in-{f}.txt"), "w") as out:
            for i in range(20):
                out.write(f"w{i % 7} w{(f + i) % 5}\n")
            if boom and f == 0:
                out.write("boom goes the record\n")
    return str(directory)


def read_parts(output_dir: str) -> list[list[tuple[object, object]]]:
    """The (key, value) pairs of each part file, in file order."""
    parts = []
    for path in sorted(glob.glob(os.path.join(output_dir, "part-*"))):
        with open(path, encoding="utf-8") as f:
            rows = [line.rstrip("\n").split("\t", 1) for line in f]
        parts.append([(parse_field(k), parse_field(v)) for k, v in rows])
    return parts


def read_output(output_dir: str) -> dict[object, object]:
    """All pairs of a job output as a dict (keys made hashable)."""
    out = {}
    for part in read_parts(output_dir):
        for k, v in part:
            out[_hashable(k)] = v
    return out


def _hashable(x):
    return tuple(_hashable(i) for i in x) if isinstance(x, list) else x


def output_bytes(output_dir: str) -> dict[str, bytes]:
    """Every part file's exact bytes (for byte-for-byte comparisons of two runs)."""
    return {os.path.basename(p): open(p, "rb").read()
            for p in sorted(glob.glob(os.path.join(output_dir, "part-*")))}
