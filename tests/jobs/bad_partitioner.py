"""A partitioner returning an out-of-range partition (test fixture)."""


def mapper(key, line):
    yield line, 1


def partitioner(key, num_reducers):
    return num_reducers


def reducer(key, values):
    yield key, sum(values)
