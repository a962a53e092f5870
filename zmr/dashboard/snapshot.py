"""What the dashboard shows, captured from the coordinator's loop.

The coordinator is single-threaded and its state machine is not thread-safe, so the HTTP
threads never read it: the loop builds a plain, JSON-ready dict when one is asked for (at
most every ``min_interval_s``) and swaps it in whole, so a reader gets one consistent
picture. A reader holding a stale one waits briefly for the loop (which turns at least
five times a second) to build a fresh one.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

Snapshot = dict[str, Any]
#: How long an HTTP thread waits for the coordinator's loop to take a fresh snapshot.
FRESH_WAIT_S = 1.0


class SnapshotBox:
    """Holds the latest snapshot; the coordinator refreshes it, HTTP threads read it."""

    def __init__(self, build: Callable[[], Snapshot], min_interval_s: float = 0.25) -> None:
        self._build = build
        self._min_interval_s = min_interval_s
        self._snapshot: Snapshot | None = None
        self._built_at = float("-inf")
        self._wanted = False
        self._changed = threading.Condition()

    def refresh(self) -> None:
        """Called from the coordinator's loop: rebuild if somebody is waiting for it."""
        if not self._wanted:
            return
        snapshot = self._build()
        with self._changed:
            self._snapshot, self._built_at, self._wanted = snapshot, time.monotonic(), False
            self._changed.notify_all()

    def get(self) -> Snapshot | None:
        """Called from HTTP threads: a snapshot at most ``min_interval_s`` old if the
        coordinator's loop provides one in time, else the latest one (None: never built)."""
        with self._changed:
            if time.monotonic() - self._built_at < self._min_interval_s:
                return self._snapshot
            self._wanted = True
            self._changed.wait_for(lambda: not self._wanted, timeout=FRESH_WAIT_S)
            return self._snapshot


class LoopQueries:
    """Questions an HTTP thread puts to the coordinator's loop, for what a snapshot does not
    carry (an attempt's log lives in the journal, whose SQLite connection belongs to the
    loop's thread and holds logs not yet written): the thread queues its question and waits
    for the loop to answer it in :meth:`serve`, as for a fresh snapshot."""

    def __init__(self, answer: Callable[[str, dict[str, str]], Any],
                 wait_s: float = 5 * FRESH_WAIT_S) -> None:
        self._answer = answer
        self._wait_s = wait_s
        self._pending: queue.SimpleQueue[tuple[str, dict[str, str], Future[Any]]] = \
            queue.SimpleQueue()

    def ask(self, what: str, args: dict[str, str]) -> Any:
        """Called from HTTP threads: the loop's answer, or the exception it raised;
        TimeoutError when the loop is too busy to answer within ``wait_s``."""
        answer: Future[Any] = Future()
        self._pending.put((what, args, answer))
        return answer.result(timeout=self._wait_s)

    def serve(self) -> None:
        """Called from the coordinator's loop: answer every question asked since."""
        while True:
            try:
                what, args, answer = self._pending.get_nowait()
            except queue.Empty:
                return
            if not answer.set_running_or_notify_cancel():
                continue
            try:
                answer.set_result(self._answer(what, args))
            except Exception as exc:        # noqa: BLE001 - the asking thread reports it
                answer.set_exception(exc)
