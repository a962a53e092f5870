"""Joining runs of sorted batches into reduce groups: ``zmr._speedups.Groups`` (C) and its
Python reference ``join_runs_py`` group, stay lazy and skip alike."""

from __future__ import annotations

import importlib
import random

import pytest

from tests.helpers import BUILT
from zmr.storage import runs


@pytest.fixture(params=["c", "python"])
def join(request):
    if request.param == "c":
        if not BUILT:
            pytest.skip("zmr._speedups is not built")
        return importlib.import_module("zmr._speedups").Groups
    return runs.join_runs_py


def batch(*runs_of):
    """A batch's runs from (group, key, values) triples."""
    groups, keys, values, bounds = [], [], [], [0]
    for group, key, vals in runs_of:
        groups.append(group)
        keys.append(key)
        values.extend(vals)
        bounds.append(len(values))
    return groups, keys, values, bounds


def read(groups):
    return [(g, k, list(v)) for g, k, v in groups]


def test_a_group_spans_batches_and_keeps_its_first_key(join):
    parts = [batch((b"a", "a1", [1, 2]), (b"b", "b1", [3])), batch((b"b", "b2", [4])),
             batch(), batch((b"b", "b3", [5]), (b"c", "c1", [6, 7]))]
    assert read(join(iter(parts))) == [(b"a", "a1", [1, 2]), (b"b", "b1", [3, 4, 5]),
                                       (b"c", "c1", [6, 7])]


def test_values_are_read_lazily_batch_by_batch(join):
    pulled = []

    def parts():
        for n in range(3):
            pulled.append(n)
            yield batch((b"k", "k", [n, n]))

    groups = join(parts())
    _, _, values = next(groups)
    assert pulled == [0] and next(values) == 0 and next(values) == 0 and pulled == [0]
    assert next(values) == 1 and pulled == [0, 1]
    assert list(values) == [1, 2, 2] and pulled == [0, 1, 2]
    assert next(groups, None) is None


def test_moving_on_skips_the_unread_values_and_ends_the_old_iterator(join):
    parts = [batch((b"a", "a", [1, 2])), batch((b"a", "a", [3]), (b"b", "b", [4]))]
    groups = join(iter(parts))
    _, _, first = next(groups)
    assert next(first) == 1
    group, _, second = next(groups)
    assert group == b"b" and list(second) == [4]
    # groupby's contract: the old group reads no further run (Python may finish the one
    # it was in, C stops at once)
    assert list(first) in ([], [2])


def test_random_streams_group_as_a_dict_would(join):
    rng = random.Random(11)
    for _ in range(200):
        keys = sorted(rng.choice(b"abcdef") for _ in range(rng.randrange(30)))
        rows = [(bytes([k]), i) for i, k in enumerate(keys)]
        parts, at = [], 0
        while at < len(rows):          # random batch cuts, some inside a run
            size = rng.randrange(1, 8)
            chunk = rows[at:at + size]
            at += size
            runs_of = []
            for group, value in chunk:
                if runs_of and runs_of[-1][0] == group:
                    runs_of[-1][2].append(value)
                else:
                    runs_of.append((group, group.decode(), [value]))
            parts.append(batch(*runs_of))
        expected = {}
        for group, value in rows:
            expected.setdefault(group, []).append(value)
        assert read(join(iter(parts))) == [(g, g.decode(), v) for g, v in expected.items()]


@pytest.mark.parametrize("bad", [([b"a"], ["a"], [1], [0, 2]), ([b"a"], ["a"], [1], [1, 1]),
                                 ([b"a"], [], [1], [0, 1])])
def test_bounds_that_do_not_match_the_batch_are_refused_by_c(bad):
    if not BUILT:
        pytest.skip("zmr._speedups is not built")
    groups = importlib.import_module("zmr._speedups").Groups
    with pytest.raises(ValueError, match="run bounds do not match"):
        next(groups(iter([bad])))
