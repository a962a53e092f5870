"""Which lines of its split a map attempt maps, when the worker may cut the split's unread
remainder off while the attempt runs (dynamic work rebalancing; see
``zmr.storage.cutting`` for the cut, ``zmr.worker.executor`` for the worker's side)."""

from __future__ import annotations

import bisect
import time
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
        """``batches`` of (piece, offsets, lines) in claims of at most ``per`` lines (0:
        whole batches), fewer when the mapper is slow (:class:`Pace`), cut short at the
        agreed end, after which nothing more is read."""
        pace = Pace(per)
        for piece, offsets, lines in batches:
            if not self.on:
                yield piece, offsets, lines
                continue
            start = 0
            while start < len(offsets):
                step = pace.lines() or len(offsets)
                part = offsets[start:start + step]
                ours = self._take(piece, part)
                if ours:
                    yield piece, part[:ours], lines[start:start + ours]
                    pace.mapped(ours)
                if ours < len(part):
                    return
                start += step

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


class Pace:
    """How many lines a map claims at a time: at most ``most`` (0: whole batches), and
    about ``CLAIM_S`` of mapper work. A claim is also when progress is reported, so a
    CPU-heavy mapper (milliseconds a line) that claimed 512 lines would hold a second of
    work nobody can cut, and say where it is once a second: the worker could never find
    an unread remainder worth cutting in a split of a few hundred kB. Starts small and
    follows the mapper's measured speed (a claim costs a lock and two writes, ~1 us)."""

    FIRST = 8

    def __init__(self, most: int) -> None:
        self.most = most
        self._lines = min(self.FIRST, most) if most else 0
        self._since = time.perf_counter()

    def lines(self) -> int:
        return self._lines

    def mapped(self, lines: int) -> None:
        """``lines`` were mapped since the last call (or the start)."""
        now = time.perf_counter()
        took, self._since = now - self._since, now
        if self.most and lines:
            per_line = took / lines
            fit = round(CLAIM_S / per_line) if per_line > 0 else self.most
            self._lines = max(1, min(self.most, fit, 2 * self._lines))


#: The mapper work (seconds) one claim of lines stands for (:class:`Pace`).
CLAIM_S = 0.02
