"""Job, task and attempt lifecycles: named states and the only transitions allowed between
them.

Every state change is checked against these tables, and anything not listed is refused
(``InvalidTransition``), so an impossible move shows up as an error instead of a silent
inconsistency. Each allowed change is also written to the task's (or job's) story, a short
log of ``StoryEntry`` lines (dask's ``story()``): the error shows how the task got there.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum
from typing import NamedTuple

from zmr.core.errors import ZmrError


class JobState(str, Enum):
    """QUEUED until a first task is assigned, RUNNING until one of the final states."""

    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


class TaskState(str, Enum):
    """PENDING (runnable), RUNNING (one or more live attempts), SUCCEEDED (first commit won),
    FAILED (out of attempts), KILLED (its job ended first)."""

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    KILLED = "KILLED"


class AttemptState(str, Enum):
    """One try at a task: RUNNING until the worker reports it SUCCEEDED or FAILED, or the
    coordinator ends it: KILLED (stopped on purpose: its job ended, another attempt
    committed, the map outputs it reads are gone, or it was taken off a busy worker's
    queue before it started, to run on an idle one), LOST (its worker died or no longer
    runs it), TIMED_OUT (no progress for ``task_timeout_s``; counts as a failure).

    The values are lower case because journals store them (the attempt list of a task
    record): these are the strings journals written before this enum existed hold."""

    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    KILLED = "killed"
    LOST = "lost"
    TIMED_OUT = "timed_out"


class ShrinkState(str, Enum):
    """A running map attempt and dynamic work rebalancing (``rebalance.py``): NONE until
    the coordinator first asks its worker to cut the unread remainder off its split;
    ASKED while that question is on its way (no other cut, and no backup, meanwhile);
    then ACCEPTED (the remainder became a new map task; it may be asked again later),
    REFUSED (it had read past the cut or not started yet: asked again after a pause) or
    NEVER (it has read its whole split, or the split cannot be cut: not asked again)."""

    NONE = "none"
    ASKED = "asked"
    ACCEPTED = "accepted"
    REFUSED = "refused"
    NEVER = "never"


FINAL_JOB_STATES = frozenset({JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED})
#: Attempt states that count against ``max_attempts``.
FAILED_ATTEMPT_STATES = frozenset({AttemptState.FAILED, AttemptState.TIMED_OUT})

JOB_TRANSITIONS: dict[JobState, frozenset[JobState]] = {
    JobState.QUEUED: frozenset({JobState.RUNNING, JobState.FAILED, JobState.CANCELLED}),
    JobState.RUNNING: frozenset({JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED}),
    JobState.SUCCEEDED: frozenset(),
    JobState.FAILED: frozenset(),
    JobState.CANCELLED: frozenset(),
}

TASK_TRANSITIONS: dict[TaskState, frozenset[TaskState]] = {
    # to FAILED: its last attempt failed and no attempts remain
    # to SUCCEEDED: a rejoining worker still holds the output of this (lost) map
    TaskState.PENDING: frozenset({TaskState.RUNNING, TaskState.KILLED, TaskState.FAILED,
                                  TaskState.SUCCEEDED}),
    # back to PENDING: the attempt failed or its worker died, and attempts remain
    TaskState.RUNNING: frozenset({TaskState.SUCCEEDED, TaskState.PENDING, TaskState.FAILED,
                                  TaskState.KILLED}),
    # a finished map whose output was lost with its worker must run again
    TaskState.SUCCEEDED: frozenset({TaskState.PENDING}),
    TaskState.FAILED: frozenset(),
    TaskState.KILLED: frozenset(),
}

ATTEMPT_TRANSITIONS: dict[AttemptState, frozenset[AttemptState]] = {
    # an attempt ends once; what happens to its output afterwards is the task's story
    AttemptState.RUNNING: frozenset({AttemptState.SUCCEEDED, AttemptState.FAILED,
                                     AttemptState.KILLED, AttemptState.LOST,
                                     AttemptState.TIMED_OUT}),
    **{state: frozenset() for state in AttemptState if state != AttemptState.RUNNING},
}


SHRINK_TRANSITIONS: dict[ShrinkState, frozenset[ShrinkState]] = {
    ShrinkState.NONE: frozenset({ShrinkState.ASKED}),
    ShrinkState.ASKED: frozenset({ShrinkState.ACCEPTED, ShrinkState.REFUSED,
                                  ShrinkState.NEVER}),
    ShrinkState.ACCEPTED: frozenset({ShrinkState.ASKED}),
    ShrinkState.REFUSED: frozenset({ShrinkState.ASKED}),
    ShrinkState.NEVER: frozenset(),
}


class StoryEntry(NamedTuple):
    """One state change: which event caused it, what changed (``task``, ``job`` or
    ``attempt N on WORKER``), from and to which state ("" from: it is new), and when."""

    event: str
    subject: str
    start: str
    finish: str
    now: float

    def __str__(self) -> str:
        return (f"{self.now:.3f} {self.event}: {self.subject} "
                f"{self.start or 'new'} -> {self.finish}")


class InvalidTransition(ZmrError):
    """A state change that the lifecycle does not allow. ``story`` is what happened to the
    task or job so far (``StoryEntry`` lines, oldest first), to show how it got there."""

    def __init__(self, message: str, story: Iterable[StoryEntry] = ()) -> None:
        self.story = list(story)
        lines = "".join(f"\n  {entry}" for entry in self.story)
        super().__init__(f"{message}{lines}" if lines else message)

    @classmethod
    def refused(cls, what: str, current: Enum, new: Enum,
                story: Iterable[StoryEntry] = ()) -> InvalidTransition:
        return cls(f"{what}: {current.value} -> {new.value} is not allowed", story)
