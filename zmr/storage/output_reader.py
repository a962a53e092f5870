"""Read a finished job's output back: its part files as (key, value) pairs or one Arrow table,
whatever output format wrote them (the suffix of the part files tells: bare ``part-NNNNN`` is
text, ``.jsonl``, ``.csv``, ``.parquet``).

Parquet is read as it was typed. Text and CSV hold every key and value as text (a str as it
is, anything else as JSON), so they are decoded the way :func:`parse_field` does: a field
that parses as JSON is that value, else the string (text output cannot tell the str ``"1"``
from the int ``1``; write Parquet or JSON lines when that matters). Columns of the table are
typed by Arrow's inference over all values; a column whose values Arrow cannot hold in one
type (mixed int and str, say) is text, as in text output.
"""

from __future__ import annotations

import glob
import json
import os
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from zmr.core.errors import OutputError
from zmr.storage.formats import format_field, parse_field

Pair = tuple[Any, Any]
_EMPTY = pa.schema([("key", pa.null()), ("value", pa.null())])


def part_files(output: str) -> list[str]:
    """The part files of a committed output, in order; an output that does not exist or
    was not committed (no ``_SUCCESS``) is an :class:`OutputError` naming it."""
    if not os.path.isdir(output):
        raise OutputError(f"{output}: no such output directory")
    if not os.path.exists(os.path.join(output, "_SUCCESS")):
        raise OutputError(f"{output}: not a finished job's output (no _SUCCESS marker)")
    return sorted(p for p in glob.glob(os.path.join(output, "part-*")) if os.path.isfile(p))


def read_pairs(output: str) -> Iterator[Pair]:
    """Every (key, value) of the output, part by part, in file order."""
    for path in part_files(output):
        yield from _part_pairs(path)


def _part_pairs(path: str) -> Iterator[Pair]:
    if path.endswith(".parquet"):
        for row in pq.read_table(path).to_pylist():
            yield row["key"], row["value"]
    elif path.endswith(".csv"):
        table = _csv_as_text(path)
        for key, value in zip(table["key"].to_pylist(), table["value"].to_pylist(),
                              strict=True):
            yield _field(key), _field(value)
    elif path.endswith(".jsonl"):
        yield from _jsonl_pairs(path)
    else:
        yield from _text_pairs(path)


def _text_pairs(path: str) -> Iterator[Pair]:
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            key, tab, value = line.rstrip("\n").partition("\t")
            if not tab:
                raise OutputError(f"{path}:{number}: not a key<TAB>value line")
            yield parse_field(key), parse_field(value)


def _jsonl_pairs(path: str) -> Iterator[Pair]:
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            try:
                record = json.loads(line)
                yield record["key"], record["value"]
            except (ValueError, KeyError, TypeError):
                raise OutputError(f"{path}:{number}: not a {{\"key\", \"value\"}} "
                                  "JSON line") from None


def _csv_as_text(path: str) -> pa.Table:
    """A CSV part with both columns as strings (they were written as text); an empty
    field is an empty string, not a null."""
    convert = pacsv.ConvertOptions(column_types={"key": pa.string(), "value": pa.string()},
                                   strings_can_be_null=False)
    return pacsv.read_csv(path, convert_options=convert)


def _field(text: str | None) -> Any:
    return None if text is None else parse_field(text)


def read_table(output: str) -> pa.Table:
    """The whole output as one Arrow table of columns ``key`` and ``value``."""
    paths = part_files(output)
    if paths and all(p.endswith(".parquet") for p in paths):
        tables = [pq.read_table(p) for p in paths]   # unified at the job's commit
        return pa.concat_tables(tables, promote_options="default")
    keys: list[Any] = []
    values: list[Any] = []
    for key, value in read_pairs(output):
        keys.append(key)
        values.append(value)
    if not keys:
        return _EMPTY.empty_table()
    return pa.table({"key": _column(keys), "value": _column(values)})


def _column(items: list[Any]) -> pa.Array:
    """Arrow's own typing of the values (lists and dicts become list and struct columns);
    values it cannot put in one type are text, as text output wrote them."""
    try:
        return pa.array(items)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        return pa.array([None if x is None else format_field(x) for x in items], pa.string())
