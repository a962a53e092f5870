"""Word count whose mapper raises on lines containing "BAD", after yielding the line's first
word: with --skip-bad-records such a line must leave no pair at all in the output."""


def mapper(key, line):
    words = line.split()
    for i, word in enumerate(words):
        if i == 1 and "BAD" in line:
            raise ValueError(f"BAD record: {line!r}")
        yield word, 1


def reducer(word, counts):
    yield word, sum(counts)
