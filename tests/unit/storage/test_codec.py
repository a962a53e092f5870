"""The key codec: byte order of encodings == zmr's total order (by type, then value), with
the C codec and with its Python reference (C against Python: test_codec_compiled.py)."""

from __future__ import annotations

import math

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zmr.storage import codec

pytestmark = pytest.mark.usefixtures("key_codec")

TYPE_RANK = {type(None): 0, bool: 1, int: 2, float: 3, str: 4, bytes: 5, tuple: 6, list: 7}


def reference_order(x):
    """A plain-Python statement of the documented order, to check the encoding against."""
    rank = TYPE_RANK[type(x)]
    if isinstance(x, (tuple, list)):
        return (rank, tuple(reference_order(i) for i in x))
    if isinstance(x, float):
        return (rank, (1, 0.0) if math.isnan(x) else (0, x))
    return (rank, x) if x is not None else (rank, 0)


scalars = (st.none() | st.booleans() | st.integers(-(2**80), 2**80)
           | st.floats(allow_nan=False) | st.text(max_size=6) | st.binary(max_size=6))
keys = st.recursive(scalars, lambda inner: st.tuples(inner, inner) | st.lists(inner, max_size=3),
                    max_leaves=6)


@settings(max_examples=500, deadline=None)
@given(st.lists(keys, min_size=2, max_size=8))
def test_encoded_order_is_the_total_order(items):
    by_bytes = sorted(items, key=codec.encode_key)
    by_reference = sorted(items, key=reference_order)
    assert [reference_order(x) for x in by_bytes] == [reference_order(x) for x in by_reference]


@settings(max_examples=500, deadline=None)
@given(keys)
def test_round_trip(key):
    decoded = codec.decode_key(codec.encode_key(key))
    assert decoded == key and type(decoded) is type(key)


def test_equal_keys_of_different_types_stay_apart():
    encoded = {codec.encode_key(k) for k in (1, 1.0, True, "1", b"1", (1,), [1])}
    assert len(encoded) == 7


def test_negative_zero_and_nans_group_together():
    assert codec.encode_key(-0.0) == codec.encode_key(0.0)
    assert codec.encode_key(float("nan")) == codec.encode_key(-float("nan"))


def test_objects_fall_back_to_pickle_and_sort_last():
    obj = frozenset({1})
    assert codec.decode_key(codec.encode_key(obj)) == obj
    assert codec.encode_key(obj) > codec.encode_key([[["z"]]])


@settings(deadline=None)    # a busy machine: the first call also warms Arrow up
@given(st.lists(st.text(max_size=5)) | st.lists(st.integers(-(2**63), 2**63 - 1))
       | st.lists(st.integers(-(2**70), 2**70)) | st.lists(keys, max_size=5))
def test_bulk_encoding_matches_scalar(items):
    assert codec.encode_keys(items).to_pylist() == [codec.encode_key(k) for k in items]
    assert codec.decode_keys(codec.encode_keys(items)) == items


@settings(deadline=None)    # a busy machine: the first call also warms Arrow up
@given(st.lists(scalars | keys, max_size=6))
def test_values_round_trip_typed_or_encoded(values):
    name, column = codec.encode_values(values)
    if len({type(v) for v in values}) == 1 and type(values[0]) in (str, float, bytes):
        assert name == codec.TYPED_VALUES
    decoded = codec.decode_values(name, column)
    assert decoded == values or all(
        isinstance(a, float) and math.isnan(a) for a, b in zip(decoded, values) if a != b)


def test_values_of_mixed_types_use_the_generic_column():
    name, column = codec.encode_values([1, "a", (2, None)])
    assert name == codec.ENCODED_VALUES and column.type == pa.binary()
    assert codec.decode_values(name, column) == [1, "a", (2, None)]
