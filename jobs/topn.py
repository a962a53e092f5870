"""Top-N words: the N most frequent words, most frequent first, ties in alphabetical order.

    zmr run jobs/topn.py --param n=20 --input data/sample --output out/top20

N is the job parameter ``n`` (default 10; ``PARAMS`` makes a non-number an error at
submit). Output: one part file with N lines ``word<TAB>count``, ordered by count
(descending), then word: not by key.

Two reducers' worth of logic in one reduce step. A global top-N needs two aggregations in
a row: (1) sum the counts of each word, then (2) select the N best totals over all words.
In plain MapReduce that is two jobs: word count, then a job whose single reducer reads
every (word, total) and keeps the best N. Here one reduce task does both as the sorted keys
stream past: ``reducer`` finishes (1) for a word (it sees all of that word's counts at
once, as keys arrive grouped) and feeds the total straight into (2), a bounded min-heap of
the N best totals so far. It yields nothing per word; ``reducer_final`` runs after the last
word and yields the heap in order. Memory is O(N), whatever the vocabulary.

Why one reducer: (2) must see every word's total. With R reduce tasks each one would only
see its own partition of words and produce a local top-N. So NUM_REDUCERS = 1, and the
partitioner sends every word to partition 0, which keeps the answer right even when
``--reducers`` overrides the setting (the other reduce tasks then get no words and emit
nothing). The mapper and combiner still run in parallel and pre-sum counts, so this single
reducer receives at most one pair per distinct word per map task.
"""

import heapq
import re

import zmr

NUM_REDUCERS = 1
PARAMS = {"n": 10}
N = zmr.param("n", 10, type=int)
WORD = re.compile(r"[a-z0-9']+")   # the tokeniser of jobs/wordcount.py

# The N best (count, -arrival, word) seen so far by this reduce task; heap[0] is the worst.
best = []
arrivals = 0


def mapper(key, line):
    for word in WORD.findall(line.lower()):
        yield word, 1


def combiner(word, counts):
    yield word, sum(counts)


def partitioner(word, num_reducers):
    return 0    # one global selection: see the module docstring


def reducer_init():
    global arrivals
    best.clear()   # module state lives as long as the process, which may run several tasks
    arrivals = 0


def reducer(word, counts):
    """Sum one word (step 1) and offer its total to the bounded heap (step 2)."""
    global arrivals
    arrivals += 1
    entry = (sum(counts), -arrivals, word)
    if len(best) < N:
        heapq.heappush(best, entry)
    elif best and entry[0] > best[0][0]:
        # Keys arrive in sorted order, so this word sorts after every word already seen: on
        # a tie in count it loses to all of them, and only a strictly larger count gets in.
        # For the same reason -arrivals makes the heap evict, among equal counts, the word
        # that came last, i.e. the alphabetically largest.
        heapq.heapreplace(best, entry)


def reducer_final():
    """Yield the N best words, count descending then word ascending, and reset the state."""
    ranked = sorted(best, key=lambda e: (-e[0], e[2]))
    best.clear()
    for count, _arrival, word in ranked:
        yield word, count
