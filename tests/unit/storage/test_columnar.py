"""Columnar sort keys (zmr.storage.columnar, sorting.sorted_run_tables) against the scalar
reference: every bulk encoding equals ``codec.encode_key`` item by item, every run table
equals what ``SortedPairs`` makes of the same buffer, user keys equal the scalar decoding,
and shapes the bulk code does not handle come back as None (the scalar path's cue)."""

from __future__ import annotations

import random

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from zmr.storage import codec, columnar
from zmr.storage.ordering import KeyOrder, cut_points
from zmr.storage.sorting import SortedPairs, key_column, sorted_run_tables


def random_bytes(rng: random.Random) -> bytes:
    """Short, so that equal keys are common; 0x00 and 0xFF (the escape) often."""
    return bytes(rng.choice([0, 0, 0xFF, 0xFF, 1, 0x40, 0x7F]) for _ in range(rng.randrange(5)))


def random_str(rng: random.Random) -> str:
    return "".join(rng.choice("a\x00é\xff\U0001f600") for _ in range(rng.randrange(4)))


def random_int(rng: random.Random) -> int:
    return rng.choice([0, -1, 1, (1 << 63) - 1, -(1 << 63), rng.randrange(-10**12, 10**12)])


MAKERS = {"bytes": random_bytes, "str": random_str, "int": random_int}


def items(kind: str, n: int, seed: int) -> list:
    rng = random.Random(seed)
    return [MAKERS[kind](rng) for _ in range(n)]


@pytest.mark.parametrize("kind", sorted(MAKERS))
def test_encode_plain_is_encode_key(kind):
    values = items(kind, 2000, 1) + items(kind, 1, 2) * 3
    column = columnar.plain_column(values)
    assert column is not None
    assert columnar.encode_plain(column).to_pylist() == [codec.encode_key(v) for v in values]


def test_empty_keys_and_values_encode_too():
    column = columnar.plain_column([b"", b"", b"\x00"])
    assert columnar.encode_plain(column).to_pylist() == [b"\x40\x00", b"\x40\x00",
                                                         b"\x40\x00\xff\x00"]


class Bytes(bytes):
    pass


@pytest.mark.parametrize("shape", [
    [b"a", "a"], [1, 2.0], [True, False], [1.5, 2.5], [None, None], [1 << 64, 1],
    [(1, 2), (3, 4)], [Bytes(b"x")], [], pa.array([b"a", None]), pa.array([1.5]),
    pa.array([1, 2], pa.uint64())])
def test_other_shapes_are_left_to_the_scalar_path(shape):
    assert columnar.plain_column(shape) is None
    assert columnar.sort_key_columns(shape, shape, sort_values=False) is None


def test_arrow_columns_of_other_widths_encode_as_their_python_items():
    for column in (pa.array([3, -2], pa.int8()), pa.array(["x", "y"], pa.large_string()),
                   pa.array([b"\x00", b""], pa.large_binary())):
        got = columnar.encode_plain(columnar.plain_column(column)).to_pylist()
        assert got == [codec.encode_key(v) for v in column.to_pylist()]


@pytest.mark.parametrize("key_kind,value_kind", [("bytes", "bytes"), ("str", "int"),
                                                 ("int", "str"), ("bytes", "str")])
def test_composites_and_prefixes_are_the_scalar_ones(key_kind, value_kind):
    keys, values = items(key_kind, 1500, 3), items(value_kind, 1500, 4)
    encoded, prefixes, column = columnar.sort_key_columns(keys, values, sort_values=True)
    assert encoded.to_pylist() == [codec.encode_key(p) for p in zip(keys, values)]
    order = KeyOrder(sort_values=True)
    assert prefixes.to_pylist() == [order.group_prefix(e) for e in encoded.to_pylist()]
    assert column.to_pylist() == values


def test_sorted_values_of_another_shape_fall_back():
    assert columnar.sort_key_columns([b"a", b"b"], [b"x", 1], sort_values=True) is None
    # keys alone are enough when values are not sorted
    encoded, prefixes, values = columnar.sort_key_columns([b"a"], [(1, 2)], sort_values=False)
    assert encoded.to_pylist() == prefixes.to_pylist() == [b"\x40a\x00"]
    assert values == [(1, 2)]


