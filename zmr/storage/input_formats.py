"""Structured input through pyarrow: CSV, JSON lines, Parquet and Arrow IPC files.

* ``csv`` and ``jsonl`` are split like text, on line boundaries (Hadoop's rule), and each
  split's complete lines are parsed by ``pyarrow.csv`` / ``pyarrow.json`` a block at a time;
  a CSV split takes its column names from the file's first line. A quoted CSV field with a
  line break inside cannot be split on lines: it is reported, naming file and offset.
  Keys are ``(path, byte offset)`` as for text.
* ``parquet`` files are split by row group (consecutive row groups up to the split size),
  ``ipc`` (Arrow IPC file format) files by record batch; only the ``columns`` asked for are
  read. Keys are ``(path, row number)``.

A record reaches ``mapper(key, record)`` as a dict (column -> value) or, with
``INPUT_RECORDS = "tuple"``, a tuple in column order; ``map_batch`` gets the Arrow
``RecordBatch`` of the columns itself. Types are pyarrow's inference (per block for CSV
and JSON lines) unless ``CSV_COLUMN_TYPES`` names them.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.json as pajson
import pyarrow.parquet as pq

from zmr.core.errors import BadInputError, ConfigError, InputError
from zmr.core.specs import Split
from zmr.storage import fs

CSV, JSONL, PARQUET, IPC = "csv", "jsonl", "parquet", "ipc"
LINE_FORMATS = (CSV, JSONL)
TABLE_FORMATS = (PARQUET, IPC)
RECORD_FORMATS = LINE_FORMATS + TABLE_FORMATS
RECORD_KINDS = ("dict", "tuple")

Batch = tuple[list[int], list[Any]]


# -- planning ------------------------------------------------------------------------------

def table_splits(path: str, fmt: str, split_size: int) -> list[Split]:
    """Splits of a Parquet (row groups) or Arrow IPC (record batches) file: runs of
    consecutive groups whose sizes add up to at most ``split_size``; a larger group is a
    split of its own. ``start``/``length`` of these splits count groups, not bytes."""
    try:
        sizes = _row_group_sizes(path) if fmt == PARQUET else _batch_sizes(path)
    except (OSError, pa.ArrowInvalid) as exc:
        raise InputError(f"cannot read {fmt} input {path}: {exc}") from None
    splits, first, total = [], 0, 0
    for i, size in enumerate(sizes):
        if i > first and total + size > split_size:
            splits.append(Split(path, first, i - first, format=fmt))
            first, total = i, 0
        total += size
    if sizes:
        splits.append(Split(path, first, len(sizes) - first, format=fmt))
    return splits


def split_bytes(split: Split) -> int:
    """Bytes a split covers (``MAP_INPUT_BYTES``), summed over the files of a packed split:
    lengths for line formats, the sizes of the row groups or record batches (as planned)
    for Parquet and IPC."""
    if split.format not in TABLE_FORMATS:
        return sum(piece.length for piece in split.pieces())
    return sum(_table_bytes(piece) for piece in split.pieces())


def _table_bytes(split: Split) -> int:
    sizes = _row_group_sizes(split.path) if split.format == PARQUET else \
        _batch_sizes(split.path)
    return sum(sizes[split.start:split.end])


def _source(path: str) -> Any:
    return fs.open_input(path) if fs.is_uri(path) else path


def _ipc_source(path: str) -> Any:
    """A local IPC file is memory-mapped: a batch is then read without copying, and
    sizing batches or skipping to a split's first one reads only their headers."""
    return fs.open_input(path) if fs.is_uri(path) else pa.memory_map(path)


def _row_group_sizes(path: str) -> list[int]:
    meta = pq.ParquetFile(_source(path)).metadata
    return [meta.row_group(i).total_byte_size for i in range(meta.num_row_groups)]


