"""The map loops of zmr.tasks.accel: the C ones (zmr._speedups) and their pure-Python
reference must group, stop and fail alike (that ``ZMR_PURE_PYTHON=1`` selects the Python
ones in a fresh interpreter: tests/tasks/test_accel_env.py)."""

from __future__ import annotations

import os

import pytest

from tests.helpers import ROOT
from zmr.runners.inline import run_inline
from zmr.tasks import accel

pytestmark = pytest.mark.usefixtures("map_loops")


def mapper_of(outputs):
    """A mapper returning ``outputs[line]`` for each line (lines are indices)."""
    return lambda where, line: outputs[line]


def group(outputs):
    groups = {}
    records = iter(enumerate(range(len(outputs))))
    pairs, slots, unfit = accel.group_records(groups, mapper_of(outputs), "p", records)
    rest = None if unfit is None else (unfit[0], list(unfit[1]), list(records))
    return {k: list(v) for k, v in groups.items()}, pairs, slots, rest


def test_values_keep_emission_order_and_identity():
    big = 10 ** 30
    out = [[("a", 1), ("b", big), ("a", 1)], None, iter([("a", 2), ("a", 1), ("b", big)])]
    groups, pairs, slots, rest = group(out)
    assert groups == {"a": [1, 1, 2, 1], "b": [big, big]} and pairs == 6 and rest is None
    assert all(v is big for v in groups["b"])
    # a run of one object is one slot in C; every value is one in Python
    assert slots == (4 if accel.COMPILED else 6)


@pytest.mark.parametrize("bad", [("k", 1, 2), "kvw", (["k"], 1), (1, 1), (b"k", 1)])
def test_the_first_pair_it_cannot_group_stops_it(bad):
    out = [[("a", 1)], [("a", 2), bad, ("b", 3)], [("c", 4)]]
    groups, pairs, _, rest = group(out)
    assert groups == {"a": [1, 2]} and pairs == 2
    assert rest == (bad, [("b", 3)], [(2, 2)])


@pytest.mark.parametrize("odd", [["k", 1], "kv"])
def test_a_pair_that_is_not_a_tuple_is_grouped_or_handed_on(odd):
    """Python unpacks it, C hands it to the tuple path: the job's output is the same."""
    groups, pairs, _, rest = group([[("a", 1), odd]])
    if accel.COMPILED:
        assert groups == {"a": [1]} and rest == (odd, [], [])
    else:
        assert groups == {"a": [1], "k": [odd[1]]} and pairs == 2 and rest is None


def test_a_str_subclass_joins_an_existing_str_key():
    class Name(str):
        pass
    groups, pairs, _, rest = group([[("a", 1), (Name("a"), 2)]])
    assert groups == {"a": [1, 2]} and rest is None


def test_errors_of_the_mapper_propagate():
    def boom(where, line):
        raise KeyError(line)
    with pytest.raises(KeyError):
        accel.group_records({}, boom, "p", iter([(0, "x")]))
    with pytest.raises(KeyError):
        accel.extend_records([].extend, boom, "p", iter([(0, "x")]))
    with pytest.raises(TypeError):
        accel.group_records({}, mapper_of([5]), "p", iter([(0, 0)]))


def test_the_mapper_gets_path_and_offset():
    seen = []
    accel.extend_records(seen.extend, lambda where, line: [(where, line)], "f.txt",
                         iter([(7, "x"), (9, "y")]))
    assert seen == [(("f.txt", 7), "x"), (("f.txt", 9), "y")]


def test_stored_values_read_like_a_list():
    groups = {}
    out = [[("k", v) for v in (1, 1, "x", "x", "x", None, 1)]]
    accel.group_records(groups, mapper_of(out), "p", iter([(0, 0)]))
    values = groups["k"]
    assert len(values) == 7 and list(values) == [1, 1, "x", "x", "x", None, 1]
    assert [values[i] for i in range(7)] == list(values) and values[0] == 1
    assert list(values) == list(values)          # iterating twice
    with pytest.raises(IndexError):
        values[7]


def test_word_count_output_is_the_same(tmp_path, map_loops):
    (tmp_path / "in.txt").write_text("b a b\nc a b\n" * 50)
    out = tmp_path / map_loops
    run_inline(os.path.join(ROOT, "jobs", "wordcount_split.py"), [str(tmp_path / "in.txt")],
               str(out), reducers=2, memory_budget=2000)
    lines = sorted(line for p in out.glob("part-*") for line in p.read_text().splitlines())
    assert lines == ["a\t100", "b\t150", "c\t50"]
