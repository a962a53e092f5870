"""Parquet part files of one output made one dataset at the job commit: column types that
differ only by all-null columns or ints among floats are widened (those parts rewritten);
any other difference fails the commit, naming the parts (see :mod:`zmr.storage.formats`
for how a part's types are chosen)."""

from __future__ import annotations

import os
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq


def check_parquet_parts(paths: list[str], filesystem: Any = None) -> None:
    """Make the part files of a Parquet output one dataset: all must have the same column
    types, except that a column of nulls (an empty part, or only None values) takes the
    others' type and ints widen to floats; those parts are rewritten. Raises
    ``ValueError`` naming the parts when the types cannot be reconciled."""
    schemas = {p: pq.read_schema(p, filesystem=filesystem) for p in paths}
    unified = _unified_schema(schemas)
    for path, schema in schemas.items():
        if schema != unified:
            _rewrite(path, unified, filesystem)


def _unified_schema(schemas: dict[str, pa.Schema]) -> pa.Schema:
    fields = []
    for name in ("key", "value"):
        types = {s.field(name).type for s in schemas.values()} - {pa.null()}
        if types == {pa.int64(), pa.float64()}:
            types = {pa.float64()}
        if len(types) > 1:
            detail = "; ".join(f"{os.path.basename(p)}: {s.to_string().replace(chr(10), ', ')}"
                               for p, s in sorted(schemas.items()))
            raise ValueError("part files of a parquet output have different column types "
                             f"({detail}); declare OUTPUT_SCHEMA in the job")
        fields.append((name, types.pop() if types else pa.null()))
    return pa.schema(fields)


def _rewrite(path: str, schema: pa.Schema, filesystem: Any) -> None:
    table = pq.read_table(path, filesystem=filesystem).cast(schema)
    if filesystem is not None:          # an object store PUT is atomic already
        pq.write_table(table, path, filesystem=filesystem)
        return
    pq.write_table(table, path + ".tmp")
    os.replace(path + ".tmp", path)
