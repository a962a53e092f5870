"""Task progress: how many records an attempt has processed, and how much of its input it
has read.

Task code calls :func:`advance` and :func:`read`; whoever runs the task may install hooks
(the worker's executor points them at shared memory the worker reads for its heartbeats).
The coordinator kills attempts whose record count stops moving for the task timeout
(Hadoop's ``mapreduce.task.timeout``), so a hung task is retried instead of stalling its
job; the bytes read move the job's progress during long map tasks (Hadoop reports a
fraction per task).

A map reading a text split also *claims* its lines before it maps them (:func:`claim`):
the worker may cut the unread remainder off the split while the attempt runs (dynamic
work rebalancing, ``zmr.storage.cutting``), and the claims are what it checks, in the
executor's shared memory under one lock, so the attempt and the cut never disagree on
which lines the attempt maps.
"""

from __future__ import annotations

from collections.abc import Callable

_advance: Callable[[int], None] | None = None
_read: Callable[[int, int], None] | None = None
_claim: Callable[[int], int] | None = None
#: Claims everything: the attempt has read all it will (or its split cannot be cut).
ALL = 1 << 62


def advance(records: int) -> None:
    if _advance is not None:
        _advance(records)


def read(done: int, total: int) -> None:
    """``done`` of the task's ``total`` input bytes are read."""
    if _read is not None:
        _read(done, total)


def claiming() -> bool:
    """Whether anyone may cut this attempt's split (a worker's executor runs it)."""
    return _claim is not None


def claim(upto: int) -> int:
    """The attempt is about to map the lines starting before split-relative byte ``upto``;
    returns the end agreed with the worker (-1: none), before which those lines must
    start to be this attempt's: the ones at or after it belong to another task now."""
    return _claim(upto) if _claim is not None else -1


def set_hook(advance_hook: Callable[[int], None] | None,
             read_hook: Callable[[int, int], None] | None = None,
             claim_hook: Callable[[int], int] | None = None) -> None:
    global _advance, _read, _claim
    _advance, _read, _claim = advance_hook, read_hook, claim_hook
