"""The inside of an executor process (see ``executor.py``): wait for a ``RunAttempt`` on the
pipe (``pipe.py``), run it with its output going to the attempt's log, send the
``Outcome`` back, repeat.

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
from zmr.worker.pipe import (
    CLAIMED,
    END,
    READ,
    RECORDS,
    TOTAL,
    ExecutorConfig,
    ExecutorRequest,
    Outcome,
    RunAttempt,
)

if TYPE_CHECKING:
    from zmr.job.api import JobSpec

#: errno values that mean "this worker's storage is unusable", not "the task is wrong"
DISK_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EIO})


def noop() -> None:
    pass


def executor_main(conn: Connection, shared: Any, fence: Any, scratch_path: str,
                  config: ExecutorConfig) -> None:
    """The executor process: serve ``RunAttempt`` requests until told to stop or the
    worker is gone; ``scratch_path`` is this executor's own output file."""
    from zmr.tasks import memory  # (imports pyarrow: only task processes do)

    _die_with_worker(conn)
    _point_progress_at(shared, fence)
    _capture_output(scratch_path)
    memory.prepare_task_process()
    jobs = JobCache()
    while True:
        try:
            request: ExecutorRequest = conn.recv()
        except (EOFError, OSError):
            return                          # the worker is gone
        if not isinstance(request, RunAttempt):
            return                          # StopExecutor: retired
        _clear_output()
        outcome = run_attempt(request, jobs, config)
        memory.release_memory()     # the next attempt starts from what this one still holds
        keep_output(scratch_path, request.log_path)
        try:
            conn.send(outcome)
        except (OSError, ValueError):
            return


@dataclass
class JobCache:
    """The job an executor has loaded, and the code it was last sent (kept: a job that
    failed to load is loaded again, from that code, for its next attempt)."""

    loaded_id: str = ""
    loaded: JobSpec | None = None
    code_id: str = ""
    code: bytes | None = None

    def job_for(self, request: RunAttempt) -> JobSpec:
        if request.code is not None:
            self.code_id, self.code = request.job_id, request.code
        if request.code is not None or self.loaded is None or self.loaded_id != request.job_id:
            self.loaded = None
            self.loaded = _unpack(self.code if self.code_id == request.job_id else None,
                                  request.spec)
            self.loaded_id = request.job_id
        return self.loaded


def run_attempt(request: RunAttempt, jobs: JobCache, config: ExecutorConfig) -> Outcome:
    """Load the job if need be and run the attempt; everything raised, by the loading or
    by the user's code, becomes a failed ``Outcome``. Also the in-process executor's way
    to run one (``inprocess.py``)."""
    try:
        job = jobs.job_for(request)
    except BaseException as exc:  # noqa: BLE001 - unpacking the job failed
        return _failure(exc, request.spec)
    return _attempt(request.spec, job, config)


def _unpack(code: bytes | None, spec: MapTaskSpec | ReduceTaskSpec) -> JobSpec:
    """Load the job (its archive unpacked under the job's work directory, its source
    imported here, in this process) and work in its side-file directory from now on."""
    from zmr.job.shipping import unpack_job

    if code is None:
        raise RuntimeError("worker sent no code for a job this executor has not loaded")
    return unpack_job(code, spec.work_dir, spec.params)


def _attempt(spec: MapTaskSpec | ReduceTaskSpec, job: JobSpec,
             config: ExecutorConfig) -> Outcome:
    try:
        return Outcome(True, result=_run(spec, job, config))
    except BaseException as exc:  # noqa: BLE001 - the one place that reports anything raised
        return _failure(exc, spec)


def _failure(exc: BaseException, spec: MapTaskSpec | ReduceTaskSpec) -> Outcome:
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


def _run(spec: MapTaskSpec | ReduceTaskSpec, job: JobSpec,
         config: ExecutorConfig) -> MapManifest | ReduceResult:
    from zmr.shuffle.fetcher import make_fetch
    from zmr.tasks.map_task import run_map_task
    from zmr.tasks.reduce_task import run_reduce_task

    if isinstance(spec, MapTaskSpec):
        return run_map_task(spec, job)
    fetch = make_fetch(config.own_endpoint, spec.job_id, config.worker.fetch_timeout_s,
                       curve=config.curve)
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
