"""Dask bag on dask.distributed: a LocalCluster of 2 worker processes, 1 thread each.

    python bench/peers/dask_distributed.py [--bigram] OUTPUT_FILE INPUT_FILE...
"""

import dask.bag as db
from common import parse_args, splitter, write_counts
from dask.distributed import Client, LocalCluster


def main() -> None:
    bigram, out, paths = parse_args()
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None, host="127.0.0.1") as cluster, Client(cluster):
        bag = db.read_text(paths, blocksize="64MiB")
        result = bag.map(splitter(bigram)).flatten().frequencies().compute()
    write_counts(out, result)


if __name__ == "__main__":
    main()
