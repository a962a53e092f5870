"""Word count that prints and logs from user code (test fixture for ``zmr logs``)."""

import logging
import sys

log = logging.getLogger("chatty")


def mapper(key, line):
    if key[1] == 0:
        print(f"mapper saw the first line of {key[0].rsplit('/', 1)[-1]}")
        log.warning("a warning from user code")
        print("to stderr too", file=sys.stderr)
    for word in line.split():
        yield word, 1


def reducer(word, counts):
    yield word, sum(counts)


def reducer_final():
    print("reducer done")
