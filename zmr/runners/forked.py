"""Start an embedded cluster's coordinator and workers by ``fork`` from the process that owns
the cluster, instead of as fresh interpreters.

Why: a fresh interpreter pays Python's start and imports zmr, pyarrow and numpy again, 0.3
to 0.5 s of CPU for each of the cluster's processes, all at once on a machine that may
have two cores. Forked from a process that imported them once (:func:`preload`), each
starts in milliseconds. The child then runs the very ``main()`` of ``python -m
zmr.coordinator`` or ``python -m zmr.worker`` with the same arguments, environment, log
file and death signal as :func:`subprocess.Popen` would have given it: real processes on
real sockets, as in production.

When: only while forking is safe (:func:`can_fork`): this process runs one thread and has
no ZeroMQ context (libzmq's I/O threads do not survive a fork, and a lock held by another
thread stays held forever in the child). A notebook's kernel, a driver with threads or a
test session that already used a client get fresh interpreters, as before.
"""

from __future__ import annotations

import gc
import importlib
import logging
import multiprocessing.process
import multiprocessing.util
import os
import select
import signal
import subprocess
import sys
import threading
import time
import traceback
import types
from collections.abc import Mapping
from typing import Any, NoReturn

from zmr.core.process import die_with_parent, flush_and_exit, name_process

#: Popen.wait's polling cadence when given a timeout.
_POLL_MAX_S = 0.05
# multiprocessing's private state a forked child resets as multiprocessing's own children
# do (typeshed does not describe it)
_MP_UTIL: Any = multiprocessing.util
_MP_PROCESS: Any = multiprocessing.process


def can_fork() -> bool:
    """Whether a child forked now starts in a sane state: one thread, no ZeroMQ context
    (zmr's sockets all come from ``zmq.Context.instance()``), and Linux (macOS's system
    frameworks are not safe to use in a child forked without exec)."""
    if not sys.platform.startswith("linux") or threading.active_count() > 1:
        return False
    zmq = sys.modules.get("zmq")
    return zmq is None or getattr(zmq.Context, "_instance", None) is None


def preload(main_module: str) -> types.ModuleType:
    """Import what a child running ``main_module`` needs, once, here (a no-op the second
    time): the coordinator's code, or the worker's and its tasks'. The coordinator is
    forked before the worker's code is imported, so it starts on one core while this
    process imports the rest on the other."""
    module = importlib.import_module(main_module)
    if main_module == "zmr.worker.__main__":
        from multiprocessing import resource_tracker

        from zmr.worker import forkserver

        forkserver.preload()
        # started once here and inherited: each worker's fork server needs one
        resource_tracker.ensure_running()
    return module


def fork_main(main_module: str, argv: list[str], log_path: str, env: Mapping[str, str]
              ) -> ForkedProcess:
    """Fork a child that runs ``main_module``'s ``main(argv)`` as ``python -m main_module
    argv`` would, its output appended to ``log_path``; it exits with main's status."""
    module = preload(main_module)
    parent = os.getpid()
    log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    for stream in (sys.stdout, sys.stderr):
        stream.flush()            # or the child would write the parent's pending output
    pid = os.fork()
    if pid:
        os.close(log_fd)
        return ForkedProcess(pid)
    status = 1
    try:
        _become_child(module, argv, log_fd, env)
        if os.getppid() == parent:        # else the owner died before the death signal was set
            status = module.main(argv)
    except SystemExit as exc:     # as the interpreter reports it
        status = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
        if exc.code is not None and not isinstance(exc.code, int):
            print(exc.code, file=sys.stderr)
    except BaseException:         # noqa: BLE001 - reported in its log, like an interpreter
        traceback.print_exc()
    finally:
        _exit(status)


def _exit(status: int) -> NoReturn:
    """Exit as an interpreter would for multiprocessing's sake (its finalizers remove the
    temporary directory a worker's fork server listens in), but without the parent's
    ``atexit`` handlers, and never back into the parent's stack (its ``with`` blocks)."""
    try:
        _MP_UTIL._exit_function()
    finally:
        flush_and_exit(status)


