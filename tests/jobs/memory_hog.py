"""A mapper that holds ~300 MB resident (pages written, not just reserved) for a while, so a
worker enforcing --task-memory sees it and kills the attempt; otherwise a word count."""

import time

HOG_BYTES = 300 << 20
HOLD_S = 10.0        # long enough for the worker's next poll; far shorter than a test timeout
_held = []


def mapper_init():
    _held.append(b"\xff" * HOG_BYTES)       # memset: every page resident
    time.sleep(HOLD_S)


def mapper(key, line):
    for word in line.split():
        yield word, 1


def reducer(word, counts):
    yield word, sum(counts)
