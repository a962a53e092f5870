"""Workers the coordinator lost, for the dashboard: who, when and why.

The state machine forgets a lost worker at once (its attempts run elsewhere), so a
dashboard built from its state alone showed a cluster that had silently shrunk. The
server notes each loss here as it declares it (missed heartbeats, connection gone) and
each return (the same id registering again); the list is bounded, newest last, and is not
journaled: a restarted coordinator starts with none, as it starts with no workers."""

from __future__ import annotations

import collections
from typing import Any

#: How many losses the dashboard lists.
KEPT = 100


class Departures:
    def __init__(self, kept: int = KEPT) -> None:
        self._entries: collections.deque[dict[str, Any]] = collections.deque(maxlen=kept)

    def lost(self, worker: dict[str, Any] | None, worker_id: str, now: float,
             why: str) -> None:
        """``worker``: its description while it was registered (None: not known)."""
        known = worker or {}
        self._entries.append({
            "worker_id": worker_id, "host": known.get("host", ""),
            "slots": known.get("slots"), "cpus": known.get("cpus"),
            "memory_mb": known.get("memory_mb"), "tasks_done": known.get("tasks_done"),
            "tasks_failed": known.get("tasks_failed"), "lost_s": now, "why": why,
            "back_s": None})

    def back(self, worker_id: str, now: float) -> None:
        """The worker registered again: its latest loss says when."""
        for entry in reversed(self._entries):
            if entry["worker_id"] == worker_id:
                if entry["back_s"] is None:
                    entry["back_s"] = now
                return

    def describe(self) -> list[dict[str, Any]]:
        """Newest first, as plain data."""
        return [dict(entry) for entry in reversed(self._entries)]