def _batch_sizes(path: str) -> list[int]:
    with pa.ipc.open_file(_ipc_source(path)) as reader:
        n = reader.num_record_batches
        if fs.is_uri(path):         # reading every batch remotely to size it costs too much
            return [fs.file_size(path) // max(1, n)] * n
        return [reader.get_batch(i).nbytes for i in range(n)]


def check_options(options: dict[str, Any], source: str) -> dict[str, Any]:
    """Validate ``INPUT_COLUMNS``/``INPUT_RECORDS``/``CSV_COLUMN_TYPES`` (as planned)."""
    columns = options.get("columns")
    if columns is not None and (not isinstance(columns, list)
                                or not all(isinstance(c, str) for c in columns)):
        raise ConfigError(f"{source}: INPUT_COLUMNS must be a list of column names")
    if options.get("records", "dict") not in RECORD_KINDS:
        raise ConfigError(f"{source}: INPUT_RECORDS must be one of {RECORD_KINDS}")
    for column, type_name in (options.get("column_types") or {}).items():
        try:
            pa.type_for_alias(type_name)
        except (ValueError, TypeError):
            raise ConfigError(f"{source}: CSV_COLUMN_TYPES[{column!r}] = {type_name!r} is "
                              "not an Arrow type name (int64, double, string, ...)") from None
    return options


# -- reading -------------------------------------------------------------------------------

def iter_record_batches(split: Split, lines: Iterator[tuple[list[int], list[str]]],
                        options: dict[str, Any]) -> Iterator[tuple[list[int], pa.RecordBatch]]:
    """(keys' second parts, batch) per block: byte offsets for line formats, row numbers
    for table formats. ``lines`` are the split's lines (line formats only)."""
    if split.format == PARQUET:
        yield from _parquet_batches(split, options)
    elif split.format == IPC:
        yield from _ipc_batches(split, options)
    else:
        header = _csv_header(split, options) if split.format == CSV else ""
        for offsets, block in lines:
            offsets, block = _data_lines(split, offsets, block)
            if block:
                yield offsets, _parse_lines(split, header, offsets, block, options)


def records(batch: pa.RecordBatch, options: dict[str, Any]) -> list[Any]:
    """A batch's rows as dicts, or tuples in column order."""
    rows = batch.to_pylist()
    if options.get("records", "dict") == "tuple":
        return [tuple(row.values()) for row in rows]
    return rows


def _data_lines(split: Split, offsets: list[int], block: list[str]) -> Batch:
    """Drop blank lines (pyarrow skips them, which would shift keys) and a CSV header."""
    kept = [(o, line) for o, line in zip(offsets, block, strict=True)
            if line.strip() and not (split.format == CSV and o == 0)]
    return [o for o, _ in kept], [line for _, line in kept]


def _csv_header(split: Split, options: dict[str, Any]) -> str:
    """The file's first line, which names the columns, for every split of the file."""
    path = split.path
    with fs.open_binary(path) as f:
        first = f.read(1 << 20).split(b"\n", 1)[0]
    header = first.decode("utf-8", "replace").rstrip("\r")
    try:
        names = pacsv.read_csv(io.BytesIO(header.encode() + b"\n")).column_names
    except pa.ArrowInvalid as exc:
        raise BadInputError(f"csv input {path}: bad header line at byte 0: {exc}") from None
    _check_columns(split, names, options)
    return header


def _check_columns(split: Split, names: list[str], options: dict[str, Any]) -> None:
    """``INPUT_COLUMNS`` must name columns the file has (pyarrow would fail obscurely, or
    for Parquet silently read nothing)."""
    missing = [c for c in options.get("columns") or () if c not in names]
    if missing:
        raise BadInputError(f"{split.format} input {split.path}: INPUT_COLUMNS names "
                         f"{', '.join(map(repr, missing))}, not a column of the file "
                         f"(it has {', '.join(map(repr, names))})")


def _parse_lines(split: Split, header: str, offsets: list[int], block: list[str],
                 options: dict[str, Any]) -> pa.RecordBatch:
    try:
        table = _parse(split.format, header, block, options)
    except (pa.ArrowInvalid, UnicodeError) as exc:
        where = _first_bad_line(split.format, header, offsets, block, options, exc)
        raise BadInputError(f"{split.format} input {split.path}: bad record at byte {where}: "
                         f"{exc}") from None
    if table.num_rows != len(block):
        raise BadInputError(f"{split.format} input {split.path}: {table.num_rows} records in "
                         f"{len(block)} lines from byte {offsets[0]}: a quoted field with a "
                         "line break inside cannot be split on lines")
    return table.combine_chunks().to_batches()[0]


def _parse(fmt: str, header: str, block: list[str], options: dict[str, Any]) -> pa.Table:
    if fmt == JSONL:
        table = pajson.read_json(io.BytesIO("\n".join(block).encode()))
        return _project_json(table, options["columns"]) if options.get("columns") else table
    convert = pacsv.ConvertOptions(
        column_types={c: pa.type_for_alias(t)
                      for c, t in (options.get("column_types") or {}).items()},
        include_columns=options.get("columns") or [])
    data = "\n".join([header, *block]).encode()
    return pacsv.read_csv(io.BytesIO(data), convert_options=convert)


def _project_json(table: pa.Table, columns: list[str]) -> pa.Table:
    """The ``columns`` of a JSON block; a field no record of the block has is all null
    (JSON fields are optional, so a block may well lack one)."""
    for name in columns:
        if name not in table.column_names:
            table = table.append_column(name, pa.nulls(table.num_rows))
    return table.select(columns)


def _first_bad_line(fmt: str, header: str, offsets: list[int], block: list[str],
                    options: dict[str, Any], exc: Exception) -> int | str:
    """The byte offset of the first line that does not parse on its own, else of the row
    pyarrow names (a JSON field whose type changes from one record to the next)."""
    for offset, line in zip(offsets, block, strict=True):
        try:
            if fmt == JSONL:
                if not isinstance(json.loads(line), dict):
                    return offset
            else:
                _parse(fmt, header, [line], options)
        except (ValueError, pa.ArrowInvalid):
            return offset
    row = re.search(r"in row (\d+)", str(exc))
    if row and int(row.group(1)) < len(offsets):
        return offsets[int(row.group(1))]
    return f"{offsets[0]}..{offsets[-1]}"


def _parquet_batches(split: Split, options: dict[str, Any]
                     ) -> Iterator[tuple[list[int], pa.RecordBatch]]:
    try:
        parquet = pq.ParquetFile(_source(split.path))
        _check_columns(split, parquet.schema_arrow.names, options)
        meta = parquet.metadata
        row = sum(meta.row_group(i).num_rows for i in range(split.start))
        groups = list(range(split.start, split.start + split.length))
        for batch in parquet.iter_batches(row_groups=groups, columns=options.get("columns")):
            yield list(range(row, row + batch.num_rows)), batch
            row += batch.num_rows
    except (OSError, pa.ArrowInvalid) as exc:
        raise InputError(f"parquet input {split.path}, row groups {split.start}.."
                         f"{split.end - 1}: {exc}") from None


def _ipc_batches(split: Split, options: dict[str, Any]
                 ) -> Iterator[tuple[list[int], pa.RecordBatch]]:
    try:
        with pa.ipc.open_file(_ipc_source(split.path)) as reader:
            _check_columns(split, reader.schema.names, options)
            row = sum(reader.get_batch(i).num_rows for i in range(split.start))
            for i in range(split.start, split.start + split.length):
                batch = reader.get_batch(i)
                if options.get("columns"):
                    batch = batch.select(options["columns"])
                yield list(range(row, row + batch.num_rows)), batch
                row += batch.num_rows
    except (OSError, pa.ArrowInvalid) as exc:
        raise InputError(f"ipc input {split.path}, batches {split.start}..{split.end - 1}: "
                         f"{exc}") from None
