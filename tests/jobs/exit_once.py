"""The first attempt of every map task calls os._exit (MIT 6.824's early exit); the retry
succeeds. Proves a dying task process fails only its attempt, never its worker."""

import os

MARKS = os.environ.get("ZMR_TEST_MARKS", "/tmp")


def mapper_init():
    mark = os.path.join(MARKS, "exited-once")
    if not os.path.exists(mark):
        open(mark, "w").close()
        os._exit(3)


def mapper(key, line):
    yield line.split()[0], 1


def reducer(key, values):
    yield key, sum(values)
