"""Bigram count: how often each pair of adjacent words occurs within a line.

The key is the string "first second" (one space), which keeps output lines readable and
sorts like the pair would. Many distinct keys make this the shuffle-heavy benchmark.
"""

import re

WORD = re.compile(r"[a-z0-9']+")


def mapper(key, line):
    words = WORD.findall(line.lower())
    for first, second in zip(words, words[1:]):
        yield f"{first} {second}", 1


def combiner(bigram, counts):
    yield bigram, sum(counts)


def reducer(bigram, counts):
    yield bigram, sum(counts)
