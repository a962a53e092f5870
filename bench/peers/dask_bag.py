"""Dask bag on the multiprocessing scheduler with 2 workers (tokeniser of common.py).

    python bench/peers/dask_bag.py [--bigram] OUTPUT_FILE INPUT_FILE...
"""

import dask
import dask.bag as db
from common import parse_args, splitter, write_counts


def main() -> None:
    bigram, out, paths = parse_args()
    bag = db.read_text(paths, blocksize="64MiB")
    counts = bag.map(splitter(bigram)).flatten().frequencies()
    with dask.config.set(scheduler="processes", num_workers=2):
        result = counts.compute()
    write_counts(out, result)


if __name__ == "__main__":
    main()
