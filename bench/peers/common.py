"""What every peer program shares: the command line, the tokeniser, writing the answer.

    PEER.py [--bigram] OUTPUT_FILE INPUT_FILE...

Word count counts ``[a-z0-9']+`` tokens of each lowercased line (the tokeniser of
jobs/wordcount.py); ``--bigram`` counts adjacent token pairs within a line, keyed
``"first second"`` (jobs/bigram.py). The answer is ``key<TAB>count`` lines sorted by key, so
the harness can compare every program's with the plain Counter's.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from itertools import pairwise

WORD = re.compile(r"[a-z0-9']+")
WORD_SQL = "[a-z0-9'']+"        # the same pattern inside a SQL string literal


def parse_args() -> tuple[bool, str, list[str]]:
    args = sys.argv[1:]
    bigram = bool(args) and args[0] == "--bigram"
    if bigram:
        args = args[1:]
    return bigram, args[0], args[1:]


def tokens(line: str) -> list[str]:
    return WORD.findall(line.lower())


def bigrams(line: str) -> list[str]:
    return [f"{a} {b}" for a, b in pairwise(WORD.findall(line.lower()))]


def write_counts(path: str, counts: Iterable[tuple[str, int]]) -> None:
    with open(path, "w", encoding="utf-8") as out:
        for key, n in sorted(counts):
            out.write(f"{key}\t{n}\n")
