r"""Word count: how often each word occurs (the MapReduce paper's first example).

    zmr run jobs/wordcount.py --input data/sample --output out/wordcount

Words are runs of ASCII letters, digits and apostrophes after lowercasing the line, so
"Don't" and "don't" are one word. Any other character separates words, accented letters
included ("déjà" counts as "d" and "j"): this is the tokeniser of the benchmark peers, so
their answers can be compared with ours. For Unicode words use ``r"(?:[^\W_]|')+"``.
Output: one ``word<TAB>count`` line per word, sorted by word within each part file.
"""

import re

WORD = re.compile(r"[a-z0-9']+")


def mapper(key, line):
    # key is (path, byte_offset) of the line; line has no trailing newline
    for word in WORD.findall(line.lower()):
        yield word, 1


def combiner(word, counts):
    # Addition is associative and commutative, so partial sums on the map side are safe; on
    # Zipf-like text they cut the pairs shipped to reducers from one per occurrence to one
    # per distinct word per map task.
    yield word, sum(counts)


def reducer(word, counts):
    # counts is a lazy iterator (possibly of combined partial sums): sum() streams it
    yield word, sum(counts)
