"""Small helpers shared by tests: reading job output back, naive reference computations."""

from __future__ import annotations

import glob
import os

from zmr.storage.formats import parse_field


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
