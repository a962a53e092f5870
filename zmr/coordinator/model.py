"""Records the coordinator keeps: jobs, tasks with their attempts, workers. No I/O here.

Their journal and wire forms are in ``records.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from zmr.coordinator.states import (
    ATTEMPT_TRANSITIONS,
    JOB_TRANSITIONS,
    TASK_TRANSITIONS,
    AttemptState,
    JobState,
    TaskState,
    check_transition,
)
from zmr.coordinator.tally import MAP, REDUCE, TaskTally
from zmr.core.plan import JobPlan
from zmr.job.counters import BUILTIN_GROUP, Counters

__all__ = ["MAP", "REDUCE", "Attempt", "Job", "Task", "TaskTally", "WorkerInfo"]


@dataclass
class Attempt:
    """One try at a task, on one worker."""

    number: int
    worker_id: str
    started_s: float
    finished_s: float | None = None
    state: AttemptState = AttemptState.RUNNING
    speculative: bool = False       # a backup of a slow attempt
    progress: int = 0               # records processed, from the worker's heartbeats
    progress_s: float = 0.0         # when progress last moved
    read: float = 0.0               # fraction of its input read (maps), from the heartbeats

    def __post_init__(self) -> None:
        self.progress_s = self.progress_s or self.started_s

    @property
    def running(self) -> bool:
        return self.state is AttemptState.RUNNING


@dataclass
class Task:
    """A map or reduce task of a job and the history of its attempts."""

    job_id: str
    kind: str
    index: int
    state: TaskState = TaskState.PENDING
    attempts: list[Attempt] = field(default_factory=list)
    failures: int = 0
    error: str = ""
    traceback: str = ""
    result: dict[str, Any] | None = None     # manifest of the committed attempt
    output_worker: str = ""                  # for maps: the worker holding the output
    tally: TaskTally | None = field(default=None, repr=False, compare=False)

    @property
    def name(self) -> str:
        return f"{self.job_id}/{self.kind}-{self.index:05d}"

    def set_state(self, new: TaskState) -> None:
        check_transition(self.name, self.state, new, TASK_TRANSITIONS, self.story())
        old, self.state = self.state, new
        if self.tally is not None:
            self.tally.moved(self, old, new)

    def story(self) -> list[str]:
        """One line per attempt, oldest first: what an InvalidTransition shows."""
        return [f"attempt {a.number} on {a.worker_id}: {a.state.value} (started {a.started_s:.3f}"
                + (f", ended {a.finished_s:.3f})" if a.finished_s is not None else ")")
                + (" [backup]" if a.speculative else "") for a in self.attempts]

    def running(self) -> list[Attempt]:
        return [a for a in self.attempts if a.running]

    # every change the journal records goes through set_state or one of these three, so
    # the tally knows which tasks to write again
    def add_attempt(self, attempt: Attempt) -> None:
        self.attempts.append(attempt)
        self.touch()

    def end_attempt(self, attempt: Attempt, new: AttemptState, now: float) -> None:
        check_transition(f"{self.name} attempt {attempt.number}", attempt.state, new,
                         ATTEMPT_TRANSITIONS, self.story())
        attempt.state, attempt.finished_s = new, now
        if self.tally is not None:
            self.tally.ended(self, attempt)

    def touch(self) -> None:
        """Some journaled field other than the state changed (result, failures, error)."""
        if self.tally is not None:
            self.tally.dirty[self.kind, self.index] = self

    def attempt(self, number: int) -> Attempt | None:
        return next((a for a in self.attempts if a.number == number), None)


@dataclass
class Job:
    """A submitted job: its plan, code and tasks."""

    job_id: str
    name: str
    plan: JobPlan
    code: bytes
    submitted_s: float
    state: JobState = JobState.QUEUED
    maps: list[Task] = field(default_factory=list)
    reduces: list[Task] = field(default_factory=list)
    started_s: float | None = None
    finished_s: float | None = None
    error: str = ""
    counters: Counters = field(default_factory=Counters)   # job-level: attempts' fates
    worker_failures: dict[str, int] = field(default_factory=dict)
    tally: TaskTally | None = field(default=None, repr=False, compare=False)
    # what every map spec of the job shares (built at the first assignment; not journaled)
    map_spec_base: dict[str, Any] | None = field(default=None, repr=False, compare=False)

    def set_state(self, new: JobState) -> None:
        check_transition(f"job {self.job_id}", self.state, new, JOB_TRANSITIONS)
        self.state = new

    def tasks(self) -> list[Task]:
        return self.maps + self.reduces

    def total_counters(self) -> Counters:
        """Task counters summed over the attempts that committed (exactly one per succeeded
        task, whatever was retried, re-run or speculated), plus the job-level counters."""
        total = Counters(self.counters.to_dict())
        for task in self.tasks():
            if task.state == TaskState.SUCCEEDED and task.result:
                total.merge(task.result.get("counters", {}))
        return total

    def map_counter(self, name: str, group: str = BUILTIN_GROUP) -> int:
        """A task counter summed over the map tasks that committed."""
        return sum(int(t.result.get("counters", {}).get(group, {}).get(name, 0))
                   for t in self.maps if t.state == TaskState.SUCCEEDED and t.result)

    def task(self, kind: str, index: int) -> Task | None:
        if kind not in (MAP, REDUCE):
            return None
        tasks = self.maps if kind == MAP else self.reduces
        return tasks[index] if 0 <= index < len(tasks) else None

    def set_tasks(self, maps: list[Task], reduces: list[Task]) -> None:
        self.maps, self.reduces = maps, reduces
        self.tally = TaskTally(maps, reduces, [s.hosts for s in self.plan.splits])

    def done(self, kind: str) -> int:
        if self.tally is not None:
            return self.tally.done[kind]
        tasks = self.maps if kind == MAP else self.reduces
        return sum(t.state == TaskState.SUCCEEDED for t in tasks)

    def running_attempts(self, kind: str | None = None) -> list[tuple[Task, Attempt]]:
        """The running attempts (of one kind of task), from the tally: no walk over every
        task. A list, as callers end some of them."""
        tasks = (self.tally.running_tasks(kind) if self.tally is not None else
                 [t for t in self.tasks() if kind in (None, t.kind)])
        return [(t, a) for t in tasks for a in t.running()]

    def needed_outputs(self) -> list[Task]:
        """Succeeded maps whose output some reduce still has to fetch (a walk over the
        maps: asked when a worker is lost, which is rare)."""
        if not self.reduces or self.done(REDUCE) == len(self.reduces):
            return []
        return [t for t in self.maps if t.state == TaskState.SUCCEEDED]

    def first_pending(self, kind: str) -> Task | None:
        """The pending task of ``kind`` with the lowest index, if any."""
        tasks = self.maps if kind == MAP else self.reduces
        if self.tally is not None and not self.tally.pending[kind]:
            return None
        start = self.tally.pending_from[kind] if self.tally is not None else 0
        i = start
        while i < len(tasks) and tasks[i].state != TaskState.PENDING:
            i += 1
        if self.tally is not None:
            self.tally.pending_from[kind] = i
        return tasks[i] if i < len(tasks) else None

    def first_pending_local(self, host: str) -> Task | None:
        """The lowest pending map whose input ``host`` holds, if any (data locality)."""
        if self.tally is None or host not in self.tally.local_maps or \
                not self.tally.pending[MAP]:
            return None
        indices = self.tally.local_maps[host]
        i = self.tally.local_from[host]
        while i < len(indices) and self.maps[indices[i]].state != TaskState.PENDING:
            i += 1
        self.tally.local_from[host] = i
        return self.maps[indices[i]] if i < len(indices) else None

    def map_progress(self) -> float:
        """Fraction of the map phase done: finished maps, plus the share of its input each
        running map has read (Hadoop's per-task progress), so it moves during long maps."""
        if not self.maps:
            return 1.0
        done = self.done(MAP)
        if done < len(self.maps):
            running = (self.tally.running[MAP].values() if self.tally is not None else
                       [t for t in self.maps if t.state == TaskState.RUNNING])
            done += sum(max((a.read for a in t.running()), default=0.0) for t in running)
        return round(min(1.0, done / len(self.maps)), 4)


@dataclass
class WorkerInfo:
    """A registered worker, as the coordinator sees it."""

    worker_id: str
    host: str
    shuffle_endpoint: str
    slots: int
    cpus: int
    memory_mb: int
    shuffle_key: str = ""          # CURVE public key of its shuffle service ("" = curve off)
    # attempts placed here by declared RESOURCES: (attempt, cpus, memory_mb); entries whose
    # attempt has ended are pruned when the total is asked for, whatever ended them
    reserved: list[tuple[Attempt, int, int]] = field(default_factory=list)
    free_slots: int = 0            # attempts it asked for and has not been given yet
    prefetch: int = 0              # of those, how many may queue behind busy slots
    jobs_with_code: set[str] = field(default_factory=set)
    tasks_done: int = 0
    tasks_failed: int = 0

    def in_use(self) -> tuple[int, int]:
        """CPUs and MB of memory reserved by declared-resource attempts still running."""
        self.reserved = [r for r in self.reserved if r[0].running]
        return sum(r[1] for r in self.reserved), sum(r[2] for r in self.reserved)

    def could_ever_run(self, needs: dict[str, int]) -> bool:
        return (needs.get("cpus", 0) <= self.cpus
                and (not self.memory_mb or needs.get("memory_mb", 0) <= self.memory_mb))

    def can_run_now(self, needs: dict[str, int]) -> bool:
        if not needs:
            return True
        cpus, memory_mb = self.in_use()
        return (cpus + needs.get("cpus", 0) <= self.cpus
                and (not self.memory_mb
                     or memory_mb + needs.get("memory_mb", 0) <= self.memory_mb))
