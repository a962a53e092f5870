"""Emits keys of many types, values of many types (test fixture for the total order)."""


def mapper(key, line):
    words = line.split()
    for i, w in enumerate(words):
        yield w, i
        yield len(w), w
        yield (w[:1], len(w)), [i, None]
        yield float(len(w)) / 2, b"x"
        yield len(w) % 2 == 0, None


def reducer(key, values):
    vals = list(values)
    yield key, len(vals)
