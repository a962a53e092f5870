"""Which lines of its split a map attempt maps, when the worker may cut the split's unread
remainder off while the attempt runs (dynamic work rebalancing; see
``zmr.storage.cutting`` for the cut, ``zmr.worker.executor`` for the worker's side)."""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from typing import Any

from zmr.core.specs import Split
from zmr.storage import cutting
from zmr.tasks import progress


class Claims:
    """The lines of a text split this attempt maps, claimed a batch at a time before the
    mapper sees them (``progress.claim``): while it runs, the worker may agree with it on
    a new end of its split (``zmr.storage.cutting``), and the lines starting at or after
    that end are another task's. Off (everything is ours) where nobody can cut: inline
    runs, and splits that cannot be cut (which claim everything at once, so the worker
    refuses any cut)."""

    def __init__(self, split: Split) -> None:
        self.split = split
        self.on = progress.claiming() and cutting.cuttable(split)
        if progress.claiming() and not self.on:
            progress.claim(progress.ALL)
        # where each file's piece starts in the split (pieces whose lines all belong to
        # another split yield no batch, so this is not counted as they are read)
        self.starts: dict[tuple[str, int], int] = {}
        before = 0
        for piece in split.pieces():
            self.starts.setdefault((piece.path, piece.start), before)
            before += piece.length

    def records(self, batches: Iterator[tuple[Split, list[Any], list[Any]]], per: int
                ) -> Iterator[tuple[Split, list[Any], list[Any]]]:
        """``batches`` of (piece, offsets, lines) in claims of ``per`` lines (0: whole
        batches), cut short at the agreed end, after which nothing more is read."""
        for piece, offsets, lines in batches:
            if not self.on:
                yield piece, offsets, lines
                continue
            step = per or len(offsets) or 1
            for start in range(0, len(offsets), step):
                part = offsets[start:start + step]
                ours = self._take(piece, part)
                if ours:
                    yield piece, part[:ours], lines[start:start + ours]
                if ours < len(part):
                    return

    def _take(self, piece: Split, offsets: list[int]) -> int:
        """How many of ``offsets`` (lines of ``piece``, in order) this attempt maps."""
        before = self.starts[piece.path, piece.start]
        last = before + offsets[-1] - piece.start
        end = progress.claim(last + 1)
        if end < 0 or last < end:
            return len(offsets)
        return bisect.bisect_left(offsets, end - before + piece.start)

    def finish(self) -> Split:
        """Everything is read: claim the rest (no cut is agreed any more), and return the
        split this attempt read: the planned one, or its head up to the agreed end."""
        if not self.on:
            return self.split
        end = progress.claim(progress.ALL)
        if 0 < end < cutting.split_length(self.split):
            return cutting.cut(self.split, end)[0]
        return self.split
