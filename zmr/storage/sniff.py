"""Checking, at planning, that each input file holds what its format says.

A Parquet file read as CSV used to fail every attempt of its map task with a UTF-8 error;
now planning reads the first bytes of each file (one small read per file) and refuses a
mismatch naming the file, its format setting and what the file looks like:

* ``text``, ``csv``, ``jsonl``: no known binary signature (Parquet, Arrow IPC, gzip, bzip2,
  zstd, xz, zip, ...); a ``.gz``/``.bz2`` name must hold gzip/bzip2 data and a compressed
  file must be named so (zmr picks the decompressor by the name, as Hadoop does); the first
  bytes decode as UTF-8 (unless ``--on-bad-utf8 replace``); a ``jsonl`` file starts with
  ``{``.
* ``parquet`` files start with ``PAR1``, ``ipc`` files with ``ARROW1``.

Formats zmr does not know the signature of (a step's pair files) are not checked. Remote
files (``s3://``...) cost a request each, so only the first :data:`REMOTE_SAMPLE` of a
listing are checked.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from zmr.core.errors import InputError
from zmr.storage import fs

HEAD_BYTES = 4096
REMOTE_SAMPLE = 32
TEXT_FORMATS = ("text", "csv", "jsonl")

#: Signatures of binary formats (each long or odd enough that no text file starts so),
#: with how zmr reads them, if it can.
SIGNATURES: tuple[tuple[re.Pattern[bytes], str, str], ...] = tuple(
    (re.compile(magic, re.DOTALL), what, remedy) for magic, what, remedy in (
        (rb"PAR1", "a Parquet file", 'format "parquet"'),
        (rb"ARROW1\0\0", "an Arrow IPC file", 'format "ipc"'),
        (rb"\xff\xff\xff\xff", "an Arrow IPC stream",
         'zmr reads IPC files (pyarrow.ipc.new_file), format "ipc"'),
        (rb"\x1f\x8b\x08", "gzip data", "a name ending in .gz"),
        (rb"BZh[1-9]1AY&SY", "bzip2 data", "a name ending in .bz2"),
        (rb"\x28\xb5\x2f\xfd", "zstd data", ""),
        (rb"\xfd7zXZ\x00", "xz data", ""),
        (rb"PK\x03\x04", "a zip archive", ""),
        (rb"Obj\x01", "an Avro file", ""),
        (rb"ORC.{0,64}\x00", "an ORC file", ""),
        (rb"SQLite format 3\x00", "an SQLite database", ""),
    ))
_COMPRESSED = {".gz": (b"\x1f\x8b", "gzip"), ".bz2": (b"BZh", "bzip2")}


def check_contents(paths: Sequence[str], fmt: str, on_bad_utf8: str = "strict") -> None:
    """Refuse the first of ``paths`` whose first bytes do not fit format ``fmt``."""
    if fmt not in (*TEXT_FORMATS, "parquet", "ipc"):
        return
    remote = 0
    for path in paths:
        if fs.is_uri(path):
            remote += 1
            if remote > REMOTE_SAMPLE:
                continue
        problem = format_problem(path, fmt, _head(path), on_bad_utf8)
        if problem:
            raise InputError(problem if problem.startswith("invalid UTF-8") else
                             f"{fmt} input {path}: {problem}")


def _head(path: str) -> bytes:
    try:
        with fs.open_binary(path) as f:
            return bytes(f.read(HEAD_BYTES))
    except OSError as exc:
        raise InputError(f"cannot read input {path}: {exc}") from None


def format_problem(path: str, fmt: str, head: bytes, on_bad_utf8: str = "strict") -> str:
    """Why a file starting with ``head`` cannot be read as ``fmt`` ("" if it can)."""
    if fmt == "parquet":
        return "" if head.startswith(b"PAR1") else _not_a("a Parquet", "PAR1", head)
    if fmt == "ipc":
        return "" if head.startswith(b"ARROW1") else _not_a("an Arrow IPC", "ARROW1", head)
    suffix = next((s for s in _COMPRESSED if path.lower().endswith(s)), "")
    if suffix:
        magic, codec = _COMPRESSED[suffix]
        if head and not head.startswith(magic):
            return (f"its name ends in {suffix} but it is not {codec} data (it is "
                    f"{_looks_like(head)})")
        return ""
    kind = _signature(head)
    if kind is not None:
        what, remedy = kind
        hint = f"; read it with {remedy}" if remedy.startswith("format") else \
            f"; zmr decompresses it only under {remedy}" if remedy.startswith("a name") \
            else f"; {remedy}" if remedy else "; zmr cannot read it"
        return f"it is {what}, not {'text' if fmt == 'text' else fmt.upper() + ' text'}{hint}"
    if on_bad_utf8 == "strict" and _utf8_problem(head):
        # worded as the reader's own error, which it spares four failed attempts
        return (f"invalid UTF-8 in {path} at byte {_utf8_problem(head)} "
                "(not text: a binary file? --on-bad-utf8 replace substitutes U+FFFD)")
    if fmt == "jsonl" and head.strip() and not head.lstrip().startswith(b"{"):
        return (f"it is not JSON lines: its first line starts {_start(head)} "
                "(each line must be a JSON object)")
    return ""


def _signature(head: bytes) -> tuple[str, str] | None:
    for magic, what, remedy in SIGNATURES:
        if magic.match(head):
            return what, remedy
    return None


def _utf8_problem(head: bytes) -> str:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.reason == "unexpected end of data" and exc.start >= len(head) - 3:
            return ""       # the read cut a character short
        return f"{exc.start}: {exc.reason}"
    return ""


def _not_a(name: str, magic: str, head: bytes) -> str:
    if not head:
        return f"it is empty, not {name} file"
    return (f"it is not {name} file (those start with the magic bytes {magic}); it is "
            f"{_looks_like(head)}")


def _looks_like(head: bytes) -> str:
    kind = _signature(head)
    if kind is not None:
        what, remedy = kind
        return f"{what}{f' (read it with {remedy})' if remedy.startswith('format') else ''}"
    if not _utf8_problem(head):
        guess = '"jsonl"' if head.lstrip().startswith(b"{") else '"csv" or "text"'
        return f"text starting {_start(head)} (read it with format {guess})"
    return f"binary data starting {head[:8]!r}"


def _start(head: bytes) -> str:
    first = head.lstrip().split(b"\n", 1)[0][:40]
    return repr(first.decode("utf-8", "replace"))
