"""Hand-written multiprocessing: 2 processes, each counting a byte range of the input with a
``Counter`` (ranges cut at line starts), merged by the parent. What a careful programmer
writes without any framework: the bar zmr's record path is measured against.

    python bench/peers/mp_counter.py [--bigram] OUTPUT_FILE INPUT_FILE...
"""

from __future__ import annotations

import collections
import multiprocessing
import os

from common import parse_args, splitter, write_counts

PROCESSES = 2


def ranges(paths: list[str], parts: int) -> list[list[tuple[str, int, int]]]:
    """Split the total bytes into ``parts`` contiguous pieces of (path, start, end)."""
    sizes = [(p, os.path.getsize(p)) for p in paths]
    total = sum(s for _, s in sizes)
    bounds = [total * i // parts for i in range(parts + 1)]
    out: list[list[tuple[str, int, int]]] = [[] for _ in range(parts)]
    offset = 0
    for path, size in sizes:
        for i in range(parts):
            lo, hi = max(bounds[i], offset), min(bounds[i + 1], offset + size)
            if lo < hi:
                out[i].append((path, lo - offset, hi - offset))
        offset += size
    return out


def count_ranges(job: tuple[bool, list[tuple[str, int, int]]]) -> collections.Counter[str]:
    bigram, pieces = job
    split = splitter(bigram)
    counts: collections.Counter[str] = collections.Counter()
    for path, start, end in pieces:
        with open(path, "rb") as f:
            if start:                       # a line belongs to the range it starts in
                f.seek(start - 1)
                if f.read(1) != b"\n":
                    f.readline()
            while f.tell() < end:
                line = f.readline()
                if not line:
                    break
                counts.update(split(line.decode("utf-8")))
    return counts


def main() -> None:
    bigram, out, paths = parse_args()
    with multiprocessing.get_context("fork").Pool(PROCESSES) as pool:
        parts = pool.map(count_ranges, [(bigram, r) for r in ranges(paths, PROCESSES)])
    total = parts[0]
    for part in parts[1:]:
        total.update(part)
    write_counts(out, total.items())


if __name__ == "__main__":
    main()
