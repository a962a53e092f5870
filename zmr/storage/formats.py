"""Output formats. Text (the default): one ``key<TAB>value`` line per pair; ``jsonl``: one
``{"key": ..., "value": ...}`` object per line; ``csv``: columns ``key,value`` (written by
``pyarrow.csv``); ``parquet``: columns ``key`` and ``value`` (written by ``pyarrow.parquet``).
The intermediate steps of a multi-step job write ``arrow`` pair files
(:mod:`zmr.storage.pairfile`); :func:`open_pair_writer` opens any of them.

Parquet column types come from ``OUTPUT_SCHEMA = {"key": "string", "value": "int64"}`` when
the job declares it; otherwise from the values, decided by a part file's first batch: str
-> string, int -> int64, float (or ints and floats) -> double, bool -> bool, None -> null;
anything else or a mix -> string holding text as in text output (a str as it is, the rest
as JSON). Part files that disagree would be read wrongly by tools that take the first
file's schema (DuckDB casts silently), so :func:`check_parquet_parts`, run at the job
commit, widens null columns and ints to the others' type (rewriting those parts) and
fails the commit when the types still differ.

A ``str`` is written as it is (Hadoop's TextOutputFormat); every other key or value is
written as JSON, so ints, floats, bools, None, tuples and lists round-trip (tuples come back
as lists). ``bytes`` become ``{"$bytes": "<base64>"}``; other objects fall back to ``repr``.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable, Iterable
from typing import IO, Any, Protocol

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from zmr.core.errors import JobContractError
from zmr.core.formats import (  # noqa: F401  (re-exported: the names belong with the formats)
    ARROW,
    CSV,
    FILES,
    FIXED,
    FORMATS,
    INPUT_FORMATS,
    JSONL,
    KEY,
    LINES,
    OUTPUT_FORMATS,
    PARQUET,
    TEXT,
    USER_INPUT_FORMATS,
    USER_OUTPUT_FORMATS,
    VALUE,
)
from zmr.storage import column_output
from zmr.storage.columnar import PairColumns
from zmr.storage.pairfile import PairFileWriter, batched

_SUFFIX = {JSONL: ".jsonl", CSV: ".csv", PARQUET: ".parquet"}


def part_suffix(output_format: str) -> str:
    """``part-00000.parquet`` etc.; text and step files keep Hadoop's bare ``part-00000``."""
    return _SUFFIX.get(output_format, "")


def _json_default(obj: Any) -> Any:
    if isinstance(obj, (bytes, bytearray)):
        return {"$bytes": base64.b64encode(obj).decode("ascii")}
    if isinstance(obj, (set, frozenset)):
        return sorted(obj, key=repr)
    return repr(obj)


def format_field(x: Any) -> str:
    """One key or value as text."""
    t = type(x)
    if t is str:
        return x
    if t is int:            # what json.dumps would write, without its overhead
        return str(x)
    return json.dumps(x, ensure_ascii=False, default=_json_default)


def format_line(key: Any, value: Any) -> str:
    return f"{format_field(key)}\t{format_field(value)}\n"


def write_text(out: IO[str], pairs: Iterable[tuple[Any, Any]],
               line: Callable[[Any, Any], str] = format_line) -> tuple[int, int]:
    """Write pairs as lines (``key<TAB>value`` unless ``line`` says otherwise), a few
    thousand per write; returns (records, characters written)."""
    records = chars = 0
    batch: list[str] = []
    plain = line is format_line
    for key, value in pairs:
        # the commonest pair (str key, int value) inline: three calls fewer per line
        if plain and type(key) is str and type(value) is int:
            batch.append(f"{key}\t{value}\n")
        else:
            batch.append(line(key, value))
        if len(batch) == 4096:
            chars += out.write("".join(batch))
            records += len(batch)
            batch.clear()
    chars += out.write("".join(batch))
    return records + len(batch), chars


