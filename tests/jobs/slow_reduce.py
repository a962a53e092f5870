"""Word count whose reducers take a few seconds (test fixture: lose a worker mid-reduce)."""

import time


def mapper(key, line):
    for word in line.split():
        yield word, 1


def reducer(key, values):
    yield key, sum(values)


def reducer_final():
    time.sleep(3)