def reference_tables(keys, values, partitions, order):
    """What the collector wrote before: SortedPairs of the Python sort keys."""
    sort_keys = order.sort_keys(keys, values)
    pairs = SortedPairs(key_column(sort_keys), codec.typed_column(values) or values,
                        partitions, None, order=order)
    return [pairs.table(lo, hi) if hi > lo else None for lo, hi in pairs.partition_ranges()]


def cuts_of(keys, partitions, seed):
    sample = random.Random(seed).sample(keys, min(len(keys), 40))
    return cut_points([codec.encode_key(k) for k in sample], partitions)


@pytest.mark.parametrize("sort_values,cuts", [
    (True, "sampled"), (True, "none"), (True, "hash"), (False, "sampled"), (False, "none")])
@pytest.mark.parametrize("partitions", [1, 3, 7])
@pytest.mark.parametrize("kinds", [("bytes", "bytes"), ("str", "int"), ("int", "mixed")])
def test_run_tables_equal_sorted_pairs(sort_values, partitions, cuts, kinds):
    keys = items(kinds[0], 1200, partitions)
    values = (items(kinds[1], 1200, 9) if kinds[1] != "mixed"
              else [random.Random(i).choice([1, "x", b"y", None, (1,)]) for i in range(1200)])
    total = cuts != "hash"
    order = KeyOrder(sort_values=sort_values, total_order=total,
                     cuts=cuts_of(keys, partitions, 5) if cuts == "sampled" else ())
    columns = columnar.sort_key_columns(keys, codec.typed_column(values) or values,
                                        sort_values)
    if columns is None:
        assert sort_values and kinds[1] == "mixed"
        return
    got = list(sorted_run_tables(*columns, partitions, order))
    expected = reference_tables(keys, values, partitions, order)
    assert len(got) == len(expected) == partitions
    for table, reference in zip(got, expected):
        if reference is None:
            assert table.num_rows == 0
        else:
            assert table.equals(reference)


def test_range_partitions_with_more_cuts_than_partitions_and_equal_keys():
    keys = [b"b"] * 50 + [b"a"] * 50 + [b"c"] * 10
    order = KeyOrder(total_order=True, cuts=tuple(codec.encode_key(k) for k in
                                                  (b"a", b"b", b"bb", b"c")))
    got = list(sorted_run_tables(*columnar.sort_key_columns(keys, list(range(110)), False),
                                 3, order))
    assert [t.num_rows for t in got] == [0, 50, 60]     # the last partition takes the rest
    expected = reference_tables(keys, list(range(110)), 3, order)
    assert got[1].equals(expected[1]) and got[2].equals(expected[2])


# --------------------------------------------------------------------------- reduce side

def composite_batch(keys, values, sort_values):
    sort_keys = list(zip(keys, values)) if sort_values else keys
    name, column = codec.encode_values(values)
    return pa.record_batch({"k": codec.encode_keys(sort_keys), name: column})


@pytest.mark.parametrize("sort_values", [True, False])
@pytest.mark.parametrize("key_kind,value_kind", [("bytes", "bytes"), ("str", "str"),
                                                 ("int", "int"), ("str", "bytes")])
def test_user_keys_are_the_scalar_decoding(sort_values, key_kind, value_kind):
    keys, values = items(key_kind, 800, 6), items(value_kind, 800, 7)
    batch = composite_batch(keys, values, sort_values)
    for view in (batch, batch.slice(13, 500)):      # sliced columns have an offset
        got = columnar.user_keys(view.column("k"), view.schema.names[1], view.column(1),
                                 sort_values)
        assert got is not None
        encoded = view.column("k").to_pylist()
        scalar = [codec.first_element(e) if sort_values else codec.decode_key(e)
                  for e in encoded]
        assert got.to_pylist() == scalar
        pairs = list(columnar.PairColumns(view, sort_values).pairs())
        assert pairs == list(zip(scalar, codec.decode_values(view.schema.names[1],
                                                             view.column(1))))


@pytest.mark.parametrize("keys,values", [
    ([b"a", "b"], [b"x", b"y"]),           # keys of two types
    ([1.5, 2.5], [b"x", b"y"]),            # float keys
    ([b"a", b"b"], [1.5, 2.5]),            # float values: their encoding is not measured
    ([b"a", b"b"], [b"x", 1]),             # values in the generic encoding
    (["\ud800", "a"], [b"x", b"y"]),       # a lone surrogate is not a valid Arrow string
    ([(1, 2), (3, 4)], [b"x", b"y"])])