def parse_field(text: str) -> Any:
    """Best-effort inverse of :func:`format_field` for tools and tests: JSON if it parses."""
    try:
        value = json.loads(text)
    except ValueError:
        return text
    if isinstance(value, dict) and set(value) == {"$bytes"}:
        return base64.b64decode(value["$bytes"])
    return value


class PairWriter(Protocol):
    """Where a task's output pairs go: ``write`` returns (records, bytes or characters).

    A writer may also have ``write_columns(batches)``, the same output from an identity
    reduce's Arrow batches (:mod:`zmr.storage.column_output`)."""

    def write(self, pairs: Iterable[tuple[Any, Any]]) -> tuple[int, int]: ...

    def close(self) -> None: ...


class _TextFile:
    """A part file of text lines."""

    def __init__(self, path: str) -> None:
        self._out = open(path, "w", encoding="utf-8", newline="\n")  # noqa: SIM115

    def close(self) -> None:
        self._out.close()


class TextPairWriter(_TextFile):
    """A part file of ``key<TAB>value`` lines."""

    def write(self, pairs: Iterable[tuple[Any, Any]]) -> tuple[int, int]:
        return write_text(self._out, pairs)

    def write_lines(self, text: str) -> int:
        """Lines already formatted as ``write`` would (the reduce loop's)."""
        return self._out.write(text)

    def write_columns(self, batches: Iterable[PairColumns]) -> tuple[int, int]:
        records = chars = 0
        for batch in batches:
            text = column_output.text_lines(batch)
            if text is None:
                done, written = write_text(self._out, batch.pairs())
            else:
                done, written = len(batch), self._out.write(text)
            records, chars = records + done, chars + written
        return records, chars


class LinesPairWriter:
    """A part file of an mrjob job: each value is a line its OUTPUT_PROTOCOL already
    encoded (bytes, written as they are), the key is ``None`` and not written."""

    def __init__(self, path: str) -> None:
        self._out = open(path, "wb")  # noqa: SIM115

    def write(self, pairs: Iterable[tuple[Any, Any]]) -> tuple[int, int]:
        records = size = 0
        batch: list[bytes] = []
        for _, line in pairs:
            batch.append(line)
            if len(batch) == 4096:
                size += self._flush(batch)
                records += 4096
        return records + len(batch), size + self._flush(batch)

    def _flush(self, batch: list[bytes]) -> int:
        batch.append(b"")
        written = self._out.write(b"\n".join(batch))
        batch.clear()
        return written

    def close(self) -> None:
        self._out.close()


class JsonlPairWriter(_TextFile):
    """A part file of ``{"key": ..., "value": ...}`` lines."""

    def write(self, pairs: Iterable[tuple[Any, Any]]) -> tuple[int, int]:
        return write_text(self._out, pairs, _jsonl_line)


def _jsonl_line(key: Any, value: Any) -> str:
    return json.dumps({"key": key, "value": value}, ensure_ascii=False,
                      default=_json_default) + "\n"


