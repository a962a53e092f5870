"""What every long-running zmr process (coordinator, worker) does at start: log to stderr
with a stable format, and turn SIGTERM/SIGINT into a clean stop; and how it keeps repeated
warnings from flooding that log."""

from __future__ import annotations

import argparse
import ctypes
import logging
import os
import signal
import sys
from typing import NoReturn, Protocol

PR_SET_NAME = 15
PR_SET_PDEATHSIG = 1


class Stoppable(Protocol):
    stopping: bool


def worth_logging(count: int, first: int = 10) -> bool:
    """For the ``count``-th occurrence of something a hostile peer can repeat millions of
    times: log the first ``first``, then one in a thousand, so the log cannot fill a disk."""
    return count <= first or count % 1000 == 0


LOG_LEVELS = ("debug", "info", "warning", "error")


def setup_logging(level: str = "info") -> None:
    logging.basicConfig(level=level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")


def add_process_arguments(parser: argparse.ArgumentParser) -> None:
    """What every long-running zmr process takes: its config file (default
    ``$ZMR_CONFIG``, else built-in defaults) and how much to log."""
    parser.add_argument("config", nargs="?", default=os.environ.get("ZMR_CONFIG"),
                        help="cluster config file (default: $ZMR_CONFIG, else built-in "
                             "loopback defaults); ZMR_<SECTION>_<KEY> variables override it")
    parser.add_argument("--log-level", choices=LOG_LEVELS, default="info",
                        help="what to log to stderr (default: info)")


def stop_on_signals(target: Stoppable) -> None:
    """SIGTERM and SIGINT set ``target.stopping``; its loop then shuts down cleanly."""

    def stop(signum: int, frame: object) -> None:
        target.stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)


def die_with_parent() -> None:
    """Linux: the kernel sends SIGTERM to this process when the one that started it dies,
    so an embedded cluster cannot outlive a killed ``zmr run`` or test run."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)   # this process's symbols: libc's
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def name_process(name: str) -> None:
    """Linux: the name ``ps -o comm``, ``top`` and ``pgrep`` show for this process (at
    most 15 bytes), for a process forked from one whose command line it still shows."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_NAME, ctypes.c_char_p(name.encode()[:15]), 0, 0, 0)
    except (OSError, AttributeError):
        pass


def flush_and_exit(status: int) -> NoReturn:
    """Flush stdout and stderr (either may be closed or broken) and end the process with
    ``status`` at once: no ``atexit`` handlers, no interpreter teardown. Callers run what
    must still run first."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(status)
