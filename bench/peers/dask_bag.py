"""Dask bag word count on the multiprocessing scheduler with 2 workers (same tokeniser as
jobs/wordcount.py). Usage: dask_bag.py OUTPUT_FILE INPUT_FILE..."""

import re
import sys

import dask
import dask.bag as db

WORD = re.compile(r"[a-z0-9']+")


def tokens(line):
    return WORD.findall(line.lower())


def main() -> None:
    bag = db.read_text(sys.argv[2:], blocksize="64MiB")
    counts = bag.map(tokens).flatten().frequencies()
    with dask.config.set(scheduler="processes", num_workers=2):
        result = counts.compute()
    with open(sys.argv[1], "w", encoding="utf-8") as out:
        for word, n in sorted(result):
            out.write(f"{word}\t{n}\n")


if __name__ == "__main__":
    main()
