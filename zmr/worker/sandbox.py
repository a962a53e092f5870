"""Runs one task attempt in a child process, away from the worker's messaging loop.

User code may hold the GIL for minutes, print, leak memory or call ``os._exit``; in a child
process none of that can stop the worker's heartbeats, and a dead child only fails its own
attempt. Children come from a ``forkserver`` that has already imported pyarrow and the task
code, so starting one costs a fork, not an interpreter start-up. The child's stdout and stderr
go to a per-attempt log file. The result (or the traceback text) comes back over a pipe as
plain data.

A job's ``--task-memory`` limit is enforced the way Hadoop's ContainersMonitor does it: the
worker reads each child's resident set size whenever it polls it and kills a child over the
limit. Not ``RLIMIT_AS``: Arrow and numpy reserve far more address space than they touch.
"""

from __future__ import annotations

import errno
import multiprocessing
import os
import select
import signal
import sys
import threading
import traceback
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from zmr.transport.security import Curve

_PRELOAD = ["zmr.tasks.map_task", "zmr.tasks.reduce_task", "zmr.shuffle.fetcher",
            "zmr.job.loader"]
_context = multiprocessing.get_context("forkserver")
_context.set_forkserver_preload(_PRELOAD)
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def warm_up() -> None:
    """Start the fork server (and its preloads) now, so the first task never stalls the
    worker's messaging loop (and heartbeats) while pyarrow is imported."""
    probe = _context.Process(target=_noop, daemon=True)
    probe.start()
    probe.join()


def _noop() -> None:
    pass


@dataclass
class Outcome:
    """How an attempt ended: ``result`` on success, else ``error``/``traceback``."""

    ok: bool
    result: dict[str, Any] | None = None
    error: str = ""
    traceback: str = ""
    lost_map: int = -1
    disk_error: bool = False     # the worker's own disk failed, not the user's code

#: errno values that mean "this worker's storage is unusable", not "the task is wrong"
DISK_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EIO})


class Sandbox:
    """One attempt running in a child process."""

    def __init__(self, kind: str, spec: dict[str, Any], job_code: bytes, own_endpoint: str,
                 log_path: str, curve: Curve | None = None) -> None:
        parent, child = _context.Pipe(duplex=False)
        self._conn = parent
        self.progress = _context.Value("q", 0, lock=False)   # records processed, shared
        self.process = _context.Process(
            target=_child_main,
            args=(kind, spec, job_code, own_endpoint, log_path, child, self.progress, curve),
            daemon=True)
        self.process.start()
        child.close()
        self._outcome: Outcome | None = None
        self.memory_limit = int(spec.get("task_memory", 0))    # bytes of RSS; 0 = no limit

    def poll(self) -> Outcome | None:
        """The outcome once the attempt has ended, else None. Never blocks."""
        if self._outcome is None and self._conn.poll():
            try:
                self._outcome = self._conn.recv()
            except EOFError:
                pass
        if self._outcome is None and self.memory_limit:
            self._enforce_memory_limit()
        if self.process.is_alive():
            return None
        self.process.join()
        if self._outcome is None:
            code = self.process.exitcode
            reason = f"killed by signal {-code}" if code and code < 0 else f"exit code {code}"
            self._outcome = Outcome(False, error=f"task process died ({reason}) without "
                                    "reporting a result")
        self._conn.close()
        return self._outcome

    def _enforce_memory_limit(self) -> None:
        """SIGKILL the child once its RSS is over the limit. The outcome is decided now, so a
        result racing the kill is ignored; the next polls only wait for the child to die."""
        used = resident_bytes(self.process.pid)
        if used <= self.memory_limit:
            return
        self.process.kill()
        self._outcome = Outcome(False, error=f"task attempt used {_mb(used)} of memory, over "
                                f"the job's --task-memory limit of {_mb(self.memory_limit)}; "
                                "killed")

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5)
        self._conn.close()


