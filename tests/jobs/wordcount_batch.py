"""Vectorised word count: map_batch tokenises with pyarrow.compute, REDUCE = "sum"."""

import pyarrow as pa
import pyarrow.compute as pc

REDUCE = "sum"


def map_batch(batch):
    words = pc.split_pattern_regex(pc.utf8_lower(batch.column("line")), r"[^a-z0-9']+")
    flat = pc.list_flatten(words)
    flat = pc.filter(flat, pc.not_equal(flat, ""))
    return {"key": flat, "value": pa.array([1] * len(flat), pa.int64())}
