"""Plain-Python baseline: a ``collections.Counter`` in one process.

    python bench/peers/py_counter.py [--bigram] OUTPUT_FILE INPUT_FILE...

Streams each file line by line (memory: one entry per distinct key) and writes the answer
every benchmarked mode must reproduce exactly (see common.py).
"""

from __future__ import annotations

import collections

from common import parse_args, splitter, write_counts


def count(paths: list[str], split) -> collections.Counter[str]:
    counts: collections.Counter[str] = collections.Counter()
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for line in f:
                counts.update(split(line))
    return counts


def main() -> None:
    bigram, out, paths = parse_args()
    write_counts(out, count(paths, splitter(bigram)).items())


if __name__ == "__main__":
    main()
