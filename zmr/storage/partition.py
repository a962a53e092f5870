"""Deterministic partitioning: the same key goes to the same reducer in every process and host.

Python's ``hash()`` is salted per process (PYTHONHASHSEED), so it can never decide partitions.
zmr hashes the key's memcomparable encoding (``codec.encode_key``) with 64-bit FNV-1a, the
hash the MIT 6.824 lab uses, vectorised with numpy over a whole Arrow binary column.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

FNV_OFFSET = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3
_MASK64 = 0xFFFFFFFFFFFFFFFF


def fnv1a64(data: bytes) -> int:
    """FNV-1a of one byte string (the scalar reference for :func:`fnv1a64_array`)."""
    h = FNV_OFFSET
    for byte in data:
        h = ((h ^ byte) * FNV_PRIME) & _MASK64
    return h


def fnv1a64_array(encoded: pa.Array) -> np.ndarray:
    """FNV-1a of every element of a binary array, as uint64.

    Elements are processed longest first so that byte position ``j`` touches one contiguous
    prefix of the (reordered) elements: total work is proportional to the bytes hashed.
    """
    n = len(encoded)
    starts, lengths, data = _binary_layout(encoded)
    order = np.argsort(-lengths, kind="stable")
    starts, lengths = starts[order], lengths[order]
    # active[j] = how many elements are longer than j bytes
    active = np.searchsorted(-lengths, -np.arange(lengths[0] if n else 0), side="left")
    h = np.full(n, FNV_OFFSET, dtype=np.uint64)
    prime = np.uint64(FNV_PRIME)
    for j, count in enumerate(active):
        h[:count] ^= data[starts[:count] + j]
        h[:count] *= prime
    result = np.empty(n, dtype=np.uint64)
    result[order] = h
    return result


def _binary_layout(encoded: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if encoded.type != pa.binary():
        encoded = encoded.cast(pa.binary())
    _, offsets_buf, data_buf = encoded.buffers()
    n = len(encoded)
    offsets = np.frombuffer(offsets_buf, dtype=np.int32)[encoded.offset:encoded.offset + n + 1]
    data = (np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None and data_buf.size
            else np.zeros(1, dtype=np.uint8))
    starts = offsets[:-1].astype(np.int64)
    return starts, np.diff(offsets).astype(np.int64), data


def partition_ids(encoded: pa.Array, num_partitions: int) -> np.ndarray:
    """The default partitioner over encoded keys: FNV-1a modulo the number of reducers."""
    if num_partitions <= 1:
        return np.zeros(len(encoded), dtype=np.int32)
    return (fnv1a64_array(encoded) % np.uint64(num_partitions)).astype(np.int32)


def partition_of(key_bytes: bytes, num_partitions: int) -> int:
    """The default partition of one encoded key (used by tests and by user partitioners)."""
    return fnv1a64(key_bytes) % num_partitions if num_partitions > 1 else 0
