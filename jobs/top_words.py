"""Top-N words as a two-step job (mrjob's ``steps``): the TOP_N most frequent words, most
frequent first, ties in alphabetical order.

    zmr run jobs/top_words.py --input data/sample --output out/top_words

Step 1 is word count (with its combiner). Step 2 reads step 1's ``(word, count)`` pairs as
they were yielded (no text in between: ``count`` is still an int), sends every one to the
single key ``None`` as ``(count, word)``, and its reducer keeps the TOP_N best. Its combiner
keeps the best TOP_N of each map task, so the one reducer receives at most TOP_N values per
map task. Output: one part file with TOP_N lines ``word<TAB>count`` in rank order.

Compare ``jobs/topn.py``, which fits both aggregations into one reduce step with a
partitioner and a bounded heap; here each step is plain MapReduce.
"""

import heapq
import re

from zmr import Step

TOP_N = 10
WORD = re.compile(r"[a-z0-9']+")   # the tokeniser of jobs/wordcount.py


def words(key, line):
    for word in WORD.findall(line.lower()):
        yield word, 1


def total(word, counts):
    yield word, sum(counts)


def to_single_key(word, count):
    yield None, (count, word)


def best(counts_and_words):
    """The TOP_N best (count, word): count descending, then word ascending."""
    return heapq.nsmallest(TOP_N, counts_and_words, key=lambda cw: (-cw[0], cw[1]))


def keep_best(key, counts_and_words):
    for count_and_word in best(counts_and_words):
        yield key, count_and_word


def rank(key, counts_and_words):
    for count, word in best(counts_and_words):
        yield word, count


STEPS = [
    Step(mapper=words, combiner=total, reducer=total),
    Step(mapper=to_single_key, combiner=keep_best, reducer=rank, num_reducers=1),
]
