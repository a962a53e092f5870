"""A combiner that changes keys (must be rejected, not silently mis-partitioned)."""


def mapper(key, line):
    yield line, 1


def combiner(key, values):
    yield key + "!", sum(values)


def reducer(key, values):
    yield key, sum(values)