def _become_child(module: types.ModuleType, argv: list[str], log_fd: int,
                  env: Mapping[str, str]) -> None:
    """What a fresh ``python -m`` process would have: its own stdio (stdin empty, stdout
    and stderr the log, line-buffered), Python's SIGTERM and SIGINT handling, no logging
    set up, the given environment, none of the parent's multiprocessing state, and
    ``__main__`` the entry module, so multiprocessing's children never re-run the
    parent's script."""
    # the parent's objects are long-lived: a collection walking them would copy every page
    # it touches (0.1 to 0.25 s at start); collecting this process's own suffices
    gc.freeze()
    die_with_parent()
    name_process("zmr-" + module.__name__.split(".")[1])    # zmr-coordinator, zmr-worker
    signal.signal(signal.SIGTERM, signal.SIG_DFL)    # zmr run's raises, its main's stops
    signal.signal(signal.SIGINT, signal.default_int_handler)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    os.close(log_fd)
    os.close(devnull)
    sys.stdin = open(0, closefd=False)  # noqa: SIM115
    sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
    os.environ.clear()
    os.environ.update(env)
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    _forget_parents_multiprocessing()
    _forget_job_code()
    sys.modules["__main__"] = module
    sys.argv = [getattr(module, "__file__", "") or "", *argv]


def _wait_exit(pid: int, timeout: float) -> bool:
    """Wait at most ``timeout`` for child ``pid`` to exit, woken the moment it does (a
    pidfd is readable then); False if pidfds are not available."""
    try:
        fd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        return False
    try:
        select.select([fd], [], [], max(0.0, timeout))
    finally:
        os.close(fd)
    return True


def _forget_parents_multiprocessing() -> None:
    """What multiprocessing does in a child it forks: none of the parent's finalizers
    (they would remove the parent's files), children or temporary directory."""
    _MP_UTIL._finalizer_registry.clear()
    _MP_UTIL._run_after_forkers()
    _MP_PROCESS._children.clear()
    _MP_PROCESS.current_process()._config.pop("tempdir", None)


def _forget_job_code() -> None:
    """The job modules the owner loaded to check a job before starting the cluster, and
    the modules beside them they imported: a worker imports each job's shipped copy
    itself, as a fresh interpreter would, so no state of the owner's copies reaches it."""
    from zmr.job.loader import JOB_MODULE_PREFIX

    jobs = [m for name, m in sys.modules.items() if name.startswith(JOB_MODULE_PREFIX)]
    dirs = {os.path.dirname(getattr(m, "__file__", None) or "") for m in jobs} - {""}
    tops = {name for name, m in list(sys.modules.items())
            if "." not in name and name != "zmr" and _package_dir(m) in dirs}
    for name in list(sys.modules):
        if name.startswith(JOB_MODULE_PREFIX) or name.split(".")[0] in tops:
            del sys.modules[name]


def _package_dir(module: types.ModuleType | None) -> str:
    """The directory a top-level module was imported from (a package's parent)."""
    path = getattr(module, "__file__", None) or ""
    if os.path.basename(path) == "__init__.py":
        path = os.path.dirname(path)
    return os.path.dirname(path)


class ForkedProcess:
    """A forked child, with the part of :class:`subprocess.Popen` an embedded cluster and
    its tests use: ``pid``, ``returncode``, ``poll``, ``wait``, ``send_signal``,
    ``terminate`` and ``kill`` (none signals a child already reaped)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:       # reaped elsewhere: its status is lost
                pid, status = self.pid, 255 << 8
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if timeout is None:
            while self.returncode is None:
                try:
                    _, status = os.waitpid(self.pid, 0)
                    self.returncode = os.waitstatus_to_exitcode(status)
                except ChildProcessError:
                    self.returncode = 255
            return self.returncode
        if self.poll() is None and not _wait_exit(self.pid, timeout):
            self._poll_until(time.monotonic() + timeout)
        if self.poll() is None:
            raise subprocess.TimeoutExpired(f"pid {self.pid}", timeout)
        return self.returncode  # type: ignore[return-value]

    def _poll_until(self, deadline: float) -> None:
        """Without pidfds (Linux < 5.3): poll, as Popen.wait does."""
        delay = 0.0005
        while self.poll() is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            delay = min(delay * 2, remaining, _POLL_MAX_S)
            time.sleep(delay)

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, signum)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)
