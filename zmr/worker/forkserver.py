"""The worker's fork server, started by forking the worker itself before it opens a socket.

Executors come from a ``multiprocessing`` fork server that has imported pyarrow and the
task code (``executor.py``). Started the standard way, that server is a fresh interpreter
importing them again: 0.3 to 0.5 s of CPU at every worker's start, on top of the worker's
own. Forked from the worker at the top of its ``main()``, while it runs one thread and has
no ZeroMQ context (nothing else is safe to fork), it starts warm, sharing the imports (a
worker forked from a preloaded ``zmr run`` has them all already).

multiprocessing has no public way to hand it a server started by someone else, so this
fills in the three fields its ``ensure_running`` would have filled, and runs its own
server loop (``multiprocessing.forkserver.main``) in the child. If that server dies,
``ensure_running`` starts a standard one, as it always did.
"""

from __future__ import annotations

import gc
import importlib
import logging
import os
import signal
import sys
import traceback
from multiprocessing import forkserver, resource_tracker
from typing import Any

from zmr.core.process import die_with_parent
from zmr.transport.sockets import unix_listener
from zmr.core import pandas_probe
from zmr.worker.executor import PRELOAD


def start_fork_server() -> None:
    """Fork this process into the fork server its executors will come from. Call it only
    while the process runs one thread and has no ZeroMQ context (the top of ``main``)."""
    # multiprocessing's private fork-server state, which typeshed does not describe
    server: Any = forkserver._forkserver
    if server._forkserver_pid is not None or not sys.platform.startswith("linux"):
        return          # running already; or not Linux: warm_up() starts a standard one
    preload()
    pandas_probe.skip()                 # before the fork: every executor inherits it
    resource_tracker.ensure_running()   # the server's children are handed its pipe
    # what is imported now lives as long as the worker: kept out of collections, in the
    # worker and in every executor, so none copies the pages the fork shares
    gc.freeze()
    listener, address = unix_listener()
    with listener:
        # every client holds the write end; when the last one is gone the server exits
        alive_r, alive_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(alive_w)
            _serve(listener.fileno(), alive_r)
        os.close(alive_r)
    server._forkserver_address = address
    server._forkserver_alive_fd = alive_w
    server._forkserver_pid = pid


def preload() -> None:
    """Import the executors' modules here."""
    for name in PRELOAD:
        importlib.import_module(name)


def _serve(listener_fd: int, alive_r: int) -> None:
    """The child: multiprocessing's own server loop; exits, never returns."""
    status = 0
    try:
        die_with_parent()                # a kill -9'd worker does not leave it behind
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        root = logging.getLogger()       # executors start with logging unset, as before
        for handler in list(root.handlers):
            root.removeHandler(handler)
        forkserver.main(listener_fd, alive_r, PRELOAD)
    except SystemExit:
        pass                            # its clients are all gone
    except BaseException:               # noqa: BLE001 - the worker's log shows why
        traceback.print_exc()
        status = 1
    finally:
        os._exit(status)
