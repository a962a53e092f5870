"""Word count: how often each word occurs (the MapReduce paper's first example).

Words are runs of lowercase letters, digits and apostrophes after lowercasing the line.
The combiner sums counts on the map side, so each map task ships one (word, count) pair per
distinct word instead of one pair per occurrence.
"""

import re

WORD = re.compile(r"[a-z0-9']+")


def mapper(key, line):
    # key is (path, byte_offset) of the line; the line has no trailing newline
    for word in WORD.findall(line.lower()):
        yield word, 1


def combiner(word, counts):
    yield word, sum(counts)


def reducer(word, counts):
    yield word, sum(counts)