class _TablePairWriter:
    """Pairs gathered into Arrow batches and handed to a table writer."""

    BATCH = 16384

    def __init__(self, path: str, schema: dict[str, str] | None) -> None:
        self.path = path
        self.declared = _declared_schema(schema)
        self._writer: Any = None
        self._schema: pa.Schema | None = None

    #: Column types whose Arrow columns ``_table`` would make the same from Python objects.
    COLUMN_TYPES: tuple[pa.DataType, ...] = (pa.string(), pa.int64(), pa.float64(), pa.bool_())

    def write(self, pairs: Iterable[tuple[Any, Any]]) -> tuple[int, int]:
        return sum(self._write_batch(chunk) for chunk in batched(pairs, self.BATCH)), 0

    def write_columns(self, batches: Iterable[PairColumns]) -> tuple[int, int]:
        records = 0
        for chunk in column_output.table_chunks(batches, self.BATCH, self.COLUMN_TYPES):
            if isinstance(chunk, list):
                records += self._write_batch(chunk)
            else:
                self._write_table(self._column_table(*chunk))
                records += len(chunk[0])
        return records, 0

    def _column_table(self, keys: pa.Array, values: pa.Array) -> pa.Table:
        table = pa.table({"key": keys, "value": values})
        return table if self.declared is None else _cast(table, self.declared, self.path)

    def _write_batch(self, pairs: list[tuple[Any, Any]]) -> int:
        self._write_table(self._table(pairs))
        return len(pairs)

    def _write_table(self, table: pa.Table) -> None:
        if self._writer is None:
            self._writer, self._schema = self._open(table.schema), table.schema
        elif table.schema != self._schema:     # (pyarrow's CSVWriter has no .schema)
            table = _fit(table, self._schema, self.path)
        self._writer.write_table(table)

    def _table(self, pairs: list[tuple[Any, Any]]) -> pa.Table:
        keys, values = zip(*pairs, strict=True)
        if self.declared is not None:
            return _cast(pa.table({"key": _column(keys), "value": _column(values)}),
                         self.declared, self.path)
        return pa.table({"key": _column(keys), "value": _column(values)})

    def _open(self, schema: pa.Schema) -> Any:
        raise NotImplementedError

    def close(self) -> None:
        if self._writer is None:     # an empty part still has the columns
            self._writer = self._open(self.declared or pa.schema(
                [("key", pa.null()), ("value", pa.null())]))
        self._writer.close()


class ParquetPairWriter(_TablePairWriter):
    def _open(self, schema: pa.Schema) -> Any:
        return pq.ParquetWriter(self.path, schema)


class CsvPairWriter(_TablePairWriter):
    # str as it is and ints in decimal: what format_field writes (floats need JSON's repr)
    COLUMN_TYPES = (pa.string(), pa.int64())

    def _open(self, schema: pa.Schema) -> Any:
        return pacsv.CSVWriter(self.path, schema)

    def _column_table(self, keys: pa.Array, values: pa.Array) -> pa.Table:
        return pa.table({"key": keys.cast(pa.string()), "value": values.cast(pa.string())})

    def _table(self, pairs: list[tuple[Any, Any]]) -> pa.Table:
        # CSV is text: every field as zmr writes text output (str as is, else JSON)
        keys, values = zip(*pairs, strict=True)
        return pa.table({"key": pa.array([format_field(k) for k in keys], pa.string()),
                         "value": pa.array([format_field(v) for v in values], pa.string())})


def _declared_schema(schema: dict[str, str] | None) -> pa.Schema | None:
    if not schema:
        return None
    return pa.schema([(name, pa.type_for_alias(schema[name])) for name in ("key", "value")])


def _column(items: tuple[Any, ...]) -> pa.Array:
    """Typed when every item but None has the same scalar type (None is null), else text as
    in text output: a str as it is, anything else as JSON."""
    kinds = {type(x) for x in items} - {type(None)}
    if kinds == {int} and all(x is None or -(1 << 63) <= x < (1 << 63) for x in items):
        return pa.array(items, pa.int64())
    if kinds == {float} or kinds == {int, float}:
        return pa.array([None if x is None else float(x) for x in items], pa.float64())
    if kinds in ({str}, {bool}, set()):
        return pa.array(items)
    return pa.array([None if x is None else format_field(x) for x in items], pa.string())


def _widens(old: pa.DataType, new: pa.DataType) -> bool:
    """A column of type ``old`` may be stored as ``new`` without changing a value."""
    return old == new or pa.types.is_null(old) or (old == pa.int64() and new == pa.float64())


