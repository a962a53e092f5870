"""Every line once, keyed by its (path, offset), each line costing ``cost_ms`` (a job
parameter; 0 by default) of waiting, and the last tenth of each file ten times that: data
skew in cost, which speculative execution cannot help with and rebalancing can. Values of
a key come out in input order."""

import functools
import os
import time

import zmr


@functools.lru_cache(maxsize=None)
def _size(path):
    return os.path.getsize(path)


def mapper(key, line):
    cost = zmr.param("cost_ms", 0.0, float)
    if cost:
        time.sleep(cost / 1000 * (10 if key[1] >= 0.9 * _size(key[0]) else 1))
    yield line[:2], f"{os.path.basename(key[0])}:{key[1]}"


def reducer(key, values):
    yield key, " ".join(values)
