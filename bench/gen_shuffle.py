"""Inputs of the shuffle-heavy benchmarks of issue 29, deterministic (fixed seeds: same
arguments, same bytes):

* ``visits(out_dir, count)``: ``user,time,url`` lines for jobs/secondary_sort.py, a user's
  visits at distinct seconds of 2026 (so "each user's visits in time order" has exactly one
  answer, and zmr and DuckDB can be compared line for line);
* ``edges(path, nodes, count)``: a ``source target`` edge list for jobs/pagerank.py,
  distinct edges, Zipf-like in-degrees, some nodes without out-links (dangling);
* ``documents(out_dir, size)``: bench/gen_corpus.py's English-like text cut into documents
  of about 100 KB (``doc-NNNNN.txt``) for jobs/inverted_index.py.

    python3 bench/gen_shuffle.py visits OUT_DIR [--count 1000000]
    python3 bench/gen_shuffle.py edges OUT_FILE [--nodes 50000] [--count 500000]
    python3 bench/gen_shuffle.py documents OUT_DIR [--size 20MB]
"""

from __future__ import annotations

import argparse
import os
import tempfile

import numpy as np

from gen_corpus import parse_size, write_corpus

YEAR_START = np.datetime64("2026-01-01T00:00:00")
YEAR_SECONDS = 365 * 86_400
DOCUMENT_BYTES = 100_000


def visits(out_dir: str, count: int, users: int = 0, files: int = 4, seed: int = 29
           ) -> list[str]:
    """About ``count`` lines (a few fewer: a user's repeated second is dropped) over
    ``files`` files; ``users`` defaults to ``count // 20``."""
    gen = np.random.default_rng(seed)
    users = users or max(1, count // 20)
    user = gen.integers(0, users, count)
    second = gen.integers(0, YEAR_SECONDS, count)
    _, first = np.unique(user * YEAR_SECONDS + second, return_index=True)
    first.sort()                                     # keep the drawing order
    user, second = user[first], second[first]
    page = (gen.zipf(1.2, len(user)) - 1) % 5000
    times = np.datetime_as_string(YEAR_START + second.astype("timedelta64[s]"), unit="s")
    lines = [f"u{u},{t},/p/{p}\n" for u, t, p in zip(user.tolist(), times.tolist(),
                                                     page.tolist())]
    return _write_parts(out_dir, lines, files, "visits")


def edges(path: str, nodes: int, count: int, seed: int = 29) -> int:
    """Write about ``count`` distinct edges among ``nodes`` nodes; returns how many."""
    gen = np.random.default_rng(seed)
    # sources: a fifth of the nodes never link anywhere (dangling), the rest uniformly;
    # targets: Zipf-like, so a few nodes gather much rank
    linking = max(1, nodes * 4 // 5)
    source = gen.integers(0, linking, count)
    target = (gen.zipf(1.1, count) - 1 + gen.integers(0, nodes, count) // 50) % nodes
    keep = source != target
    pairs = np.unique(source[keep].astype(np.int64) * nodes + target[keep])
    pairs = pairs[gen.permutation(len(pairs))]        # not in sorted order in the file
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w", encoding="ascii") as out:
        out.writelines(f"n{s} n{t}\n" for s, t in zip((pairs // nodes).tolist(),
                                                     (pairs % nodes).tolist()))
    return len(pairs)


def documents(out_dir: str, size: int, seed: int = 42) -> list[str]:
    """gen_corpus's text of about ``size`` bytes, cut at line ends into documents of about
    100 KB each."""
    os.makedirs(out_dir, exist_ok=True)
    paths: list[str] = []
    with tempfile.TemporaryDirectory(prefix="zmr-docs-") as scratch:
        for part in write_corpus(size, scratch, seed):
            with open(part, "rb") as f:
                text = f.read()
            start = 0
            while start < len(text):
                end = text.find(b"\n", start + DOCUMENT_BYTES)
                end = len(text) if end < 0 else end + 1
                paths.append(os.path.join(out_dir, f"doc-{len(paths):05d}.txt"))
                with open(paths[-1], "wb") as out:
                    out.write(text[start:end])
                start = end
    return paths


def _write_parts(out_dir: str, lines: list[str], files: int, name: str) -> list[str]:
    os.makedirs(out_dir, exist_ok=True)
    paths = []
    for i in range(files):
        paths.append(os.path.join(out_dir, f"{name}-{i:04d}.csv"))
        with open(paths[-1], "w", encoding="ascii") as out:
            out.writelines(lines[i * len(lines) // files:(i + 1) * len(lines) // files])
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=["visits", "edges", "documents"])
    parser.add_argument("out")
    parser.add_argument("--count", type=int, help="visits (1,000,000) or edges (500,000)")
    parser.add_argument("--nodes", type=int, default=50_000)
    parser.add_argument("--size", type=parse_size, default="20MB", help="documents' text")
    args = parser.parse_args()
    if args.what == "visits":
        print(f"{len(visits(args.out, args.count or 1_000_000))} files in {args.out}")
    elif args.what == "edges":
        print(f"{edges(args.out, args.nodes, args.count or 500_000):,} edges in {args.out}")
    else:
        print(f"{len(documents(args.out, args.size))} documents in {args.out}")


if __name__ == "__main__":
    main()
