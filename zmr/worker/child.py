"""The inside of an executor process (see ``executor.py``): wait for an attempt on the pipe,
run it with its output going to the attempt's log, send the outcome back, repeat.

Everything raised by an attempt, the user's code included, becomes an ``Outcome`` with the
traceback text; only the process dying (``os._exit``, a signal, the memory limit) ends an
attempt without one, and the worker sees that as EOF on the pipe.
"""

from __future__ import annotations

import errno
import os
import select
import shutil
import signal
import sys
import threading
import traceback
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

from zmr.core.specs import MapManifest, MapTaskSpec, ReduceResult, ReduceTaskSpec
from zmr.settings.cluster import WorkerSettings

if TYPE_CHECKING:
    from zmr.job.loader import JobSpec
    from zmr.transport.security import Curve

#: the slots of the progress array an executor shares with its worker: records processed,
#: bytes read and to read; and, for a cut of the split's remainder (``progress.claim``),
#: the split-relative byte before which every line mapped so far starts, and the end
#: agreed with the worker (-1: none). The last two change only under the executor's lock.
RECORDS, READ, TOTAL, CLAIMED, END = 0, 1, 2, 3, 4
#: errno values that mean "this worker's storage is unusable", not "the task is wrong"
#: A reducer's fetch timeout unless the worker passes ``[worker] fetch_timeout_s``.
DEFAULT_TIMEOUT_S: float = WorkerSettings.fetch_timeout_s
DISK_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EIO})


@dataclass
class Outcome:
    """How an attempt ended: ``result`` on success, else ``error``/``traceback``."""

    ok: bool
    result: MapManifest | ReduceResult | None = None
    error: str = ""
    traceback: str = ""
    lost_map: int = -1
    disk_error: bool = False     # the worker's own disk failed, not the user's code
    fatal: bool = False          # the user's code raised zmr.FatalError: no retry
    input_error: bool = False    # a BadInputError: no retry, and ``error`` says it all


def noop() -> None:
    pass


