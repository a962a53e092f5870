"""Output formats. Text (the default): one ``key<TAB>value`` line per pair. The
intermediate steps of a multi-step job write ``arrow`` pair files instead
(:mod:`zmr.storage.pairfile`); :func:`open_pair_writer` opens either.

A ``str`` is written as it is (Hadoop's TextOutputFormat); every other key or value is
written as JSON, so ints, floats, bools, None, tuples and lists round-trip (tuples come back
as lists). ``bytes`` become ``{"$bytes": "<base64>"}``; other objects fall back to ``repr``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from typing import IO, Any, Protocol

from zmr.storage.pairfile import PairFileWriter

TEXT, ARROW = "text", "arrow"
FORMATS = (TEXT, ARROW)


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


def write_text(out: IO[str], pairs: Iterable[tuple[Any, Any]]) -> tuple[int, int]:
    """Write pairs as lines; returns (records, characters written)."""
    records = chars = 0
    batch: list[str] = []
    for key, value in pairs:
        batch.append(format_line(key, value))
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
    """Where a task's output pairs go: ``write`` returns (records, bytes or characters)."""

    def write(self, pairs: Iterable[tuple[Any, Any]]) -> tuple[int, int]: ...

    def close(self) -> None: ...


class TextPairWriter:
    """A part file of ``key<TAB>value`` lines."""

    def __init__(self, path: str) -> None:
        self._out = open(path, "w", encoding="utf-8", newline="\n")  # noqa: SIM115

    def write(self, pairs: Iterable[tuple[Any, Any]]) -> tuple[int, int]:
        return write_text(self._out, pairs)

    def close(self) -> None:
        self._out.close()


def open_pair_writer(path: str, output_format: str, compression: str = "none") -> PairWriter:
    """A writer of ``output_format`` (text lines, or an arrow pair file) at ``path``."""
    if output_format == ARROW:
        return PairFileWriter(path, compression)
    if output_format != TEXT:
        raise ValueError(f"unknown output format {output_format!r}")
    return TextPairWriter(path)
