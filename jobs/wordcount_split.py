"""Word count with ``str.split`` tokenising: words are whitespace-separated runs, as they are.

    zmr run jobs/wordcount_split.py --input data/sample --output out/wordcount_split

The cheapest tokeniser Python has (no lowercasing, punctuation stays on the word), so it
is the one that shows the engine's own per-pair cost best: benchmarks compare it with a
hand-written ``multiprocessing`` Counter using the same ``str.split``
(``bench/bench_wordcount.py --tokeniser split``). Output: ``word<TAB>count`` lines.
"""


def mapper(key, line):
    for word in line.split():
        yield word, 1


def combiner(word, counts):
    yield word, sum(counts)


def reducer(word, counts):
    yield word, sum(counts)