def resident_bytes(pid: int | None) -> int:
    """Resident set size of process ``pid`` (its own, not its children's); 0 when unknown
    (the process is gone, or there is no /proc: the limit is then not enforced)."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE_SIZE
    except (OSError, IndexError, ValueError):
        return 0


def _mb(size: int) -> str:
    return f"{size / (1 << 20):.0f} MB"


def _child_main(kind: str, spec: dict[str, Any], job_code: bytes, own_endpoint: str,
                log_path: str, conn: Connection, shared_progress: Any,
                curve: Curve | None = None) -> None:
    _redirect_output(log_path)
    _die_with_worker(conn)
    from zmr.tasks import progress

    def advance(records: int) -> None:
        shared_progress.value += records

    progress.set_hook(advance)
    try:
        conn.send(Outcome(True, result=_run(kind, spec, job_code, own_endpoint, curve)))
    except BaseException as exc:  # noqa: BLE001 - the one place that reports anything raised
        from zmr.errors import FetchFailedError
        lost = exc.map_index if isinstance(exc, FetchFailedError) else -1
        text = traceback.format_exc()
        disk = _disk_error(exc, spec.get("work_dir", ""))
        conn.send(Outcome(False, error=disk or f"{type(exc).__name__}: {exc}", traceback=text,
                          lost_map=lost, disk_error=bool(disk)))
        _log_quietly(text)
    finally:
        conn.close()
        _log_quietly("")


def _die_with_worker(conn: Connection) -> None:
    """Stop this attempt as soon as its worker is gone. The task process is a child of the
    fork server, which outlives the worker while any of its children run, so neither
    PDEATHSIG nor the worker's teardown reaches it after a ``kill -9``: it would run on as an
    orphan, using a CPU and writing into a dead worker's directory. The worker holds the
    only read end of the result pipe; once it is closed, polling our write end reports an
    error (POLLERR), whatever the task is doing. A dup keeps the watch independent of
    ``conn.close()`` at the end of a normal run."""
    fd = os.dup(conn.fileno())

    def watch() -> None:
        poller = select.poll()
        poller.register(fd, 0)              # no events asked: wakes only on POLLERR/POLLHUP
        while not poller.poll(60_000):
            pass
        os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=watch, name="zmr-worker-watch", daemon=True).start()


def _log_quietly(text: str) -> None:
    """Write to the attempt's log if the disk lets us; the outcome is already sent."""
    try:
        sys.stderr.write(text)
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:
        pass


def _disk_error(exc: BaseException, work_dir: str) -> str:
    """A message naming the path when the failure is this worker's storage."""
    while exc is not None and not isinstance(exc, OSError):
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    if not isinstance(exc, OSError) or exc.errno not in DISK_ERRNOS:
        return ""
    where = exc.filename or work_dir
    if not str(where).startswith(work_dir):
        return ""                 # e.g. an unreadable *input* file: not a worker problem
    return f"worker storage error at {where}: {exc.strerror or exc}"


def _run(kind: str, spec: dict[str, Any], job_code: bytes, own_endpoint: str,
         curve: Curve | None) -> dict[str, Any]:
    from zmr.job.loader import unpack_job
    from zmr.shuffle.fetcher import make_fetch
    from zmr.tasks.map_task import run_map_task
    from zmr.tasks.reduce_task import run_reduce_task
    from zmr.tasks.specs import MapTaskSpec, ReduceTaskSpec

    job = unpack_job(job_code)
    if kind == "map":
        return run_map_task(MapTaskSpec.from_dict(spec), job).to_dict()
    fetch = make_fetch(own_endpoint, curve=curve)
    return run_reduce_task(ReduceTaskSpec.from_dict(spec), job, fetch).to_dict()


def _redirect_output(log_path: str) -> None:
    try:
        os.makedirs(os.path.dirname(log_path), exist_ok=True)
        fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    except OSError:
        # no room for a log (full disk): still run, so the real error gets reported
        fd = os.open(os.devnull, os.O_WRONLY)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
