"""Output formats. Text (the default): one ``key<TAB>value`` line per pair.

A ``str`` is written as it is (Hadoop's TextOutputFormat); every other key or value is
written as JSON, so ints, floats, bools, None, tuples and lists round-trip (tuples come back
as lists). ``bytes`` become ``{"$bytes": "<base64>"}``; other objects fall back to ``repr``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from typing import IO, Any


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
