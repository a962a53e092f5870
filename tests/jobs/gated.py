"""Word count whose map tasks wait at the end until a gate file exists (``ZMR_TEST_GATE``),
so a test can do things while the job is certainly running."""

import os
import time


def mapper(key, line):
    for word in line.split():
        yield word, 1


def mapper_final():
    gate = os.environ.get("ZMR_TEST_GATE", "")
    deadline = time.monotonic() + 300
    while gate and not os.path.exists(gate) and time.monotonic() < deadline:
        time.sleep(0.05)


def reducer(key, values):
    yield key, sum(values)
