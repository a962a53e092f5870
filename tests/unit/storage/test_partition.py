"""Partitioning is deterministic: same key, same reducer (in other processes too:
tests/storage/test_partition_seeds.py)."""

from __future__ import annotations

import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st

from zmr.storage import codec
from zmr.storage.partition import fnv1a64, fnv1a64_array, partition_ids, partition_of


def test_fnv1a_known_vectors():
    # Published FNV-1a 64 test vectors.
    assert fnv1a64(b"") == 0xCBF29CE484222325
    assert fnv1a64(b"a") == 0xAF63DC4C8601EC8C
    assert fnv1a64(b"foobar") == 0x85944171F73967E8


@given(st.lists(st.binary(max_size=40), max_size=50), st.integers(0, 5))
def test_vectorised_hash_equals_scalar(items, skip):
    arr = pa.array(items, pa.binary()).slice(min(skip, len(items)))
    assert list(fnv1a64_array(arr)) == [fnv1a64(b) for b in arr.to_pylist()]


def test_partition_ids_match_single_key_function():
    enc = codec.encode_keys(["the", "a", "zebra", "", "x" * 100])
    assert list(partition_ids(enc, 7)) == [partition_of(b, 7) for b in enc.to_pylist()]
