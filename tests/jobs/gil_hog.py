"""A mapper that holds the GIL in a pure-Python loop for seconds (heartbeats must go on)."""

import time


def mapper(key, line):
    deadline = time.monotonic() + 1.5
    n = 0
    while time.monotonic() < deadline:
        n += 1
    yield "spins", 1


def reducer(key, values):
    yield key, sum(values)
