"""Cutting the unread remainder off a split that a map attempt is reading (dynamic work
rebalancing; Google Cloud Dataflow's "liquid sharding").

A cut is a *split-relative* byte count ``keep``: the attempt keeps the lines that start in
the first ``keep`` bytes of its split, counted over its files in order (a packed split's
pieces one after another, as ``MAP_INPUT_BYTES`` counts them), and the remainder becomes
a new split holding the rest. Inside the file where the cut falls, that is the
TextInputFormat rule of :mod:`zmr.storage.splits` at file offset ``E``: the head reads
every line starting before ``E`` (its last one running past ``E`` to its newline), the
remainder skips up to the first newline at or after ``E - 1``. So no line is lost or read
twice, and keys ``(path, offset)`` stay those of the uncut split.

Only text splits of plain (uncompressed) files are cut: a gzip/bz2 file is one stream,
CSV and JSON lines may key records by row, Parquet and Arrow IPC splits count row groups
or batches, and a ``fixed:N`` or pair file split is left whole too.
"""

from __future__ import annotations

from zmr.core.formats import TEXT
from zmr.core.specs import Piece, Split


def cuttable(split: Split) -> bool:
    """Whether the remainder of ``split`` may be cut off at a byte offset."""
    return split.format == TEXT and not any(p.whole for p in split.pieces())


def split_length(split: Split) -> int:
    """The bytes a split covers, over its pieces in order (what ``keep`` counts)."""
    return sum(p.length for p in split.pieces())


def choose_keep(total: int, read: int, minimum: int) -> int | None:
    """Where to cut a split of ``total`` bytes of which ``read`` are read: halfway through
    the unread part, so the attempt and the new task each get half of what is left; None
    when that half would be under ``minimum`` bytes (a tiny tail costs more to schedule
    than to read)."""
    unread = total - max(0, read)
    if unread <= 0 or unread // 2 < max(1, minimum):
        return None
    return total - unread // 2


def cut(split: Split, keep: int) -> tuple[Split, Split]:
    """``split`` as (head, remainder): the head covers its first ``keep`` bytes, the
    remainder the rest (``0 < keep < split_length``)."""
    pieces = [Piece(p.path, p.start, p.length, p.whole, p.stamp) for p in split.pieces()]
    if not 0 < keep < split_length(split):
        raise ValueError(f"cannot cut a split of {split_length(split)} bytes at {keep}")
    before, k = 0, 0
    while before + pieces[k].length <= keep:    # the piece holding byte ``keep``
        before += pieces[k].length
        k += 1
    at = pieces[k].start + keep - before        # file offset E of the cut in it
    inside = at > pieces[k].start
    head = pieces[:k] + ([pieces[k]._replace(length=at - pieces[k].start)] if inside else [])
    tail = [pieces[k]._replace(start=at, length=pieces[k].start + pieces[k].length - at),
            *pieces[k + 1:]]
    return _packed(split, head), _packed(split, tail)


def _packed(like: Split, pieces: list[Piece]) -> Split:
    first, more = pieces[0], tuple(pieces[1:])
    return Split(first.path, first.start, first.length, first.whole, like.hosts, like.format,
                 more, like.input, first.stamp)
