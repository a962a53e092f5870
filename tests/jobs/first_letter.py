"""Custom partitioner: words by first letter, init/final hooks on both sides (fixture)."""

import zmr

seen = []


def mapper_init():
    seen.clear()


def mapper(key, line):
    for w in line.split():
        seen.append(w)
        yield w, 1


def mapper_final():
    zmr.increment_counter("fixture", "mapped_words", len(seen))
    yield "~lines-mapped", len(seen)


def partitioner(key, num_reducers):
    return ord(key[0]) % num_reducers


totals = {}


def reducer_init():
    totals.clear()


def reducer(key, values):
    n = sum(values)
    totals[key] = n
    yield key, n


def reducer_final():
    yield "~distinct", len(totals)
