"""Counts how many times map tasks really run (MIT 6.824's jobcount app): every map
execution drops a uniquely named file into $ZMR_TEST_MARKS."""

import os
import uuid


def mapper_init():
    marks = os.environ["ZMR_TEST_MARKS"]
    with open(os.path.join(marks, f"map-{os.getpid()}-{uuid.uuid4().hex}"), "w"):
        pass


def mapper(key, line):
    yield "lines", 1


def reducer(key, values):
    yield key, sum(values)
