"""Per-job indexes over a job's tasks, kept current as the tasks change, so that no event
walks every task of a job (a job has thousands, and the coordinator handles thousands of
events a second).

``Task.set_state`` reports every state change here, and ``Task.add_attempt`` /
``end_attempt`` / ``touch`` every other change the journal records; ``problems`` recounts
everything the slow way, for tests (run after every event of the state-machine tests).
"""

from __future__ import annotations

import bisect
from typing import TYPE_CHECKING

from zmr.coordinator.states import AttemptState, TaskState

if TYPE_CHECKING:
    from zmr.coordinator.model import Attempt, Task

MAP, REDUCE = "map", "reduce"


class TaskTally:
    """What scheduling asks about a job's tasks, per kind: how many succeeded and how many
    are pending, the lowest index that may be pending (and per host, for locality), the
    running tasks, the sorted run times of succeeded attempts (speculation's median), and
    the tasks changed since the journal last took them."""

    def __init__(self, maps: list[Task], reduces: list[Task],
                 map_hosts: list[tuple[str, ...]] | None = None) -> None:
        self.done = {MAP: 0, REDUCE: 0}
        self.pending = {MAP: 0, REDUCE: 0}
        self.pending_from = {MAP: 0, REDUCE: 0}
        # insertion-ordered: a dict is the cheapest ordered set of running tasks by index
        self.running: dict[str, dict[int, Task]] = {MAP: {}, REDUCE: {}}
        self.durations: dict[str, list[float]] = {MAP: [], REDUCE: []}
        # every task starts dirty: a new job was never journaled, and a restored one is
        # rewritten once in the current layout (whatever layout it was read from)
        self.dirty: dict[tuple[str, int], Task] = {}
        # locality: per host, the maps whose input it holds, and where to start looking
        self.map_hosts = map_hosts or [()] * len(maps)
        self.local_maps: dict[str, list[int]] = {}
        for index, hosts in enumerate(self.map_hosts):
            for host in hosts:
                self.local_maps.setdefault(host, []).append(index)
        self.local_from = dict.fromkeys(self.local_maps, 0)
        for task in (*maps, *reduces):
            task.tally = self
            self.moved(task, None, task.state)
            for attempt in task.attempts:
                self.ended(task, attempt)

    def added(self, task: Task, hosts: tuple[str, ...]) -> None:
        """A map task joined the job (the remainder of a split cut in two): it has the
        highest index, so every per-host list stays sorted."""
        task.tally = self
        self.map_hosts = [*self.map_hosts, hosts]
        for host in hosts:
            self.local_maps.setdefault(host, []).append(task.index)
            self.local_from.setdefault(host, 0)
        self.moved(task, None, task.state)

    def moved(self, task: Task, old: TaskState | None, new: TaskState) -> None:
        """``task`` went from ``old`` (None: it is new here) to ``new``."""
        kind = task.kind
        self.dirty[kind, task.index] = task
        if old == TaskState.SUCCEEDED:
            self.done[kind] -= 1
        elif old == TaskState.PENDING:
            self.pending[kind] -= 1
        elif old == TaskState.RUNNING:
            del self.running[kind][task.index]
        if new == TaskState.SUCCEEDED:
            self.done[kind] += 1
        elif new == TaskState.RUNNING:
            self.running[kind][task.index] = task
        elif new == TaskState.PENDING:
            self._now_pending(task)

    def _now_pending(self, task: Task) -> None:
        self.pending[task.kind] += 1
        self.pending_from[task.kind] = min(self.pending_from[task.kind], task.index)
        if task.kind == MAP and task.index < len(self.map_hosts):
            for host in self.map_hosts[task.index]:
                position = bisect.bisect_left(self.local_maps[host], task.index)
                self.local_from[host] = min(self.local_from[host], position)

    def ended(self, task: Task, attempt: Attempt) -> None:
        """An attempt of ``task`` ended (or was read back ended): succeeded ones time the
        phase for speculation."""
        self.dirty[task.kind, task.index] = task
        if attempt.state == AttemptState.SUCCEEDED and attempt.finished_s is not None:
            bisect.insort(self.durations[task.kind], attempt.finished_s - attempt.started_s)

    def median_s(self, kind: str) -> float | None:
        """The median run time of the succeeded attempts of ``kind`` (None: none yet)."""
        durations = self.durations[kind]
        n = len(durations)
        if not n:
            return None
        middle = n // 2
        return durations[middle] if n % 2 else (durations[middle - 1] + durations[middle]) / 2

    def running_tasks(self, kind: str | None = None) -> list[Task]:
        """The running tasks (of ``kind``, or all) in the job's task order (maps, then
        reduces, by index: commands come out as a walk over every task would give them),
        as a list, since callers change them."""
        kinds = (kind,) if kind is not None else (MAP, REDUCE)
        return [self.running[k][i] for k in kinds for i in sorted(self.running[k])]

    def take_dirty(self) -> list[Task]:
        """The tasks changed since the last call (the journal writes just those)."""
        tasks = list(self.dirty.values())
        self.dirty.clear()
        return tasks


def problems(maps: list[Task], reduces: list[Task], tally: TaskTally) -> list[str]:
    """Where the tally disagrees with a recount of the tasks (empty: nowhere)."""
    found = []
    for kind, tasks in ((MAP, maps), (REDUCE, reduces)):
        counted = {
            "done": sum(t.state == TaskState.SUCCEEDED for t in tasks),
            "pending": sum(t.state == TaskState.PENDING for t in tasks),
            "running": sorted(t.index for t in tasks if t.state == TaskState.RUNNING),
            "durations": sorted(a.finished_s - a.started_s for t in tasks for a in t.attempts
                                if a.state == AttemptState.SUCCEEDED and a.finished_s is not None),
        }
        kept = {"done": tally.done[kind], "pending": tally.pending[kind],
                "running": sorted(tally.running[kind]), "durations": tally.durations[kind]}
        found += [f"{kind} {name}: tally {kept[name]}, recount {value}"
                  for name, value in counted.items() if kept[name] != value]
        first = next((t.index for t in tasks if t.state == TaskState.PENDING), len(tasks))
        if tally.pending_from[kind] > first:
            found.append(f"{kind}: pending cursor {tally.pending_from[kind]} is past {first}")
        found += [f"{t.kind}-{t.index}: {t.state.value} with running attempts {t.running()}"
                  for t in tasks if t.state != TaskState.RUNNING and t.running()]
        found += [f"{t.kind}-{t.index}: RUNNING without a running attempt"
                  for t in tasks if t.state == TaskState.RUNNING and not t.running()]
    return found + _locality_problems(maps, tally)


def _locality_problems(maps: list[Task], tally: TaskTally) -> list[str]:
    found = []
    for host, indices in tally.local_maps.items():
        first = next((i for i, m in enumerate(indices) if maps[m].state == TaskState.PENDING),
                     len(indices))
        if tally.local_from[host] > first:
            found.append(f"host {host}: local cursor {tally.local_from[host]} is past {first}")
    return found
