"""Packing small files into splits (Hadoop's CombineFileInputFormat).

A job over thousands of small files would otherwise run a map task per file, and a task's
fixed cost (dispatch, process, output file, shuffle segment) dwarfs reading a few KB:
measured, grep over 867 files of 20 MB in all took 33.8 s against 2.9 s for the same bytes
in one file. So, at planning time:

* A piece that fills a split alone stays alone: a full ``split_size`` range of a big file,
  a compressed file or a Parquet/IPC file at least ``split_size`` big (or of several
  splits), a step's pair file.
* Every other piece (a small file, the last tail of a big one, a small compressed file, a
  small Parquet/IPC file whole) is packed with its neighbours in input order, into splits
  of at most ``split_size`` bytes in all. A piece that stays alone ends the packed splits
  before it, so the splits hold the input in order (a map-only job's part files too):
  a big file's tail packs with the small files after it, not with the next big file's.
* Pieces are packed only with pieces of the same hosts, so a packed split stays local to
  one machine where locality is known; files on shared storage pack together.
* The splits are in the input order of their first pieces, so the plan is deterministic.

Each piece is still read as its own file (:meth:`Split.pieces`): keys, CSV headers and
error messages are the real file's.
"""

from __future__ import annotations

from collections.abc import Iterable
from operator import itemgetter

from zmr.core.specs import Piece, Split

#: A piece of an input file, the hosts holding it, and its packing weight in bytes (None:
#: it fills a split by itself).
Planned = tuple[Piece, tuple[str, ...], int | None]


def pack_splits(planned: Iterable[Planned], split_size: int, fmt: str,
                combine: bool = True) -> list[Split]:
    """The splits of ``planned`` pieces (all of format ``fmt``): one per piece without
    ``combine``, else pieces with a weight packed by hosts into splits whose weights add up
    to at most ``split_size``."""
    done: list[tuple[int, Split]] = []          # (input position of first piece, split)
    open_bins: dict[tuple[str, ...], _Bin] = {}
    for position, (piece, hosts, weight) in enumerate(planned):
        if weight is None or not combine:
            # the splits so far close first: a map-only job's part files, read in order,
            # then hold the records in input order (wherever the hosts are the same)
            done += [packing.close(fmt) for packing in open_bins.values()]
            open_bins.clear()
            done.append((position, _split(piece, hosts, fmt)))
            continue
        packing = open_bins.get(hosts)
        if packing is not None and packing.weight + weight > split_size:
            done.append(packing.close(fmt))
            packing = None
        if packing is None:
            packing = open_bins[hosts] = _Bin(position, hosts)
        packing.pieces.append(piece)
        packing.weight += weight
    done += [packing.close(fmt) for packing in open_bins.values()]
    return [split for _, split in sorted(done, key=itemgetter(0))]


class _Bin:
    """The pieces gathered so far for one packed split."""

    __slots__ = ("hosts", "pieces", "position", "weight")

    def __init__(self, position: int, hosts: tuple[str, ...]) -> None:
        self.position, self.hosts = position, hosts
        self.pieces: list[Piece] = []
        self.weight = 0

    def close(self, fmt: str) -> tuple[int, Split]:
        first, *more = self.pieces
        return self.position, _split(first, self.hosts, fmt, tuple(more))


def _split(first: Piece, hosts: tuple[str, ...], fmt: str, more: tuple[Piece, ...] = ()
           ) -> Split:
    return Split(first.path, first.start, first.length, first.whole, hosts, fmt, more,
                 stamp=first.stamp)
