"""What every peer program shares: the command line, the tokeniser, writing the answer.

    PEER.py [--bigram] [--tokeniser split] OUTPUT_FILE INPUT_FILE...

Word count counts ``[a-z0-9']+`` tokens of each lowercased line (the tokeniser of
jobs/wordcount.py); ``--bigram`` counts adjacent token pairs within a line, keyed
``"first second"`` (jobs/bigram.py). ``--tokeniser split`` takes ``line.split()`` as it
is instead (jobs/wordcount_split.py), the cheapest tokeniser, which leaves the engine's
own per-pair cost most visible; peers that tokenise in SQL or in their own kernels
(DuckDB, polars, Spark DataFrame) only do the regex. The answer is ``key<TAB>count`` lines
sorted by key, so
the harness can compare every program's with the plain Counter's.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable
from itertools import pairwise

WORD = re.compile(r"[a-z0-9']+")
WORD_SQL = "[a-z0-9'']+"        # the same pattern inside a SQL string literal


#: Set by parse_args: "regex" or "split".
TOKENISER = "regex"


def parse_args() -> tuple[bool, str, list[str]]:
    global TOKENISER
    args = sys.argv[1:]
    bigram = "--bigram" in args[:3]
    if bigram:
        args.remove("--bigram")
    if args[:1] == ["--tokeniser"]:
        TOKENISER, args = args[1], args[2:]
        if TOKENISER not in ("regex", "split"):
            raise SystemExit(f"--tokeniser must be regex or split, got {TOKENISER!r}")
    return bigram, args[0], args[1:]


def splitter(bigram: bool) -> Callable[[str], list[str]]:
    """The per-line function giving the keys to count, for the chosen tokeniser."""
    if TOKENISER == "split":
        return split_bigrams if bigram else str.split
    return bigrams if bigram else tokens


def tokens(line: str) -> list[str]:
    return WORD.findall(line.lower())


def bigrams(line: str) -> list[str]:
    return [f"{a} {b}" for a, b in pairwise(WORD.findall(line.lower()))]


def split_bigrams(line: str) -> list[str]:
    return [f"{a} {b}" for a, b in pairwise(line.split())]


def write_counts(path: str, counts: Iterable[tuple[str, int]]) -> None:
    with open(path, "w", encoding="utf-8") as out:
        for key, n in sorted(counts):
            out.write(f"{key}\t{n}\n")
