"""Input discovery and line-aligned byte-range splits (Hadoop's FileInputFormat and
TextInputFormat rules).

* Inputs are found by :mod:`zmr.storage.discovery` (``discover_inputs`` and
  ``list_inputs`` are re-exported here); small files and file tails are packed into shared
  splits by :mod:`zmr.storage.packing`.
* A split is a byte range. A line belongs to the split in which its *first byte* lies: a split
  that does not start at 0 skips everything up to and including the first ``\\n`` at or after
  ``start - 1``, then reads every line starting before ``end``, the last one running past
  ``end`` to its newline or EOF. So no line is lost or read twice, for any split size.
* ``.gz`` and ``.bz2`` files cannot be entered in the middle: each is one whole split, and its
  offsets count bytes of the decompressed stream.
* Lines end in ``\\n`` or ``\\r\\n``; the terminator is not part of the line. Any other
  ``\\r`` stays in the line, except one ending the file's unterminated last line, which is
  dropped (so the offsets and lines match splitting the file on ``\\n`` and stripping one
  trailing ``\\r`` from each piece).
"""

from __future__ import annotations

import bz2
import gzip
import zlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import IO

import numpy as np
import pyarrow as pa

from zmr.core.errors import BadInputError, ConfigError, InputError
from zmr.core.formats import FILES
from zmr.core.specs import Piece, Split
from zmr.settings.values import parse_size  # re-exported: callers size their splits with it
from zmr.storage import fs
from zmr.storage.discovery import InputFile, discover_inputs, file_stamp, list_inputs
from zmr.storage.fixed import fixed_pieces, iter_fixed_columns, iter_fixed_records, record_size
from zmr.storage.input_formats import LINE_FORMATS, TABLE_FORMATS, table_splits
from zmr.storage.packing import Planned, pack_splits
from zmr.storage.sizing import OPEN_COST, auto_split_size

__all__ = ["InputFile", "discover_inputs", "iter_split_lines", "iter_split_records",
           "list_inputs", "parse_size", "plan_splits"]

COMPRESSED = (".gz", ".bz2")
BAD_UTF8_MODES = ("strict", "replace")

# Decoding 256 KiB at a time keeps the bytes, the decoded text and its line objects in the
# CPU cache: measured ~550 MB/s against ~350 MB/s when a 4 MiB chunk is decoded in one go.
# It also makes batches of a few thousand typical lines.
_BATCH_BYTES = 256 << 10
_MAX_BATCH_LINES = 64 << 10        # keeps batches of tiny lines bounded too
_SKIP_READ = 64 << 10              # reads while looking for the end of a partial first line
_TAIL_READ = 64 << 10              # reads past the split end while finishing its last line

Batch = tuple[list[int], list[str]]
Buffer = bytes | memoryview
_NEWLINE = ord("\n")


def plan_splits(files: Sequence[str | InputFile], split_size: int | None,
                input_format: str = "text", *, combine: bool = True,
                hosts: Mapping[str, tuple[str, ...]] | None = None, parallelism: int = 1,
                cut_alone: bool = False) -> list[Split]:
    """Cut ``files`` into byte ranges of at most ``split_size``, in order; with ``combine``
    pack small files and file tails together (:mod:`zmr.storage.packing`). ``split_size``
    None: sized to the input and the ``parallelism`` slots that will run it
    (:mod:`zmr.storage.sizing`), each small file weighing its open cost more in packing.

    ``cut_alone`` (``--reuse``): with ``split_size`` None, each file is sized as if it
    were the whole input, so adding or removing a file leaves the others' splits (and
    their kept map outputs) as they were; pass ``combine=False`` with it.

    Empty files give no split; ``.gz``/``.bz2`` files give one ``whole`` split whose length
    is the compressed size, and so does each pair file of ``input_format`` ``"arrow"``.
    ``hosts`` maps a path to the machines holding it (locality); packing keeps files of
    different hosts apart. Sizes come from :class:`InputFile` entries when given.
    """
    listed = [(f.path, f.stamp) if isinstance(f, InputFile) else (f, file_stamp(f))
              for f in files]
    auto = split_size is None
    if split_size is None:
        split_size = auto_split_size([stamp.size for _, stamp in listed], parallelism)
    open_cost = OPEN_COST if auto else 0
    if split_size <= 0:
        raise ConfigError(f"split size must be positive, got {split_size}")
    planned: list[Planned] = []
    for path, stamp in listed:
        if stamp.size or input_format == FILES:      # mapper_raw is called for empty files too
            where = hosts.get(path, ()) if hosts else ()
            size = auto_split_size([stamp.size], parallelism) if auto and cut_alone \
                else split_size
            # each piece carries what its file looked like, checked before a map reads it
            planned += [(piece._replace(stamp=stamp), where,
                         None if weight is None else weight + open_cost) for piece, weight in
                        _file_pieces(path, stamp.size, size, input_format, auto)]
    return pack_splits(planned, split_size, input_format, combine)


