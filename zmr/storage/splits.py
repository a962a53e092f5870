"""Input discovery and line-aligned byte-range splits (Hadoop's FileInputFormat and
TextInputFormat rules).

* Inputs are files, directories (recursive) and globs; hidden (``.``) and ``_``-prefixed files
  and directories found while walking are skipped, like Hadoop's hidden-file filter; a file
  named explicitly is always taken.
* A split is a byte range. A line belongs to the split in which its *first byte* lies: a split
  that does not start at 0 skips everything up to and including the first ``\\n`` at or after
  ``start - 1``, and reads every line starting before ``end``, the last one running past
  ``end`` to its newline. So no line is lost or read twice, for any split size.
* ``.gz`` and ``.bz2`` files cannot be entered in the middle: each is one whole split.
"""

from __future__ import annotations

import bz2
import glob
import gzip
import itertools
import os
import re
from collections.abc import Iterator, Sequence
from typing import IO

from zmr.errors import ConfigError, InputError
from zmr.tasks.specs import Split

COMPRESSED = (".gz", ".bz2")
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
#: Lines handed out per batch: enough to amortise Python overhead, small enough for memory.
LINES_PER_BATCH = 16384


def parse_size(text: str | int, setting: str = "size") -> int:
    """"64MB", "8MiB", "512k", "100" or 100 -> bytes (K/M/G are powers of 1024)."""
    if isinstance(text, int) and not isinstance(text, bool):
        value = text
    else:
        match = _SIZE.match(str(text))
        if match is None:
            raise ConfigError(f"{setting}: cannot read {text!r} as a size (e.g. 64MB, 512k)")
        value = int(float(match.group(1)) * _UNITS[match.group(2).lower()])
    if value <= 0:
        raise ConfigError(f"{setting}: {text!r} must be a positive size")
    return value


# --------------------------------------------------------------------------- discovery

def discover_inputs(paths: Sequence[str]) -> list[str]:
    """Every input file named by ``paths``, absolute, sorted and without duplicates."""
    found: set[str] = set()
    for path in paths:
        matches = sorted(glob.glob(path, recursive=True)) if glob.has_magic(path) else [path]
        if not matches or not os.path.exists(matches[0]):
            raise InputError(f"input path {path} does not exist")
        for match in matches:
            found.update(_files_under(match, explicit=not glob.has_magic(path)))
    if not found:
        raise InputError(f"no input files found in: {', '.join(paths)}")
    for path in found:
        if not os.access(path, os.R_OK):
            raise InputError(f"input file {path} is not readable")
    return sorted(found)


def _hidden(name: str) -> bool:
    return name.startswith((".", "_"))


def _files_under(path: str, explicit: bool) -> list[str]:
    if os.path.isfile(path):
        return [os.path.abspath(path)] if explicit or not _hidden(os.path.basename(path)) else []
    files = []
    for root, dirs, names in os.walk(path):
        dirs[:] = sorted(d for d in dirs if not _hidden(d))
        files += [os.path.abspath(os.path.join(root, n)) for n in names if not _hidden(n)]
    return files


def plan_splits(files: Sequence[str], split_size: int) -> list[Split]:
    """Cut files into byte ranges of at most ``split_size``; compressed files whole."""
    splits = []
    for path in files:
        size = os.path.getsize(path)
        if size == 0:
            continue
        if path.endswith(COMPRESSED):
            splits.append(Split(path, 0, size, whole=True))
            continue
        splits += [Split(path, s, min(split_size, size - s)) for s in range(0, size, split_size)]
    return splits


# --------------------------------------------------------------------------- reading

def _open(split: Split) -> IO[bytes]:
    if not split.whole:
        return open(split.path, "rb")  # noqa: SIM115 - caller closes
    opener = gzip.open if split.path.endswith(".gz") else bz2.open
    return opener(split.path, "rb")  # type: ignore[return-value]


def iter_split_lines(split: Split, on_bad_utf8: str = "strict",
                     chunk_size: int = 4 << 20) -> Iterator[tuple[list[int], list[str]]]:
    """Batches of (byte offsets, lines) of the lines that belong to ``split``."""
    try:
        with _open(split) as f:
            yield from _lines(f, split, on_bad_utf8, chunk_size)
    except OSError as exc:
        raise InputError(f"cannot read input {split.path}: {exc}") from exc


