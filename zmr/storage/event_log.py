"""Event log files: a history directory's logs, written buffered, read back, pruned
(the records and their line format are :mod:`zmr.storage.events`)."""

from __future__ import annotations

import logging
import os

from zmr.core.jsonable import ShapeError
from zmr.core.retention import Item, Policy, to_forget
from zmr.storage import layout
from zmr.storage.events import FLUSH_EVERY, Event, decode, encode

logger = logging.getLogger("zmr")


class EventLog:
    """The event logs of the jobs of one history directory, buffered per job."""

    def __init__(self, history_dir: str) -> None:
        self.history_dir = history_dir
        self._pending: dict[str, list[str]] = {}      # log name -> lines not yet written

    def add(self, log: str, event: Event) -> None:
        """Buffer ``event`` for the log named ``log`` (the job, or a step's owner)."""
        lines = self._pending.setdefault(log, [])
        lines.append(encode(event))
        if len(lines) >= FLUSH_EVERY:
            self.flush(log)

    def flush(self, log: str | None = None) -> None:
        """Append the buffered lines of ``log`` (of every log: None) to their files. A
        history directory that cannot be written loses its lines, not the job."""
        for name in [log] if log is not None else list(self._pending):
            lines = self._pending.pop(name, [])
            if not lines:
                continue
            path = layout.event_log_path(self.history_dir, name)
            try:
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "a", encoding="utf-8") as f:
                    f.write("\n".join(lines) + "\n")
            except OSError as exc:
                logger.warning("job=%s: event log %s not written: %s", name, path, exc)

    def forget(self, logs: list[str]) -> None:
        """Remove these jobs' logs (their history was pruned)."""
        for name in logs:
            self._pending.pop(name, None)
            try:
                os.remove(layout.event_log_path(self.history_dir, name))
            except FileNotFoundError:
                pass


def read_events(path: str) -> list[Event]:
    """Every record of a log file, in order. A last line cut short by a crash is left
    out; any other bad line is a ShapeError naming the file and line."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    events = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            events.append(decode(line))
        except ShapeError as exc:
            if number >= len(lines) - 1:        # the torn tail of a crashed writer
                break
            raise ShapeError(exc.problem, exc.path, f"{path} line {number}") from None
    return events


def raw_lines(path: str) -> list[str]:
    with open(path, encoding="utf-8") as f:
        return [line for line in f.read().split("\n") if line.strip()]


def prune(history_dir: str, policy: Policy, now_s: float,
          keep: frozenset[str] = frozenset()) -> list[str]:
    """Remove the logs of ``history_dir`` past ``policy`` (by count, age and bytes, oldest
    first; ``keep``: never); the names removed."""
    directory = layout.events_dir(history_dir)
    try:
        names = [n for n in os.listdir(directory) if n.endswith(layout.EVENTS_SUFFIX)]
    except FileNotFoundError:
        return []
    items = []
    for name in names:
        try:
            stat = os.stat(os.path.join(directory, name))
        except FileNotFoundError:
            continue
        items.append(Item(name[:-len(layout.EVENTS_SUFFIX)], stat.st_mtime, stat.st_size))
    gone = to_forget(items, policy, now_s, keep)
    EventLog(history_dir).forget(gone)
    return gone
