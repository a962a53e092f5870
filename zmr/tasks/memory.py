"""Giving a task's freed memory back to the operating system, so the task's resident set
follows what it holds rather than the most it ever held.

A task process runs many attempts (``worker/executor.py``) and each spill or merge frees
tens of megabytes, but freed is not returned: glibc keeps freed heap memory for reuse
(freed lines of input stay resident while the spill allocates Arrow buffers elsewhere), and
Arrow's default pool, mimalloc, keeps its pages for the next allocation. Measured on a
word-count map task at ``--memory 32MB``, mimalloc alone held ~17 MB more at the peak than
the system allocator, at the same CPU time (docs/benchmarks.md, "Memory").

So task processes (:func:`prepare_task_process`) use Arrow's system pool (glibc ``malloc``,
unless the user chose one with ``ARROW_DEFAULT_MEMORY_POOL``), and :func:`release_memory`
runs after each spill, merge pass and attempt: Arrow's ``release_unused`` and glibc's
``malloc_trim``, which hands back the free pages inside the heap too, not only its top.
(Also making glibc map every block over 256 KB on its own, ``M_MMAP_THRESHOLD``, so freeing
one unmaps it at once, measured no lower peak: the trims already return those pages.)
"""

from __future__ import annotations

import ctypes
import functools
import os
from collections.abc import Callable

import pyarrow as pa

#: The environment variable that makes Arrow pick its pool; a user's choice is kept.
POOL_VARIABLE = "ARROW_DEFAULT_MEMORY_POOL"


def prepare_task_process() -> None:
    """Make this (task) process return the memory it frees; see the module docstring."""
    if POOL_VARIABLE not in os.environ:
        pa.set_memory_pool(pa.system_memory_pool())


@functools.cache         # looked up on first use: importing this module starts nothing
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or None where there is none (musl, macOS). Looked up among
    the symbols already loaded into this process (libc is), not with
    ``ctypes.util.find_library``, which runs ``ldconfig`` in a subprocess."""
    try:
        trim: Callable[[int], int] = ctypes.CDLL(None).malloc_trim
        return trim
    except (OSError, AttributeError):
        return None


def release_memory() -> None:
    """Return the memory this process freed to the operating system (a few ms: call it after
    a spill or a merge pass, not per batch)."""
    pa.default_memory_pool().release_unused()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
