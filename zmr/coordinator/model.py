"""Records the coordinator keeps: jobs, tasks with their attempts, workers. No I/O here.

Their states change only through ``set_state`` / ``add_attempt`` / ``end_attempt``, which
check the transition tables (``states.py``), tell the job's tally (``tally.py``) and append
to the task's or job's story: the event that caused the change, from, to, and when. The
journal and wire forms of these records are in ``records.py``.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING

from zmr.coordinator.states import (
    ATTEMPT_TRANSITIONS,
    JOB_TRANSITIONS,
    SHRINK_TRANSITIONS,
    TASK_TRANSITIONS,
    AttemptState,
    InvalidTransition,
    JobState,
    ShrinkState,
    StoryEntry,
    TaskState,
)
from zmr.coordinator.tally import MAP, REDUCE, TaskTally
from zmr.coordinator.usage import SlotTime
from zmr.core.ids import AttemptId
from zmr.core.plan import JobPlan
from zmr.core.specs import MapManifest, ReduceResult, Split
from zmr.job.counters import BUILTIN_GROUP, Counters

if TYPE_CHECKING:
    from zmr.coordinator.stimuli import Stimulus

__all__ = ["MAP", "REDUCE", "Attempt", "Job", "Task", "TaskTally", "WorkerInfo"]

#: The shortest window over which an attempt's recent read rate is measured (heartbeats
#: report reads a batch of lines at a time).
RATE_WINDOW_S = 2.0

#: State changes kept per task (and per job): enough to see how a task got where it is
#: (a few retries, a lost worker, a backup), bounded so a job of thousands of tasks that
#: runs for days does not grow without end.
STORY_LENGTH = 32


#: A story line as kept: (event class, "task" / "job" / the Attempt, from (None: new), to,
#: now). Plain tuples, made readable (``StoryEntry``) only when asked for: a task's story
#: grows with every transition, on the path of every event.
RawEntry = tuple[type, "str | Attempt", "Enum | None", Enum, float]


def _story() -> deque[RawEntry]:
    return deque(maxlen=STORY_LENGTH)


def _told(cause: Stimulus, subject: str | Attempt, start: Enum | None,
          finish: Enum) -> RawEntry:
    return (type(cause), subject, start, finish, cause.now)


def readable(story: deque[RawEntry]) -> list[StoryEntry]:
    """The story as ``StoryEntry`` lines, oldest first."""
    return [StoryEntry(event.__name__, subject if isinstance(subject, str) else
                       subject.subject, start.value if start is not None else "",
                       finish.value, now) for event, subject, start, finish, now in story]


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
    read_bytes: int = 0             # ... in bytes of its split (maps), from the heartbeats
    # how fast it read lately: bytes/s over the last window of RATE_WINDOW_S or more (-1:
    # none yet), and where the current window started (what rebalancing expects of it)
    read_rate: float = -1.0
    read_mark: int = 0
    read_mark_s: float = 0.0
    # dynamic work rebalancing (rebalance.py): the last cut of its split asked of its
    # worker, the answer, and when it was asked or answered (not journaled: a restarted
    # coordinator asks again)
    shrink: ShrinkState = ShrinkState.NONE
    shrink_keep: int = 0
    shrink_s: float = 0.0

    def __post_init__(self) -> None:
        self.progress_s = self.progress_s or self.started_s
        self.read_mark_s = self.read_mark_s or self.started_s

    def bytes_read(self, read: int, now: float) -> None:
        """A heartbeat says it has read ``read`` bytes of its split by ``now``."""
        self.read_bytes = max(self.read_bytes, read)
        if now - self.read_mark_s >= RATE_WINDOW_S:
            self.read_rate = (self.read_bytes - self.read_mark) / (now - self.read_mark_s)
            self.read_mark, self.read_mark_s = self.read_bytes, now

    def read_speed(self, now: float) -> float:
        """Bytes/s it reads at: the slower of its average and its latest window (costly
        records ahead show in the latter first)."""
        average = self.read_bytes / max(now - self.started_s, 1e-3)
        return min(average, self.read_rate) if self.read_rate >= 0 else average

    @property
    def running(self) -> bool:
        return self.state is AttemptState.RUNNING

    @property
    def subject(self) -> str:
        """How the story names it."""
        return f"attempt {self.number} on {self.worker_id}" + (
            " [backup]" if self.speculative else "")


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
    result: MapManifest | ReduceResult | None = None    # of the committed attempt
    output_worker: str = ""                  # for maps: the worker holding the output
    # a map whose split is not the one submitted: cut shorter (its remainder became a new
    # task) or itself such a remainder; journaled, so a restarted coordinator knows it
    split: Split | None = None
    # where a remainder's input lies: (the submitted map it was cut from, its split-relative
    # byte offset there); None: (index, 0). Reduces read the map outputs in this order, so
    # a key's values come in the order of an uncut run
    position: tuple[int, int] | None = None
    tally: TaskTally | None = field(default=None, repr=False, compare=False)
    story: deque[RawEntry] = field(default_factory=_story, repr=False, compare=False)

    @property
    def name(self) -> str:
        return f"{self.job_id}/{self.kind}-{self.index:05d}"

    def attempt_id(self, attempt: Attempt) -> AttemptId:
        """How messages name ``attempt`` of this task."""
        return AttemptId(self.job_id, self.kind, self.index, attempt.number)  # type: ignore

    def set_state(self, new: TaskState, cause: Stimulus) -> None:
        if new not in TASK_TRANSITIONS[self.state]:
            raise InvalidTransition.refused(self.name, self.state, new, readable(self.story))
        self.story.append(_told(cause, "task", self.state, new))
        old, self.state = self.state, new
        if self.tally is not None:
            self.tally.moved(self, old, new)

    def running(self) -> list[Attempt]:
        return [a for a in self.attempts if a.running]

    # every change the journal records goes through set_state or one of these three, so
    # the tally knows which tasks to write again
    def add_attempt(self, attempt: Attempt, cause: Stimulus) -> None:
        self.story.append(_told(cause, attempt, None, attempt.state))
        self.attempts.append(attempt)
        self.touch()

    def end_attempt(self, attempt: Attempt, new: AttemptState, cause: Stimulus) -> None:
        if new not in ATTEMPT_TRANSITIONS[attempt.state]:
            raise InvalidTransition.refused(f"{self.name} {attempt.subject}", attempt.state,
                                            new, readable(self.story))
        self.story.append(_told(cause, attempt, attempt.state, new))
        attempt.state, attempt.finished_s = new, cause.now
        if self.tally is not None:
            self.tally.ended(self, attempt)

    def set_shrink(self, attempt: Attempt, new: ShrinkState, cause: Stimulus) -> None:
        """Where asking ``attempt`` to cut its split's remainder stands (``rebalance.py``)."""
        if new not in SHRINK_TRANSITIONS[attempt.shrink]:
            raise InvalidTransition.refused(f"{self.name} {attempt.subject} cut",
                                            attempt.shrink, new, readable(self.story))
        self.story.append(_told(cause, f"{attempt.subject} cut", attempt.shrink, new))
        attempt.shrink, attempt.shrink_s = new, cause.now

    def input_position(self) -> tuple[int, int]:
        """Where its input lies among the job's (see ``position``)."""
        return self.position if self.position is not None else (self.index, 0)

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
    error_kind: str = ""     # "input": failed on input it cannot read (clients exit 2)
    counters: Counters = field(default_factory=Counters)   # job-level: attempts' fates
    worker_failures: dict[str, int] = field(default_factory=dict)
    # how busy it kept the slots (usage.py): slot time charged as workers come and go,
    # busy seconds per worker once it ended, and splits cut again while it ran
    slot_time: SlotTime = field(default_factory=SlotTime)
    busy: dict[str, float] | None = None
    rebalanced: int = 0      # map splits whose unread remainder became a new map task
    # the partitions [first, last) each reduce task reads, once coalesced (empty: reduce r
    # reads partition r); decided once, when every map has run (``coalesce_reduces``)
    reduce_ranges: list[tuple[int, int]] = field(default_factory=list)
    tally: TaskTally | None = field(default=None, repr=False, compare=False)
    story: deque[RawEntry] = field(default_factory=_story, repr=False, compare=False)
    _own_splits: bool = field(default=False, repr=False, compare=False)

    def set_state(self, new: JobState, cause: Stimulus) -> None:
        if new not in JOB_TRANSITIONS[self.state]:
            raise InvalidTransition.refused(f"job {self.job_id}", self.state, new,
                                            readable(self.story))
        self.story.append(_told(cause, "job", self.state, new))
        self.state = new

    def tasks(self) -> list[Task]:
        return self.maps + self.reduces

    def total_counters(self) -> Counters:
        """Task counters summed over the attempts that committed (exactly one per succeeded
        task, whatever was retried, re-run or speculated), plus the job-level counters."""
        total = Counters(self.counters.to_dict())
        for task in self.tasks():
            if task.state == TaskState.SUCCEEDED and task.result is not None:
                total.merge(task.result.counters)
        return total

    def map_counter(self, name: str, group: str = BUILTIN_GROUP) -> int:
        """A task counter summed over the map tasks that committed."""
        return sum(t.result.counters.get(group, {}).get(name, 0) for t in self.maps
                   if t.state == TaskState.SUCCEEDED and t.result is not None)

    def task(self, kind: str, index: int) -> Task | None:
        if kind not in (MAP, REDUCE):
            return None
        tasks = self.maps if kind == MAP else self.reduces
        return tasks[index] if 0 <= index < len(tasks) else None

    def set_tasks(self, maps: list[Task], reduces: list[Task]) -> None:
        self.maps, self.reduces = maps, reduces
        self.tally = TaskTally(maps, reduces, [s.hosts for s in self.plan.splits])

    def partitions_of(self, reduce_index: int) -> range:
        """The reduce partitions that reduce task ``reduce_index`` reads."""
        if self.reduce_ranges:
            return range(*self.reduce_ranges[reduce_index])
        return range(reduce_index, reduce_index + 1)

    def coalesce_due(self) -> bool:
        """Its reduce partitions may be coalesced (more than one) and every map has now
        run: the sizes of its map outputs are known, and no reduce has started."""
        return (self.plan.coalesce and self.plan.num_reducers > 1 and not self.reduce_ranges
                and bool(self.maps) and self.done(MAP) == len(self.maps))

    def coalesce_reduces(self, ranges: list[tuple[int, int]]) -> None:
        """From now on reduce task i reads partitions ``ranges[i]``: the reduce tasks are
        made again, one per range. Only while no reduce has had an attempt (else the
        tasks are kept as they are, one per partition: what ran is not undone)."""
        if any(t.attempts or t.state != TaskState.PENDING for t in self.reduces):
            ranges = [(r, r + 1) for r in range(len(self.reduces))]
        else:
            self.set_tasks(self.maps, [Task(self.job_id, REDUCE, i)
                                       for i in range(len(ranges))])
        self.reduce_ranges = list(ranges)

    # -- dynamic work rebalancing: a map's split cut in two (rebalance.py) ---------------
    def resplit(self, task: Task, split: Split) -> None:
        """Map ``task`` reads ``split`` from now on: its attempts' specs and the identity
        its output must carry follow (``plan.splits`` is what both are made from)."""
        self._splits()[task.index] = split
        task.split = split
        task.touch()

    def add_map(self, split: Split, position: tuple[int, int], cause: Stimulus) -> Task:
        """A new pending map task reading ``split`` (the remainder cut off another's)."""
        self._splits().append(split)
        task = Task(self.job_id, MAP, len(self.maps), split=split, position=position)
        task.story.append(_told(cause, "task", None, task.state))
        self.maps.append(task)
        if self.tally is not None:
            self.tally.added(task, split.hosts)
        return task

    def _splits(self) -> list[Split]:
        """The plan's split list, this job's own copy (the submitted plan may be shared,
        e.g. with a multi-step job's record)."""
        if not self._own_splits:
            self.plan = dataclasses.replace(self.plan, splits=list(self.plan.splits))
            self._own_splits = True
        return self.plan.splits

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

    def complete(self) -> bool:
        """Every map and every reduce of the job has committed."""
        return self.done(MAP) == len(self.maps) and self.done(REDUCE) == len(self.reduces)

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
        done: float = self.done(MAP)
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
    token: str = ""                # drawn by the worker process at start (see admission.py)
    # the attempts given to it, oldest first: the first ``slots`` that still run are
    # running there, the rest wait in its queue (prefetched); ended ones are pruned as
    # the next is given
    given: list[tuple[Task, Attempt]] = field(default_factory=list)
    jobs_with_code: set[str] = field(default_factory=set)
    tasks_done: int = 0
    tasks_failed: int = 0

    def held(self) -> list[tuple[Task, Attempt]]:
        """The attempts it holds, running or queued, oldest first."""
        return [(t, a) for t, a in self.given if a.running]

    def idle_slots(self) -> int:
        return max(0, self.slots - len(self.held()))

    def queued(self) -> list[tuple[Task, Attempt]]:
        """The attempts waiting behind its busy slots (prefetched), oldest first."""
        return self.held()[self.slots:]

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
