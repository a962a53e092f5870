"""Long-lived task processes, one per slot, reused across the attempts of a job (Spark's
python worker reuse, Hadoop's JVM reuse).

User code may hold the GIL for minutes, print, leak memory or call ``os._exit``; in a child
process none of that can stop the worker's heartbeats, and a dead child only fails its own
attempt. Executors come from a ``forkserver`` that has already imported pyarrow and the task
code, and each keeps the job it last ran loaded, so an attempt costs a message on a pipe,
not a fork and an unpickle. An executor serves one job at a time: a task of another job gets
a fresh process, so module-level state never leaks from one job into the next; and one
whose attempt failed is retired (``slots.py``), so no retry runs on a failed attempt's state.

The worker talks to an executor over a duplex pipe, in the typed messages of ``pipe.py``:
a ``RunAttempt`` in (the spec is the MapTaskSpec or ReduceTaskSpec object, pickled by the
pipe: both ends are this worker's own processes), an ``Outcome`` out. Every executor runs
with the worker's one ``ExecutorConfig``. (``inprocess.py`` is the same interface without
the process, for tests.) The pipe is the
worker's only way to see the executor: it becomes readable when the result is there *or*
the process died (EOF), so it sits in the worker's poller next to the ZeroMQ sockets and
nothing waits on a timer.
The child's stdout and stderr go to the running attempt's log file.

A job's ``--task-memory`` limit is enforced the way Hadoop's ContainersMonitor does it: the
worker reads each busy executor's resident set size (:meth:`Executor.check_memory`) and kills
one over the limit. Not ``RLIMIT_AS``: Arrow and numpy reserve far more address space than
they touch.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import time
import uuid
from multiprocessing import forkserver
from typing import Any

from zmr.core.ids import AttemptId
from zmr.core.specs import MapTaskSpec, ReduceTaskSpec
from zmr.storage import cutting, layout
from zmr.tasks.progress import ALL
from zmr.worker import child
from zmr.worker.pipe import (
    CLAIMED,
    END,
    IDLE_PROGRESS,
    ExecutorConfig,
    Outcome,
    Refusal,
    RunAttempt,
    StopExecutor,
)

#: What the fork server imports once for all its executors.
PRELOAD = ["zmr.tasks.map_task", "zmr.tasks.reduce_task", "zmr.shuffle.fetcher",
           "zmr.job.loader", "zmr.worker.child"]
_context = multiprocessing.get_context("forkserver")
_context.set_forkserver_preload(PRELOAD)
#: How long a cut waits for the task process's lock (held for a few instructions at a time)
SHRINK_WAIT_S = 1.0
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def warm_up() -> None:
    """Start the fork server (and its preloads) now, so the first task never stalls the
    worker's messaging loop (and heartbeats) while pyarrow is imported. One the worker
    forked from itself (``forkserver.py``) is warm already."""
    server: Any = forkserver._forkserver     # private state typeshed does not describe
    if server._forkserver_pid is not None:
        return
    probe = _context.Process(target=child.noop, daemon=True)
    probe.start()
    probe.join()


class Executor:
    """One task process; runs one attempt at a time."""

    def __init__(self, config: ExecutorConfig) -> None:
        parent, child_end = _context.Pipe(duplex=True)
        self.conn = parent
        # pipe.RECORDS, READ, TOTAL, CLAIMED, END: records processed, bytes read and to
        # read; the claims of a map on its lines and the end of its split agreed with us
        # (the last two under ``fence``, see ``shrink``)
        self.progress = _context.Array("q", 5, lock=False)
        self.fence = _context.Lock()
        # what attempts print lands here first (a file, not a directory: a worker's
        # directories are its jobs' data)
        self.scratch_path = layout.executor_scratch_path(config.scratch_dir,
                                                         uuid.uuid4().hex[:12])
        self.log_path = ""                   # the running attempt's log
        self.process = _context.Process(
            target=child.executor_main,
            args=(child_end, self.progress, self.fence, self.scratch_path, config),
            name="zmr-executor", daemon=True)
        self.process.start()
        child_end.close()
        self.job_id: str | None = None       # the job whose code this process has loaded
        self.attempt: AttemptId | None = None
        self.cuttable = False                # the running attempt's split may be cut
        self.started_s = 0.0
        self.tasks_run = 0
        self.memory_limit = 0                # bytes of RSS for the running attempt; 0 = none
        self._verdict: Outcome | None = None  # decided by the worker (memory limit)

    @staticmethod
    def warm_up() -> None:
        """Get ready to start executors quickly (the fork server): see :func:`warm_up`."""
        warm_up()

    # -- state -----------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self.attempt is not None

    def fileno(self) -> int:
        return self.conn.fileno()

    def alive(self) -> bool:
        return self.process.is_alive()

    # -- running ---------------------------------------------------------------------------
    def start(self, attempt: AttemptId, spec: MapTaskSpec | ReduceTaskSpec, code: bytes,
              log_path: str) -> bool:
        """Hand an attempt to this executor; False if the process is gone (it died while
        idle, e.g. killed from outside): the caller takes another executor."""
        self.progress[:] = list(IDLE_PROGRESS)    # idle: the process holds no lock
        send_code = code if attempt.job_id != self.job_id else None
        try:
            self.conn.send(RunAttempt(spec, attempt.job_id, send_code, log_path))
        except (OSError, ValueError):
            return False
        self.job_id, self.attempt, self.log_path = attempt.job_id, attempt, log_path
        self.started_s = time.time()
        self.memory_limit = spec.task_memory
        self.cuttable = isinstance(spec, MapTaskSpec) and cutting.cuttable(spec.split)
        self._verdict = None
        return True

    def shrink(self, attempt: AttemptId, keep: int) -> Refusal:
        """Agree with the running map ``attempt`` that it stops before split-relative byte
        ``keep`` (dynamic work rebalancing): ("", False) if it will, else why not and
        whether that is for good. The process claims its lines under the same lock before
        it maps them (``progress.claim``), so a cut is accepted only while every line
        mapped so far starts before ``keep``."""
        if attempt != self.attempt or not self.alive():
            return "the attempt does not run here", True
        if not self.cuttable:
            return "its split cannot be cut", True
        if not self.fence.acquire(timeout=SHRINK_WAIT_S):   # held by a process just killed
            return "its task process does not answer", False
        try:
            claimed, end = self.progress[CLAIMED], self.progress[END]
            if claimed >= ALL:
                return "it has read its whole split", True
            if 0 <= end <= keep:
                return f"it already stops at byte {end}", False
            if claimed > keep:
                return f"it has read past byte {keep} (to {claimed})", False
            self.progress[END] = keep
            return "", False
        finally:
            self.fence.release()

    def collect(self) -> Outcome | None:
        """The running attempt's outcome once it has one (its result arrived, or the process
        died), else None. Never blocks. Afterwards the executor is idle (or dead)."""
        outcome = self._verdict
        if outcome is None and self.conn.poll():
            try:
                outcome = self.conn.recv()
            except (EOFError, OSError):
                outcome = None
        if outcome is None and self.alive():
            return None
        if outcome is None or self._verdict is not None:
            outcome = self._verdict or self._death_outcome()
            self.kill()
            child.keep_output(self.scratch_path, self.log_path)   # its last words
        self.attempt = None
        self.tasks_run += 1
        return outcome

    def _death_outcome(self) -> Outcome:
        self.process.join(5)
        code = self.process.exitcode
        reason = f"killed by signal {-code}" if code and code < 0 else f"exit code {code}"
        return Outcome(False, error=f"task process died ({reason}) without reporting a result")

    def check_memory(self) -> bool:
        """SIGKILL the process once its RSS is over the running attempt's limit; True if it
        was. The outcome is decided now, so a result racing the kill is ignored."""
        if not self.busy or not self.memory_limit or self._verdict is not None:
            return False
        used = resident_bytes(self.process.pid)
        if used <= self.memory_limit:
            return False
        self.process.kill()
        # rounded up: 100.4 MB over a 100 MB limit must not read "used 100 MB, over 100 MB"
        self._verdict = Outcome(False, error=f"task attempt used {_mb(used, up=True)} of "
                                "memory, over the job's --task-memory limit of "
                                f"{_mb(self.memory_limit)}; killed")
        return True

    def holds_too_much(self) -> bool:
        """Whether this idle process holds half of its last attempt's memory limit: the
        next attempt would have little room, so it gets a fresh process."""
        limit = self.memory_limit
        return bool(limit) and resident_bytes(self.process.pid) > limit // 2

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5)
        self.conn.close()

    def forget_scratch(self) -> None:
        """Remove the scratch file (the executor is gone or going)."""
        try:
            os.unlink(self.scratch_path)
        except OSError:
            pass

    def retire(self) -> None:
        """Let an idle executor go (its job is over, or it ran its share of attempts): it
        exits on its own when it reads the end of its pipe, and its parent, the fork
        server, reaps it, so the worker's loop never waits for it."""
        try:
            self.conn.send(StopExecutor())
        except (OSError, ValueError):
            pass
        self.conn.close()


def resident_bytes(pid: int | None) -> int:
    """Resident set size of process ``pid`` (its own, not its children's); 0 when unknown
    (the process is gone, or there is no /proc: the limit is then not enforced)."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE_SIZE
    except (OSError, IndexError, ValueError):
        return 0


def _mb(size: int, up: bool = False) -> str:
    megabytes = size / (1 << 20)
    return f"{math.ceil(megabytes) if up else round(megabytes)} MB"
