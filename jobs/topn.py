"""Top-N words: the N most frequent words, most frequent first (ties: alphabetical).

Two reducers' worth of logic in one step. A global top-N needs every word's total first
(reduce #1: sum per word) and then a selection over all totals (reduce #2: keep the best N).
With a single reduce task both fit in one: the reducer sums each word as it arrives (keys
come sorted, each word exactly once) and keeps only the N best so far in a bounded heap;
reducer_final emits the heap once every word has been seen. Memory is O(N), not O(words).
N comes from ZMR_TOPN (default 10).
"""

import heapq
import os
import re

NUM_REDUCERS = 1      # the selection must see every word's total
WORD = re.compile(r"[a-z0-9']+")
N = int(os.environ.get("ZMR_TOPN", "10"))

best = []             # min-heap of (count, reversed word) holding the N best so far


class _Reversed(str):
    """Orders strings backwards, so the heap evicts the alphabetically *last* of a tie."""

    def __lt__(self, other):
        return str.__gt__(self, other)

    def __gt__(self, other):
        return str.__lt__(self, other)

    def __le__(self, other):
        return str.__ge__(self, other)

    def __ge__(self, other):
        return str.__le__(self, other)


def mapper(key, line):
    for word in WORD.findall(line.lower()):
        yield word, 1


def combiner(word, counts):
    yield word, sum(counts)


def reducer_init():
    best.clear()


def reducer(word, counts):
    entry = (sum(counts), _Reversed(word))
    if len(best) < N:
        heapq.heappush(best, entry)
    elif entry > best[0]:
        heapq.heapreplace(best, entry)
    return ()         # nothing per word: the answer comes from reducer_final


def reducer_final():
    for count, word in sorted(best, key=lambda e: (-e[0], str(e[1]))):
        yield str(word), count
