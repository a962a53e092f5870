"""Every map and reduce task takes a while (test fixture for parallelism and joining)."""

import os
import time

DELAY_S = float(os.environ.get("ZMR_TEST_DELAY_S", "0.6"))


def mapper(key, line):
    yield line, 1


def mapper_final():
    time.sleep(DELAY_S)


def reducer(key, values):
    yield key, sum(values)


def reducer_final():
    time.sleep(DELAY_S)
