"""Word count whose map task over a split containing the line ``HOLD`` waits at its end
until a gate file exists (``ZMR_TEST_GATE``); the other maps finish at once."""

import os
import time

_held = False


def mapper(key, line):
    global _held
    _held = _held or line == "HOLD"
    for word in line.split():
        yield word, 1


def mapper_final():
    gate = os.environ.get("ZMR_TEST_GATE", "")
    deadline = time.monotonic() + 300
    while _held and gate and not os.path.exists(gate) and time.monotonic() < deadline:
        time.sleep(0.05)


def reducer(key, values):
    yield key, sum(values)
