"""Deterministic benchmark corpus: English-like lines of Zipf-distributed words.

The same seed and size always give the same bytes, so figures from different runs and
machines compare. Usage: python bench/gen_corpus.py --size 256MB --out bench/data/corpus-256MB
(writes several files of at most 64 MB into that directory).
"""

from __future__ import annotations

import argparse
import os

import numpy as np

from zmr.storage.splits import parse_size

VOCABULARY = 50_000
ZIPF_EXPONENT = 1.1
LETTERS = np.array(list("etaoinshrdlcumwfgypbvkjxqz"))
FILE_SIZE = 64 << 20


def vocabulary(rng: np.random.Generator) -> list[str]:
    """Distinct pseudo-words, shorter ones more frequent (as in English)."""
    words: set[str] = set()
    while len(words) < VOCABULARY:
        length = int(rng.integers(1, 13))
        letters = rng.choice(LETTERS, size=length, p=_letter_weights())
        words.add("".join(letters))
    return sorted(words, key=lambda w: (len(w), w))


def _letter_weights() -> np.ndarray:
    w = 1.0 / np.arange(1, len(LETTERS) + 1) ** 0.8
    return w / w.sum()


def write_corpus(size: int, out_dir: str, seed: int = 42) -> list[str]:
    rng = np.random.default_rng(seed)
    words = np.array(vocabulary(rng), dtype=object)
    p = 1.0 / np.arange(1, VOCABULARY + 1) ** ZIPF_EXPONENT
    p /= p.sum()
    os.makedirs(out_dir, exist_ok=True)
    paths, written = [], 0
    while written < size:
        path = os.path.join(out_dir, f"part-{len(paths):03d}.txt")
        written += _write_file(path, min(FILE_SIZE, size - written), rng, words, p)
        paths.append(path)
    return paths


def _write_file(path: str, size: int, rng: np.random.Generator, words: np.ndarray,
                p: np.ndarray) -> int:
    written = 0
    with open(path, "w", encoding="ascii") as f:
        while written < size:
            lengths = rng.integers(8, 16, size=2000)
            picks = words[rng.choice(len(words), size=int(lengths.sum()), p=p)]
            cuts = np.cumsum(lengths)[:-1]
            text = "\n".join(" ".join(line) for line in np.split(picks, cuts)) + "\n"
            text = text[: size - written] if written + len(text) > size else text
            if not text.endswith("\n"):
                text = text[: text.rfind("\n") + 1] or text + "\n"
            f.write(text)
            written += len(text)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="256MB")
    parser.add_argument("--out", required=True)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    for path in write_corpus(parse_size(args.size, "--size"), args.out, args.seed):
        print(path)


if __name__ == "__main__":
    main()