def _lines(f: IO[bytes], split: Split, on_bad_utf8: str,
           chunk_size: int) -> Iterator[tuple[list[int], list[str]]]:
    pos = 0 if split.whole else _skip_partial_line(f, split.start)
    end = None if split.whole else split.end
    for offset, raw_lines in _raw_line_batches(f, pos, end, chunk_size):
        yield _decode_batch(raw_lines, offset, split.path, on_bad_utf8)


def _skip_partial_line(f: IO[bytes], start: int) -> int:
    """Position of the first line starting at or after ``start`` (see module docstring)."""
    if start == 0:
        return 0
    f.seek(start - 1)
    pos = start - 1
    while True:
        block = f.read(64 << 10)
        if not block:
            return pos
        newline = block.find(b"\n")
        if newline >= 0:
            pos += newline + 1
            f.seek(pos)
            return pos
        pos += len(block)


def _raw_line_batches(f: IO[bytes], pos: int, end: int | None,
                      chunk_size: int) -> Iterator[tuple[int, list[bytes]]]:
    """(offset of first line, complete raw lines with their b"\\n") batches from ``pos``."""
    carry = b""
    while end is None or pos < end:
        block = f.read(chunk_size)
        if not block:
            if carry:
                yield pos, [carry]
            return
        data = carry + block
        cut = data.rfind(b"\n") + 1
        if cut == 0:            # no complete line yet: keep reading (a very long line)
            carry = data
            continue
        lines = data[:cut].splitlines(keepends=True) if b"\r" not in data[:cut] else \
            _split_keep_newline(data[:cut])
        carry = data[cut:]
        yield from _until_end(pos, lines, end)
        pos += cut


def _split_keep_newline(data: bytes) -> list[bytes]:
    # bytes.splitlines would also split on a lone "\r", which is part of a line here
    parts = data.split(b"\n")
    return [p + b"\n" for p in parts[:-1]]


def _until_end(pos: int, lines: list[bytes], end: int | None) -> Iterator[tuple[int, list[bytes]]]:
    """Keep only lines that start before ``end``, in batches."""
    if end is not None and pos + sum(map(len, lines)) > end:   # only the chunk crossing end
        starts = pos
        for i, line in enumerate(lines):
            if starts >= end:
                lines = lines[:i]
                break
            starts += len(line)
    for i in range(0, len(lines), LINES_PER_BATCH):
        batch = lines[i:i + LINES_PER_BATCH]
        yield pos, batch
        pos += sum(map(len, batch))


def _decode_batch(raw_lines: list[bytes], offset: int, path: str,
                  on_bad_utf8: str) -> tuple[list[int], list[str]]:
    blob = b"".join(raw_lines)
    try:
        text = blob.decode("utf-8", on_bad_utf8)
    except UnicodeDecodeError as exc:
        raise InputError(f"invalid UTF-8 in {path} at byte {offset + exc.start}: {exc.reason} "
                         "(use --on-bad-utf8 replace to substitute U+FFFD)") from None
    lines = text.split("\n")
    lines.pop()                 # every raw line ended with "\n" (the last one may not)
    if not blob.endswith(b"\n"):
        lines.append(text[text.rfind("\n") + 1:])
    lines = [ln[:-1] if ln.endswith("\r") else ln for ln in lines] if "\r" in text else lines
    offsets = _offsets(raw_lines, offset)
    return offsets, lines


def _offsets(raw_lines: list[bytes], offset: int) -> list[int]:
    offsets = list(itertools.accumulate(map(len, raw_lines), initial=offset))
    offsets.pop()
    return offsets


def iter_split_records(split: Split, on_bad_utf8: str = "strict"
                       ) -> Iterator[tuple[tuple[str, int], str]]:
    """((path, byte offset), line) for every line of ``split``."""
    for offsets, lines in iter_split_lines(split, on_bad_utf8):
        for offset, line in zip(offsets, lines):
            yield (split.path, offset), line
