"""Bigram count: how often each pair of adjacent words occurs within a line.

    zmr run jobs/bigram.py --input data/sample --output out/bigram

The key is the string ``"first second"`` (the two words joined by one space) rather than a
tuple: output lines stay readable (``of the<TAB>42``, not ``["of", "the"]<TAB>42``). Words never
contain a space, so the string is unambiguous, and as a space sorts before every word
character, the strings sort exactly as the (first, second) tuples would. Pairs never span a
line break. Words are tokenised as in jobs/wordcount.py. Many distinct keys make this the
shuffle-heavy benchmark.
"""

import re
from itertools import pairwise

WORD = re.compile(r"[a-z0-9']+")


def mapper(key, line):
    words = WORD.findall(line.lower())
    for first, second in pairwise(words):
        yield f"{first} {second}", 1


def combiner(bigram, counts):
    yield bigram, sum(counts)


def reducer(bigram, counts):
    yield bigram, sum(counts)
