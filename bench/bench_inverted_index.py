"""Inverted index: jobs/inverted_index.py on an embedded 2-worker zmr cluster against plain
Python in one process (``peers/py_inverted_index.py``) on the same documents.

    python3 bench/bench_inverted_index.py [--size 20MB] [--reps 3]

The documents are bench/gen_corpus.py's English-like text (seed 42) cut into files of
about 100 KB (``gen_shuffle.documents``). zmr and the peer run alternately, each in a fresh
``measure.py`` process; every zmr answer must equal the peer's, word for word and document
for document. Issue 29's target: zmr at least as fast as the one plain process (<= 1x).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile

BENCH = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, BENCH)    # run as a script from anywhere

import alternate  # noqa: E402
from gen_corpus import parse_size  # noqa: E402
from gen_shuffle import documents  # noqa: E402

TARGET = 1.0


def modes(data: str) -> dict[str, tuple[str, alternate.Command]]:
    peer = os.path.join(BENCH, "peers", "py_inverted_index.py")
    return {"zmr": ("zmr, 2 workers (embedded)",
                    alternate.zmr_run("inverted_index", "--input", data)),
            "peer": ("plain Python, 1 process", lambda out: [alternate.PY, peer, out, data])}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=parse_size, default="20MB", help="bytes of text")
    parser.add_argument("--reps", type=int, default=3, help="runs per system (median)")
    args = parser.parse_args(argv)
    scratch = tempfile.mkdtemp(prefix="zmr-index-")
    try:
        data = os.path.join(scratch, "documents")
        files = documents(data, args.size)
        megabytes = sum(os.path.getsize(f) for f in files) / 1e6
        chosen = modes(data)
        results = alternate.run(chosen, args.reps, scratch, alternate.same_keys_and_values)
        alternate.report(chosen, results, f"inverted index of {megabytes:.1f} MB of text in "
                         f"{len(files)} documents", TARGET)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
