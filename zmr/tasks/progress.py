"""Task progress: how many records an attempt has processed, and how much of its input it
has read.

Task code calls :func:`advance` and :func:`read`; whoever runs the task may install hooks
(the worker's executor points them at shared memory the worker reads for its heartbeats).
The coordinator kills attempts whose record count stops moving for the task timeout
(Hadoop's ``mapreduce.task.timeout``), so a hung task is retried instead of stalling its
job; the bytes read move the job's progress during long map tasks (Hadoop reports a
fraction per task).
"""

from __future__ import annotations

from collections.abc import Callable

_advance: Callable[[int], None] | None = None
_read: Callable[[int, int], None] | None = None


def advance(records: int) -> None:
    if _advance is not None:
        _advance(records)


def read(done: int, total: int) -> None:
    """``done`` of the task's ``total`` input bytes are read."""
    if _read is not None:
        _read(done, total)


def set_hook(advance_hook: Callable[[int], None] | None,
             read_hook: Callable[[int, int], None] | None = None) -> None:
    global _advance, _read
    _advance, _read = advance_hook, read_hook