def _file_pieces(path: str, size: int, split_size: int, fmt: str, even: bool = False
                 ) -> list[tuple[Piece, int | None]]:
    """One file's pieces, each with its packing weight in bytes (None: never packed, as a
    full-size range of a big file, which fills a split by itself). ``even`` (a split size
    planning chose): a text file is cut into equal ranges of at most ``split_size``, so
    no short tail is left to run as a task of its own."""
    if fmt in TABLE_FORMATS:
        parts = table_splits(path, fmt, split_size)
        small = size if len(parts) == 1 and size < split_size else None
        return [(Piece(s.path, s.start, s.length), small) for s in parts]
    if fmt == FILES:                            # mapper_raw: the whole file, never packed
        return [(Piece(path, 0, size, True), None)]
    record = record_size(fmt)
    if record is not None:
        return fixed_pieces(path, size, split_size, record, _is_compressed(path))
    if fmt not in ("text", *LINE_FORMATS):      # a step's pair file: one reducer's output
        return [(Piece(path, 0, size, True), None)]
    if size < split_size:                       # the common case of many small files
        return [(Piece(path, 0, size, _is_compressed(path)), size)]
    if _is_compressed(path):
        return [(Piece(path, 0, size, True), None)]
    if even:
        split_size = -(-size // -(-size // split_size))
    full, tail = divmod(size, split_size)
    pieces: list[tuple[Piece, int | None]] = [
        (Piece(path, i * split_size, split_size), None) for i in range(full)]
    if tail:                                    # the last tail packs like a small file
        pieces.append((Piece(path, full * split_size, tail), tail))
    return pieces


def _is_compressed(path: str) -> bool:
    return path.lower().endswith(COMPRESSED)


# --------------------------------------------------------------------------- reading

def iter_split_lines(split: Split, on_bad_utf8: str = "strict",
                     chunk_size: int = 4 << 20, max_line: int = 0) -> Iterator[Batch]:
    """Batches ``(byte_offsets, lines)`` (parallel lists) of the lines belonging to ``split``.

    Reads ``chunk_size`` bytes at a time, so memory stays bounded whatever the split size
    (a single line longer than a chunk is still read whole, up to ``max_line`` bytes
    without its newline: a longer one raises ``InputError`` naming the file, the line's
    offset and the ``MAX_LINE_LENGTH`` setting before it is held in memory; 0 = no limit).
    Invalid UTF-8 raises ``InputError`` naming the file and byte offset unless
    ``on_bad_utf8`` is ``"replace"``.
    """
    if on_bad_utf8 not in BAD_UTF8_MODES:
        raise ConfigError(f"on_bad_utf8 must be one of {BAD_UTF8_MODES}, got {on_bad_utf8!r}")
    if split.more:      # batches carry no path: the files of a packed split must stay apart
        raise ValueError("a packed split is read one piece at a time: see Split.pieces()")
    if chunk_size <= 0:
        raise ConfigError(f"chunk size must be positive, got {chunk_size}")
    try:
        with _open(split) as f:
            if max_line:        # a line longer than a chunk is what the limit must see
                chunk_size = min(chunk_size, max_line)
            if split.whole:
                pieces = _line_pieces(f, 0, None, chunk_size, max_line)
            else:
                pos = _first_line_start(f, split.start, split.end)
                pieces = _line_pieces(f, pos, split.end, chunk_size, max_line)
            for offset, piece in _limited(pieces, max_line, split.path):
                yield from _decode(piece, offset, split.path, on_bad_utf8)
    # EOFError and zlib.error are how gzip/bz2 report truncated or corrupt streams
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(f"cannot read input {split.path}: {exc}") from exc


@contextmanager
def _open(split: Split) -> Iterator[IO[bytes]]:
    """The split's file, decompressed if it is gzip/bz2; closed, underlying file included,
    at the end (a ``GzipFile`` over a file object leaves that file open)."""
    with fs.open_binary(split.path) as raw:
        if not (split.whole and _is_compressed(split.path)):
            yield raw
            return
        opener = gzip.open if split.path.lower().endswith(".gz") else bz2.open
        with opener(raw, "rb") as f:
            yield f


def _first_line_start(f: IO[bytes], start: int, end: int) -> int:
    """Offset of the first line starting in ``[start, end)``, or ``end`` if there is none.

    That line follows the first ``\\n`` at or after ``start - 1``. Only bytes before
    ``end - 1`` are searched: a newline any later starts a line past the split, so a huge
    line spanning many splits is not re-read by each of them.
    """
    if start == 0:
        return 0
    pos = start - 1
    f.seek(pos)
    while pos < end - 1:
        piece = f.read(min(_SKIP_READ, end - 1 - pos))
        if not piece:
            return end
        newline = piece.find(b"\n")
        if newline >= 0:
            f.seek(pos + newline + 1)
            return pos + newline + 1
        pos += len(piece)
    return end


def _limited(pieces: Iterator[tuple[int, Buffer]], max_line: int, path: str
             ) -> Iterator[tuple[int, Buffer]]:
    """``pieces``, refusing a line over ``max_line`` bytes (0: no limit). Pieces are whole
    lines read in chunks of at most ``max_line`` bytes, so a longer line always crosses
    chunks and is seen here as it grows (``_line_pieces`` reports it through
    ``LineTooLong`` before joining it), never after it was assembled in memory."""
    try:
        yield from pieces
    except LineTooLong as exc:
        raise BadInputError(f"{path}: the line at byte {exc.offset} is longer than "
                         f"MAX_LINE_LENGTH ({max_line:,} bytes; --max-line-length SIZE "
                         "raises it, e.g. 1GB, if the task's memory allows)") from None


class LineTooLong(Exception):
    """A line grew past the limit; ``offset`` is where it starts in the file."""

    def __init__(self, offset: int) -> None:
        super().__init__(offset)
        self.offset = offset


def _line_pieces(f: IO[bytes], pos: int, end: int | None, chunk_size: int,
                 max_line: int = 0) -> Iterator[tuple[int, Buffer]]:
    """``(offset, bytes)`` pieces of whole lines read from ``pos``: every line whose first
    byte lies before ``end`` (all lines if ``end`` is None), the last one through its
    newline or EOF. Each piece ends with a newline except a final unterminated line.

    Pieces are memoryviews into the chunk just read (copying a 4 MiB chunk into fresh
    buffers cost ~15% of the throughput); only a line crossing chunks is joined.
    """
    if end is not None and pos >= end:
        return
    head = pos                  # file offset of the first byte in ``pending``
    pending: list[Buffer] = []  # bytes after the last newline seen: a line still running
    held = 0                    # bytes in ``pending``
    while True:
        # near the end, read just enough to find where the split's last line stops
        want = chunk_size if end is None else min(chunk_size, max(end - pos, _TAIL_READ))
        chunk = f.read(want)
        if not chunk:
            if pending:         # an unterminated last line (a final "\r" is dropped)
                line = b"".join(pending)
                if max_line and len(line) - line.endswith(b"\r") > max_line:
                    raise LineTooLong(head)
                yield head, line
            return
        if end is not None and pos + len(chunk) >= end:     # byte end-1 is read by now
            stop = chunk.find(b"\n", max(end - 1 - pos, 0)) + 1
            final = stop > 0
            if not final:       # the split's last line runs on: keep the whole ones before
                stop = chunk.rfind(b"\n") + 1
        else:
            final, stop = False, chunk.rfind(b"\n") + 1
        for start, piece in _cut(chunk, stop):
            if pending:         # the first piece finishes the line carried over
                if max_line and held + _line_length(chunk) > max_line:
                    raise LineTooLong(head)
                pending.append(piece)
                yield head, b"".join(pending)
                pending, held = [], 0
            else:
                yield pos + start, piece
        if final and stop:
            return
        if stop < len(chunk):
            if not pending:
                head = pos + stop
            pending.append(memoryview(chunk)[stop:])
            held += len(chunk) - stop
            if max_line and held > max_line + 1:    # + 1: a "\r" whose "\n" is next
                raise LineTooLong(head)
        pos += len(chunk)


def _line_length(chunk: bytes) -> int:
    """Bytes of ``chunk``'s first line, without its newline ("\n" or "\r\n")."""
    newline = chunk.find(b"\n")
    return newline - (newline > 0 and chunk[newline - 1] == 13)


def _cut(chunk: bytes, stop: int) -> Iterator[tuple[int, memoryview]]:
    """``chunk[:stop]`` (whole lines) in pieces of about ``_BATCH_BYTES``, cut at newlines."""
    view, pos = memoryview(chunk), 0
    while pos < stop:
        cut = chunk.find(b"\n", pos + _BATCH_BYTES - 1, stop) + 1 or stop
        yield pos, view[pos:cut]
        pos = cut


def _decode(piece: Buffer, offset: int, path: str, on_bad_utf8: str) -> Iterator[Batch]:
    """Whole lines in ``piece`` (its first byte at file offset ``offset``) as batches."""
    try:
        text = str(piece, "utf-8", on_bad_utf8)
    except UnicodeDecodeError as exc:
        raise BadInputError(f"invalid UTF-8 in {path} at byte {offset + exc.start}: {exc.reason} "
                         "(use --on-bad-utf8 replace to substitute U+FFFD)") from None
    lines = text.split("\n")
    terminated = piece[-1] == _NEWLINE
    if terminated:
        lines.pop()             # the empty string after the last terminator is no line
    if "\r" in text:
        # measured faster than text.replace("\r\n", "\n") before the split (~410 vs
        # ~300 MB/s), and it also strips the "\r" ending an unterminated last line
        lines = [ln[:-1] if ln[-1:] == "\r" else ln for ln in lines]
    offsets = _line_starts(piece, offset, terminated)
    if len(lines) <= _MAX_BATCH_LINES:
        yield offsets, lines
        return
    for i in range(0, len(lines), _MAX_BATCH_LINES):
        yield offsets[i:i + _MAX_BATCH_LINES], lines[i:i + _MAX_BATCH_LINES]


def _line_starts(piece: Buffer, offset: int, terminated: bool) -> list[int]:
    """File offsets of the lines in ``piece``.

    Found from the newline bytes with numpy, so they are byte offsets for any text (ASCII
    or not) without a Python-level pass over the lines; measured ~2.4 GB/s, faster than
    summing the decoded lines' lengths even for pure ASCII.
    """
    starts = np.flatnonzero(np.frombuffer(piece, np.uint8) == _NEWLINE)
    if terminated:
        starts = starts[:-1]    # the last newline ends the piece: no line starts after it
    starts += offset + 1
    return [offset, *starts.tolist()]


def iter_split_fixed(split: Split) -> Iterator[tuple[list[int], list[bytes]]]:
    """Batches ``(byte offsets, records)`` of a ``fixed:N`` split (see storage.fixed)."""
    record = record_size(split.format)
    assert record is not None, split.format
    try:
        yield from iter_fixed_records(split, record, _open(split))
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(f"cannot read input {split.path}: {exc}") from exc


def iter_split_fixed_columns(split: Split, chunk_bytes: int
                             ) -> Iterator[tuple[np.ndarray, pa.BinaryArray]]:
    """Batches ``(byte offsets, records column)`` of a ``fixed:N`` split (``map_batch``)."""
    record = record_size(split.format)
    assert record is not None, split.format
    try:
        yield from iter_fixed_columns(split, record, _open(split), chunk_bytes)
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(f"cannot read input {split.path}: {exc}") from exc


def iter_split_records(split: Split, on_bad_utf8: str = "strict"
                       ) -> Iterator[tuple[tuple[str, int], str]]:
    """``((path, byte offset), line)`` for every line of ``split`` (of each of its files, if
    it is packed), one at a time."""
    for piece in split.pieces():
        for offsets, lines in iter_split_lines(piece, on_bad_utf8):
            for offset, line in zip(offsets, lines, strict=True):
                yield (piece.path, offset), line
