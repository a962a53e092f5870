"""A Python generator mapper whose reduction is a built-in or the equivalent Python reducer,
chosen from the environment (fixture of tests/unit/tasks/test_builtin_aggregations.py):
ZMR_TEST_AGG names the built-in, ZMR_TEST_AGG_MODE says how it is declared ("reduce":
REDUCE; "reduce_only": REDUCE with COMBINER = "none"; "combiner": COMBINER = name with
the Python reducer; "python": the Python reducer alone), ZMR_TEST_AGG_VALUES the values,
and ZMR_TEST_AGG_KEYS=str makes every key a str."""

import os
import random

from zmr.job.aggregations import sorted_distinct

_NAME = os.environ.get("ZMR_TEST_AGG", "sum")
_MODE = os.environ.get("ZMR_TEST_AGG_MODE", "reduce")
_KIND = os.environ.get("ZMR_TEST_AGG_VALUES", "int")
# str keys only: the map side groups values per key as they come (zmr/tasks/grouping.py)
_STR_KEYS = os.environ.get("ZMR_TEST_AGG_KEYS", "") == "str"


def _value(rng):
    if _KIND == "int":
        return rng.randint(-1000, 1000)
    if _KIND == "float":
        return rng.uniform(-1e3, 1e3)
    if _KIND == "dyadic":
        return rng.randint(-400, 400) / 4
    if _KIND == "str":
        return rng.choice(["x", "y", "zz", "é", "w\x00"]) * rng.randint(1, 3)
    if _KIND == "bool":
        return rng.random() < 0.3
    if _KIND == "bigint":             # sums beyond int64, and values beyond it
        return rng.choice([2 ** 62, 2 ** 63 + 5, -(2 ** 62), 7])
    if _KIND == "mixed":
        return rng.choice([rng.randint(-9, 9), rng.randint(-9, 9) + 0.5])
    if _KIND == "tuple":
        return (rng.randint(0, 3), rng.choice("ab"))
    raise ValueError(_KIND)


def mapper(key, line):
    if line.startswith("#"):         # a comment: no output (an input that maps to nothing)
        return
    rng = random.Random(line)
    for i in range(rng.randint(0, 6)):
        word = rng.choice(["alpha", "beta", "gamma", "delta", "e", "f%d" % rng.randint(0, 40)])
        yield word if i % 5 or _STR_KEYS else rng.randint(-3, 3), _value(rng)


def _mean(values):
    vs = list(values)
    return sum(vs) / len(vs)


PYTHON = {"sum": sum, "count": lambda vs: sum(1 for _ in vs), "min": min, "max": max,
          "mean": _mean, "first": next, "collect_list": list,
          "collect_set": lambda vs: sorted_distinct(vs)}

if _MODE in ("reduce", "reduce_only"):
    REDUCE = _NAME
    if _MODE == "reduce_only":
        COMBINER = "none"
else:
    if _MODE == "combiner":
        COMBINER = _NAME

    def reducer(key, values):
        yield key, PYTHON[_NAME](iter(values))