def test_user_keys_of_other_shapes_are_none(keys, values):
    batch = composite_batch(keys, values, True)
    assert columnar.user_keys(batch.column("k"), batch.schema.names[1], batch.column(1),
                              True) is None
    pairs = list(columnar.PairColumns(batch, True).pairs())
    assert [k for k, _ in pairs] == [codec.first_element(e) for e in
                                     batch.column("k").to_pylist()]


def test_user_keys_of_an_empty_batch_is_none():
    empty = pa.array([], pa.binary())
    assert columnar.user_keys(empty, "v", empty, True) is None
    assert np.array_equal(columnar.encode_plain(pa.array([], pa.binary())).to_numpy(
        zero_copy_only=False), np.array([], dtype=object))


@pytest.mark.parametrize("seed", range(6))
def test_sort_indices_is_arrows_stable_sort(seed):
    rng = random.Random(seed)
    lead = rng.choice([b"", b"\x50\x40", b"\x50\x40\x00\xff" * 3])     # shared leading bytes
    rows = [lead + random_bytes(rng) * rng.randrange(4) for _ in range(3000)]
    rows += rows[:500]                  # equal rows: their order must be the input's
    column = pa.array(rows, pa.binary())
    for view in (column, column.slice(7, 2000), column.slice(0, 1), column.slice(0, 0)):
        assert np.array_equal(columnar.sort_indices(view), pc.sort_indices(view).to_numpy())


@pytest.mark.parametrize("seed", range(4))
def test_rows_of_one_width_sort_and_encode_as_any_rows(seed):
    # fixed-length records (TeraSort's) take numpy's n x width views: same answers
    rng = random.Random(seed)
    width = rng.choice([1, 7, 8, 12, 30])
    rows = [bytes(rng.choice([0, 0xFF, 1, 0x40, 0x7F]) for _ in range(width))
            for _ in range(2000)]
    rows += rows[:300]
    column = pa.array(rows, pa.binary())
    for view in (column, column.slice(5, 1500), column.slice(3, 1)):
        assert np.array_equal(columnar.sort_indices(view), pc.sort_indices(view).to_numpy())
        encoded = columnar.encode_plain(view)
        assert encoded.to_pylist() == [codec.encode_key(r) for r in view.to_pylist()]
        pairs = columnar.encode_pairs(encoded, encoded)
        assert pairs.to_pylist() == [codec.encode_key((r, r)) for r in view.to_pylist()]


def test_joined_rows_equal_arrows_join_whatever_the_widths():
    same = pa.array([b"abc", b"d\x00f", b"ghi"], pa.binary())
    mixed = pa.array([b"a", b"", b"longer"], pa.binary())
    for parts in ((b"\x50", same, b"\x00"), (same, mixed, b"!"), (b"", same.slice(1), b"")):
        expected = pc.binary_join_element_wise(*parts, b"").to_pylist()
        assert columnar._joined(*parts).to_pylist() == expected


def test_zero_bytes_are_found_in_slices_only():
    column = pa.array([b"\x00a", b"bc", b"d\x00"], pa.binary())
    assert columnar._has_zero(column)
    assert not columnar._has_zero(column.slice(1, 1))
    assert columnar._has_zero(column.slice(2, 1))
    assert not columnar._has_zero(pa.array([b"", b""], pa.binary()))


@pytest.mark.parametrize("value_kind", ["bytes", "str"])
@pytest.mark.parametrize("width", [0, 5, None])           # None: rows of several widths
def test_composites_of_values_without_a_zero_byte_are_made_in_one_pass(value_kind, width):
    rng = random.Random(7)
    keys = items("bytes", 800, 5)
    values = ["".join(rng.choice("ab\xff\U0001f600") for _ in range(
        rng.randrange(4) if width is None else width)) for _ in keys]
    if value_kind == "bytes":
        values = [v.encode() for v in values]
    encoded, _, _ = columnar.sort_key_columns(keys, values, sort_values=True)
    assert encoded.to_pylist() == [codec.encode_key(p) for p in zip(keys, values)]
