"""SORT_VALUES: lines ``key <json value>``; the reducer returns each key's values as met."""

import json

SORT_VALUES = True


def mapper(_key, line):
    key, value = line.split(" ", 1)
    yield key, json.loads(value)


def reducer(key, values):
    yield key, list(values)
