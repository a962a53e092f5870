"""The map loops of zmr.tasks.accel: the C ones (zmr._speedups) and their pure-Python
reference must group, stop and fail alike (that ``ZMR_PURE_PYTHON=1`` selects the Python
ones in a fresh interpreter: tests/tasks/test_accel_env.py)."""

from __future__ import annotations

import io
import os

import numpy as np
import pytest

from tests.helpers import ROOT
from zmr.runners.inline import run_inline
from zmr.storage.formats import format_line, write_text
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


def test_the_spills_per_key_helpers_read_groups_alike():
    # group_sizes, take_items and first_values over the groups of a grouped buffer (C:
    # ValueRuns read in place; Python: len(), itemgetter, [0]) and over plain lists
    groups = {}
    out = [[(k, v) for k, v in zip("abacdbe", (1, 2, 1, "x", None, 2, 3))]]
    accel.group_records(groups, mapper_of(out), "p", iter([(0, 0)]))
    lists = list(groups.values()) + [[7, 8], ["only"], []]
    assert accel.group_sizes(lists).tolist() == [2, 2, 1, 1, 1, 2, 1, 0]
    rows = np.array([4, 0, 6, 4], dtype=np.int64)
    assert accel.take_items(lists, rows) == [lists[4], lists[0], lists[6], lists[4]]
    assert accel.take_items(lists, rows[:1]) == [lists[4]]
    assert accel.take_items(lists, rows[:0]) == []
    assert accel.first_values(lists, np.array([0, 2, 3, 5, 6])) == [1, "x", None, 7, "only"]
    with pytest.raises(IndexError):
        accel.first_values(lists, np.array([7]))          # an empty group
    with pytest.raises(IndexError):
        accel.take_items(lists, np.array([8]))


def test_bigram_output_is_the_same(tmp_path, map_loops):
    # a combiner over keys that are mostly single: the spill's per-key helpers at work
    words = [f"w{i % 37}" for i in range(3000)]
    (tmp_path / "in.txt").write_text("\n".join(" ".join(words[i:i + 9])
                                               for i in range(0, 3000, 9)) + "\n")
    out = tmp_path / map_loops
    run_inline(os.path.join(ROOT, "jobs", "bigram.py"), [str(tmp_path / "in.txt")],
               str(out), reducers=2, memory_budget=20000)
    counts = {}
    for line in (tmp_path / "in.txt").read_text().splitlines():
        ws = line.split()
        for pair in zip(ws, ws[1:]):
            counts[" ".join(pair)] = counts.get(" ".join(pair), 0) + 1
    lines = sorted(line for p in out.glob("part-*") for line in p.read_text().splitlines())
    assert lines == sorted(f"{k}\t{v}" for k, v in counts.items())


def test_the_reduce_loop_writes_what_write_text_writes():
    # reduce_text: the reducer's pairs as text lines, (str, int|str) inline, others by
    # format_line; None outputs skipped; at most ``most`` groups a call; the lines handed
    # to write() a few thousand at a time, even within one key's pairs
    def reducer(key, values):
        values = list(values)
        if key == "none":
            return None
        if key == "many":
            return ((key, i) for i in range(10000))
        return [(key, sum(values)), (key, str(values)), (1.5, values), ("b", True),
                (key, None), ("é\t", 10 ** 20)]

    def groups():
        return [(b"", k, iter(v)) for k, v in [("a", [1, 2]), ("none", [0]), ("many", []),
                                                ("c", [3])]]

    expected = io.StringIO()
    write_text(expected, (p for _, k, vs in groups() for p in reducer(k, vs) or ()))
    got = io.StringIO()
    chunks = []

    def write(text):
        chunks.append(text)
        return got.write(text)

    stream = iter(groups())
    first = accel.reduce_text(reducer, stream, format_line, write, 3)
    second = accel.reduce_text(reducer, stream, format_line, write, 3)
    assert got.getvalue() == expected.getvalue()
    assert first == (10006, 3, len(got.getvalue()) - chunks[-1].__len__(), None)
    assert second == (6, 1, len(chunks[-1]), None)
    assert len(chunks) >= 4 and max(c.count("\n") for c in chunks) < 4200   # about 4,096
    assert accel.reduce_text(reducer, iter(()), format_line, write, 2) == (0, 0, 0, None)


def test_the_reduce_loop_stops_at_a_bad_pair_and_passes_errors_on():
    def reducer(key, values):
        yield key, 1
        yield [key, 2]
        yield key, 3

    got = io.StringIO()
    result = accel.reduce_text(reducer, iter([(b"", "k", iter(())), (b"", "z", iter(()))]),
                               format_line, got.write, 10)
    assert result == (1, 1, 4, (["k", 2],)) and got.getvalue() == "k\t1\n"

    def failing(key, values):
        raise KeyError(key)

    with pytest.raises(KeyError, match="k"):
        accel.reduce_text(failing, iter([(b"", "k", iter(()))]), format_line, got.write, 10)
    with pytest.raises(TypeError):
        accel.reduce_text(lambda k, v: 5, iter([(b"", "k", iter(()))]), format_line,
                          got.write, 10)


def test_the_combine_loop_calls_the_combiner_per_group_and_keeps_ranks():
    seen = []

    def combiner(key, values):
        seen.append((key, type(values).__name__ != "list"))
        if key == "none":
            return None
        return [(key, sum(values)), (key, -1)]

    def refuse(item):
        raise ValueError(item)

    ranks, values = accel.combine_groups(combiner, ["a", "none", "b"],
                                         (g for g in ([1, 2], [3], [4])), [5, 6, 7],
                                         lambda k, n: None, refuse)
    assert (ranks, values) == ([5, 5, 7, 7], [3, -1, 4, -1])
    assert seen == [("a", True), ("none", True), ("b", True)]      # values as iterators


def test_the_combine_loop_checks_changed_keys_and_refuses_non_pairs():
    checked = []

    def refuse(item):
        raise ValueError(item)

    ranks, values = accel.combine_groups(lambda k, vs: [("a" + "", 1), (k.upper(), 2)],
                                         ["a"], [[0]], [0], lambda k, n: checked.append(n),
                                         refuse)
    assert checked == ["A"] and values == [1, 2]
    with pytest.raises(ValueError, match="oops"):
        accel.combine_groups(lambda k, vs: ["oops"], ["a"], [[0]], [0], print, refuse)
    with pytest.raises(KeyError):
        accel.combine_groups(lambda k, vs: {}["x"], ["a"], [[0]], [0], print, refuse)
