"""Word count with a combiner (test fixture)."""

import re

WORD = re.compile(r"[a-z0-9']+")


def mapper(key, line):
    for word in WORD.findall(line.lower()):
        yield word, 1


def combiner(word, counts):
    yield word, sum(counts)


def reducer(word, counts):
    yield word, sum(counts)
