"""Plain-Python baseline: a ``collections.Counter`` word count in one process.

    python bench/peers/py_counter.py OUTPUT_FILE INPUT_FILE...

Streams each file line by line (memory: one entry per distinct word), tokenises with the
same regex as jobs/wordcount.py and writes ``word<TAB>count`` lines, sorted by word, to
OUTPUT_FILE: the answer every benchmarked mode must reproduce exactly.
"""

from __future__ import annotations

import collections
import re
import sys

WORD = re.compile(r"[a-z0-9']+")   # keep identical to jobs/wordcount.py


def count_words(paths: list[str]) -> collections.Counter[str]:
    """Word counts over every line of every file."""
    counts: collections.Counter[str] = collections.Counter()
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for line in f:
                counts.update(WORD.findall(line.lower()))
    return counts


def main() -> None:
    out_path, *paths = sys.argv[1:]
    counts = count_words(paths)
    with open(out_path, "w", encoding="utf-8") as out:
        for word in sorted(counts):
            out.write(f"{word}\t{counts[word]}\n")


if __name__ == "__main__":
    main()
