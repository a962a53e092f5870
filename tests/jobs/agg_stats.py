"""REDUCE = name from the environment: one declarative reduction per run (fixture)."""

import os

REDUCE = os.environ.get("ZMR_TEST_REDUCE", "sum")


def mapper(key, line):
    for i, word in enumerate(line.split()):
        yield word[:1], len(word) + i
