"""Deterministic benchmark corpus: English-like lines of Zipf-distributed words.

    python bench/gen_corpus.py --size 256MB --out bench/data/my-corpus [--seed 42]

Writes ``part-000.txt``, ``part-001.txt``, ... (at most 64 MiB each, whole lines, ASCII)
into ``--out`` and prints their paths. The same size and seed always give the same bytes,
so figures from different runs and machines compare.

The text: lines of 8 to 15 words separated by single spaces, words drawn with Zipf(1.0)
weights from a vocabulary of 50,000 words. The 100 most frequent are the commonest English
words (the, of, and, ...), the rest pronounceable pseudo-words, shorter ones more frequent,
as in English: "the" is 9% of the words, the top 100 about 45%, and a word averages 4.2
letters. The work is done by numpy a whole chunk at a time: 256 MB in about 13 s on the
project's 2-core machine, mostly writing.
"""

from __future__ import annotations

import argparse
import os
import re

import numpy as np

VOCABULARY = 50_000
ZIPF_EXPONENT = 1.0
WORDS_PER_LINE = (8, 15)
FILE_SIZE = 64 << 20
LINES_PER_CHUNK = 100_000         # ~6 MB of text per numpy pass
COMMON = """the of and to a in is it you that he was for on are with as i his they be at
    one have this from or had by not word but what some we can out other were all there
    when up use your how said an each she which do their time if will way about many then
    them write would like so these her long make thing see him two has look more day could
    go come did number sound no most people my over know water than call first who may
    down side been now find""".split()
ONSETS = ("", "b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t",
          "v", "w", "y", "z", "bl", "br", "ch", "cl", "cr", "dr", "fl", "fr", "gl", "gr",
          "pl", "pr", "sc", "sh", "sk", "sl", "sp", "st", "str", "th", "tr", "wh")
NUCLEI = ("a", "e", "i", "o", "u", "a", "e", "i", "o", "ai", "ea", "ee", "oa", "oo", "ou")
CODAS = ("", "", "", "b", "ck", "d", "g", "l", "ll", "m", "n", "nd", "ng", "nt", "r", "rd",
         "rn", "s", "ss", "st", "t", "th", "x")
SYLLABLES_P = (0.3, 0.42, 0.2, 0.08)   # chance of a word having 1, 2, 3 or 4 syllables


def parse_size(text: str) -> int:
    """'256MB', '64MiB', '1.5GB', '4096' -> bytes (powers of two, as in ``zmr --split-size``)."""
    m = re.fullmatch(r"\s*([\d.]+)\s*([KMGT]?)I?B?\s*", text.upper())
    if not m:
        raise argparse.ArgumentTypeError(f"not a size: {text!r}")
    return int(float(m.group(1)) * 1024 ** " KMGT".index(m.group(2) or " "))


def vocabulary(rng: np.random.Generator) -> list[str]:
    """The words by rank: common English first, then pseudo-words, roughly short to long."""
    words = dict.fromkeys(COMMON)
    pseudo: dict[str, None] = {}
    while len(words) + len(pseudo) < VOCABULARY:
        for word in _pseudo_words(rng, VOCABULARY):
            if word not in words:
                pseudo[word] = None
    rest = list(pseudo)[: VOCABULARY - len(words)]
    # rank by length plus noise: short words are frequent, but not strictly in length order
    order = np.argsort(np.array([len(w) for w in rest]) + rng.normal(0, 2.0, len(rest)),
                       kind="stable")
    return list(words) + [rest[i] for i in order]


def _pseudo_words(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` pronounceable words (onset + nucleus syllables, then a coda), duplicates allowed."""
    syllables = 1 + rng.choice(len(SYLLABLES_P), size=n, p=SYLLABLES_P)
    onsets = rng.integers(len(ONSETS), size=(n, len(SYLLABLES_P)))
    nuclei = rng.integers(len(NUCLEI), size=(n, len(SYLLABLES_P)))
    codas = rng.integers(len(CODAS), size=n)
    rows = zip(syllables.tolist(), onsets.tolist(), nuclei.tolist(), codas.tolist(),
               strict=True)
    return ["".join(ONSETS[o] + NUCLEI[v] for o, v in zip(on[:k], nu[:k], strict=True))
            + CODAS[c] for k, on, nu, c in rows]


class Lexicon:
    """The vocabulary as one byte blob (each word followed by a space) plus its Zipf CDF."""

    def __init__(self, words: list[str]) -> None:
        encoded = [w.encode("ascii") + b" " for w in words]
        self.blob = np.frombuffer(b"".join(encoded), dtype=np.uint8)
        self.lengths = np.array([len(e) for e in encoded], dtype=np.int64)
        self.starts = np.cumsum(self.lengths) - self.lengths
        weights = 1.0 / np.arange(1, len(words) + 1) ** ZIPF_EXPONENT
        self.cdf = np.cumsum(weights / weights.sum())

    def chunk(self, rng: np.random.Generator) -> np.ndarray:
        """``LINES_PER_CHUNK`` lines of text as uint8 bytes, each ending in a newline."""
        low, high = WORDS_PER_LINE
        per_line = rng.integers(low, high + 1, size=LINES_PER_CHUNK)
        ids = np.searchsorted(self.cdf, rng.random(int(per_line.sum())), side="right")
        ids = np.minimum(ids, len(self.cdf) - 1)      # guard against cdf[-1] < 1.0 by rounding
        sizes = self.lengths[ids]
        out_starts = np.cumsum(sizes) - sizes
        # byte j of the chunk is byte (j - out_start + word_start) of the blob, for its word
        gather = np.arange(int(sizes.sum())) + np.repeat(self.starts[ids] - out_starts, sizes)
        text = self.blob[gather]
        text[(out_starts + sizes)[np.cumsum(per_line) - 1] - 1] = ord("\n")   # last space
        return text


def write_corpus(size: int, out_dir: str, seed: int = 42) -> list[str]:
    """Write about ``size`` bytes (less by under a line per file) into ``out_dir``."""
    rng = np.random.default_rng(seed)
    lexicon = Lexicon(vocabulary(rng))
    os.makedirs(out_dir, exist_ok=True)
    targets = [FILE_SIZE] * (size // FILE_SIZE) + ([size % FILE_SIZE] if size % FILE_SIZE else [])
    paths = []
    for i, target in enumerate(targets):
        paths.append(os.path.join(out_dir, f"part-{i:03d}.txt"))
        _write_file(paths[-1], target, lexicon, rng)
    return paths


def _write_file(path: str, target: int, lexicon: Lexicon, rng: np.random.Generator) -> int:
    """Fill one file with whole lines, up to ``target`` bytes; returns the bytes written."""
    written = 0
    with open(path, "wb") as f:
        while True:
            text = lexicon.chunk(rng)
            if written + len(text) > target:          # last chunk: cut after a newline
                newlines = np.flatnonzero(text[: target - written] == ord("\n"))
                text = text[: newlines[-1] + 1] if len(newlines) else text[:0]
                f.write(text.tobytes())
                return written + len(text)
            f.write(text.tobytes())
            written += len(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=parse_size, default="256MB")
    parser.add_argument("--out", required=True)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    for path in write_corpus(args.size, args.out, args.seed):
        print(path)


if __name__ == "__main__":
    main()