def _fit(table: pa.Table, schema: pa.Schema, path: str) -> pa.Table:
    """A later batch of a part, cast to the types its first batch fixed (all-null columns
    and ints into floats only: a str or JSON text is never turned into a number)."""
    for name in ("key", "value"):
        old, new = table.schema.field(name).type, schema.field(name).type
        if not _widens(old, new):
            raise ValueError(f"{os.path.basename(path)}: the {name} column holds {old} "
                             f"values after {new} ones; declare OUTPUT_SCHEMA to fix the "
                             "column types of every part file")
    return _cast(table, schema, path)


def _cast(table: pa.Table, schema: pa.Schema, path: str) -> pa.Table:
    try:
        return table.cast(schema)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise ValueError(f"{os.path.basename(path)}: pairs do not fit the output schema "
                         f"{schema.to_string()!r} ({exc}); declare OUTPUT_SCHEMA to fix the "
                         "column types of every part file") from None


def open_pair_writer(path: str, output_format: str, compression: str = "none",
                     schema: dict[str, str] | None = None) -> PairWriter:
    """A writer of ``output_format`` at ``path``."""
    if output_format == ARROW:
        return PairFileWriter(path, compression)
    if output_format == JSONL:
        return JsonlPairWriter(path)
    if output_format == PARQUET:
        return ParquetPairWriter(path, schema)
    if output_format == CSV:
        return CsvPairWriter(path, None)
    if output_format == FIXED:
        return FixedPairWriter(path)
    if output_format in (VALUE, KEY):
        return OneFieldWriter(path, output_format)
    if output_format == LINES:
        return LinesPairWriter(path)
    if output_format != TEXT:
        raise ValueError(f"unknown output format {output_format!r}")
    return TextPairWriter(path)


class OneFieldWriter(_TextFile):
    """``value`` (or ``key``) output: one line per pair holding that field alone, a str as
    it is, anything else as JSON (Hadoop streaming's output of a line with no TAB)."""

    def __init__(self, path: str, field: str) -> None:
        super().__init__(path)
        self.field = field
        self.line = _value_line if field == VALUE else _key_line

    def write(self, pairs: Iterable[tuple[Any, Any]]) -> tuple[int, int]:
        return write_text(self._out, pairs, self.line)

    def write_columns(self, batches: Iterable[PairColumns]) -> tuple[int, int]:
        records = chars = 0
        for batch in batches:
            text = column_output.field_lines(
                batch.typed_values() if self.field == VALUE else batch.keys())
            if text is None:
                done, written = write_text(self._out, batch.pairs(), self.line)
            else:
                done, written = len(batch), self._out.write(text)
            records, chars = records + done, chars + written
        return records, chars


def _value_line(_key: Any, value: Any) -> str:
    return format_field(value) + "\n"


def _key_line(key: Any, _value: Any) -> str:
    return format_field(key) + "\n"


class FixedPairWriter:
    """``fixed`` output: each value's bytes exactly, back to back (fixed-length binary
    records, e.g. TeraSort's 100-byte ones); a value that is not bytes is an error."""

    def __init__(self, path: str) -> None:
        self._out = open(path, "wb")  # noqa: SIM115

    def write_columns(self, batches: Iterable[PairColumns]) -> tuple[int, int]:
        records = written = 0
        for batch in batches:
            data = column_output.fixed_bytes(batch)
            if data is None:
                done, size = self.write(batch.pairs())
            else:
                done, size = len(batch), self._out.write(data)
            records, written = records + done, written + size
        return records, written

    def write(self, pairs: Iterable[tuple[Any, Any]]) -> tuple[int, int]:
        records = written = 0
        chunk: list[bytes] = []
        for _key, value in pairs:
            if type(value) is not bytes:
                raise JobContractError(f"OUTPUT_FORMAT = \"fixed\" writes bytes values as "
                                       f"they are; got {type(value).__name__} {value!r:.80}")
            chunk.append(value)
            if len(chunk) == 4096:
                written += self._out.write(b"".join(chunk))
                records += len(chunk)
                chunk.clear()
        written += self._out.write(b"".join(chunk))
        return records + len(chunk), written

    def close(self) -> None:
        self._out.close()
