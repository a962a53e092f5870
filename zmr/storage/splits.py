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
    for offset, block in _blocks(f, pos, end, chunk_size):
        yield decode_block(block, offset, split.path, on_bad_utf8)


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


def _blocks(f: IO[bytes], pos: int, end: int | None,
            chunk_size: int) -> Iterator[tuple[int, bytes]]:
    """(offset, bytes) blocks of whole lines from ``pos``, stopping after the line that
    holds byte ``end - 1`` (the last line starting inside the split)."""
    carry = b""
    while end is None or pos < end:
        block = f.read(chunk_size)
        if not block:
            if carry:
                yield pos, carry        # a last line without a newline
            return
        data = carry + block
        if end is not None and pos + len(data) >= end:
            stop = data.find(b"\n", end - 1 - pos)
            if stop >= 0:
                yield pos, data[:stop + 1]
                return
            carry = data               # the split's last line is still running
            continue
        cut = data.rfind(b"\n") + 1
        if cut:
            yield pos, data[:cut]
            pos += cut
        carry = data[cut:]


def decode_block(block: bytes, offset: int, path: str,
                 on_bad_utf8: str = "strict") -> tuple[list[int], list[str]]:
    """Whole lines in ``block`` (starting at byte ``offset``) -> (offsets, lines)."""
    try:
        text = block.decode("utf-8", on_bad_utf8)
    except UnicodeDecodeError as exc:
        raise InputError(f"invalid UTF-8 in {path} at byte {offset + exc.start}: {exc.reason} "
                         "(use --on-bad-utf8 replace to substitute U+FFFD)") from None
    lines = text.split("\n")
    if block.endswith(b"\n"):
        lines.pop()
    # ASCII: characters are bytes, so line lengths give byte offsets without re-splitting
    lengths = map(len, lines if block.isascii() else block.split(b"\n"))
    offsets = list(itertools.accumulate((n + 1 for n in lengths), initial=offset))
    del offsets[len(lines):]
    if "\r" in text:
        lines = [ln[:-1] if ln.endswith("\r") else ln for ln in lines]
    return offsets, lines


def iter_split_records(split: Split, on_bad_utf8: str = "strict"
                       ) -> Iterator[tuple[tuple[str, int], str]]:
    """((path, byte offset), line) for every line of ``split``."""
    for offsets, lines in iter_split_lines(split, on_bad_utf8):
        for offset, line in zip(offsets, lines):
            yield (split.path, offset), line
