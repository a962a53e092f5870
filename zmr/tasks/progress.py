"""Task progress: how many records an attempt has processed so far.

Task code calls :func:`advance`; whoever runs the task may install a hook (the worker's
sandbox points it at shared memory the worker reads for its heartbeats). The coordinator
kills attempts whose progress stops moving for the task timeout (Hadoop's
``mapreduce.task.timeout``), so a hung task is retried instead of stalling its job.
"""

from __future__ import annotations

from collections.abc import Callable

_hook: Callable[[int], None] | None = None


def advance(records: int) -> None:
    if _hook is not None:
        _hook(records)


def set_hook(hook: Callable[[int], None] | None) -> None:
    global _hook
    _hook = hook