def executor_main(conn: Connection, shared: Any, fence: Any, own_endpoint: str,
                  scratch_path: str, curve: Curve | None = None,
                  fetch_timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
    from zmr.tasks import memory  # (imports pyarrow: only task processes do)

    _die_with_worker(conn)
    _point_progress_at(shared, fence)
    _capture_output(scratch_path)
    memory.prepare_task_process()
    loaded: tuple[str, JobSpec] | None = None
    codes: tuple[str, bytes | None] = ("", None)
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return                          # the worker is gone
        if request[0] != "run":
            return                          # "stop": retired
        _, spec, job_id, code, log_path = request
        _clear_output()
        if code is not None:
            codes = (job_id, code)       # kept: a job that failed to load is loaded again
        try:
            if code is not None or loaded is None or loaded[0] != job_id:
                loaded = None
                loaded = (job_id, _unpack(codes[1] if codes[0] == job_id else None, spec))
            outcome = _attempt(spec, loaded[1], own_endpoint, curve, fetch_timeout_s)
        except BaseException as exc:  # noqa: BLE001 - unpacking the job failed
            outcome = _failure(exc, spec)
        memory.release_memory()     # the next attempt starts from what this one still holds
        keep_output(scratch_path, log_path)
        try:
            conn.send(outcome)
        except (OSError, ValueError):
            return


def _unpack(code: bytes | None, spec: MapTaskSpec | ReduceTaskSpec) -> JobSpec:
    """Load the job (its archive unpacked under the job's work directory, its source
    imported here, in this process) and work in its side-file directory from now on."""
    from zmr.job.shipping import unpack_job

    if code is None:
        raise RuntimeError("worker sent no code for a job this executor has not loaded")
    return unpack_job(code, spec.work_dir, spec.params)


def _attempt(spec: MapTaskSpec | ReduceTaskSpec, job: JobSpec, own_endpoint: str,
             curve: Curve | None, fetch_timeout_s: float) -> Any:
    try:
        return Outcome(True, result=_run(spec, job, own_endpoint, curve, fetch_timeout_s))
    except BaseException as exc:  # noqa: BLE001 - the one place that reports anything raised
        return _failure(exc, spec)


def _failure(exc: BaseException, spec: MapTaskSpec | ReduceTaskSpec) -> Any:
    from zmr.core.errors import BadInputError, FatalError, FetchFailedError, user_traceback

    lost = exc.map_index if isinstance(exc, FetchFailedError) else -1
    _log_quietly(traceback.format_exc())    # the attempt's log keeps every frame
    if isinstance(exc, BadInputError):      # names file and offset: zmr's frames add nothing
        return Outcome(False, error=str(exc), input_error=True)
    text = user_traceback(exc)
    disk = _disk_error(exc, spec.work_dir)
    # a note (the key a reducer failed on) belongs in the one line status shows
    notes = "".join(f" [{note}]" for note in getattr(exc, "__notes__", ()))
    return Outcome(False, error=disk or f"{type(exc).__name__}: {exc}{notes}", traceback=text,
                   lost_map=lost, disk_error=bool(disk), fatal=isinstance(exc, FatalError))


def _run(spec: MapTaskSpec | ReduceTaskSpec, job: JobSpec, own_endpoint: str,
         curve: Curve | None, fetch_timeout_s: float) -> MapManifest | ReduceResult:
    from zmr.shuffle.fetcher import make_fetch
    from zmr.tasks.map_task import run_map_task
    from zmr.tasks.reduce_task import run_reduce_task

    if isinstance(spec, MapTaskSpec):
        return run_map_task(spec, job)
    fetch = make_fetch(own_endpoint, spec.job_id, fetch_timeout_s, curve=curve)
    return run_reduce_task(spec, job, fetch)


def _point_progress_at(shared: Any, fence: Any) -> None:
    """Task code reports progress through ``zmr.tasks.progress``; here it lands in memory
    the worker reads for its heartbeats (records, and bytes read of the split). A map's
    claims on its lines meet the worker's cuts (``Executor.shrink``) there too, under
    ``fence``: whichever comes first decides, so a line is never both mapped here and left
    to the task made of the remainder."""
    from zmr.tasks import progress

    def advance(records: int) -> None:
        shared[RECORDS] += records

    def read(done: int, total: int) -> None:
        shared[READ], shared[TOTAL] = done, total

    def claim(upto: int) -> int:
        with fence:
            end = shared[END]
            if upto >= progress.ALL:        # read to the end: no later cut can be agreed
                shared[CLAIMED] = upto
            else:
                shared[CLAIMED] = max(shared[CLAIMED], upto if end < 0 else min(upto, end))
            return int(end)

    progress.set_hook(advance, read, claim)


def _die_with_worker(conn: Connection) -> None:
    """Stop at once when the worker is gone. An executor is a child of the fork server,
    which outlives the worker while any of its children run, so neither PDEATHSIG nor the
    worker's teardown reaches it after a ``kill -9``: it would run on as an orphan, using a
    CPU and writing into a dead worker's directory. The worker holds the only other end of
    the pipe; once that is closed, polling our end reports a hang-up whatever the task is
    doing. A dup keeps the watch independent of ``conn``'s own life."""
    fd = os.dup(conn.fileno())

    def watch() -> None:
        poller = select.poll()
        poller.register(fd, 0)              # no events asked: wakes only on POLLERR/POLLHUP
        while not poller.poll(60_000):
            pass
        os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=watch, name="zmr-worker-watch", daemon=True).start()


def _log_quietly(text: str) -> None:
    """Write to the attempt's log if the disk lets us; the outcome is sent regardless."""
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


def _capture_output(scratch_path: str) -> None:
    """Point fds 1 and 2 (so print, warnings, C extensions alike) at this executor's scratch
    file for good. Each attempt starts it empty and copies it to the attempt's log only if
    it wrote something: creating a log file per attempt cost a millisecond per task."""
    try:
        fd = os.open(scratch_path, os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o644)
    except OSError:
        # no room (full disk): still run, so the real error gets reported
        fd = os.open(os.devnull, os.O_WRONLY)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)


def _clear_output() -> None:
    _log_quietly("")
    try:
        os.ftruncate(1, 0)          # O_APPEND: the next write lands at the new end, 0
    except OSError:
        pass                        # /dev/null


def keep_output(scratch_path: str, log_path: str) -> None:
    """Append what the attempt printed (if anything) to its log. Also called by the worker
    for an executor that died mid-attempt, so its last words are kept."""
    _log_quietly("")
    try:
        if os.path.getsize(scratch_path) == 0:
            return
        os.makedirs(os.path.dirname(log_path), exist_ok=True)
        with open(scratch_path, "rb") as src, open(log_path, "ab") as dst:
            shutil.copyfileobj(src, dst)
    except OSError:
        pass                        # a full disk must not hide the attempt's outcome
