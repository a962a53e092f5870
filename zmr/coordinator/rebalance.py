"""Dynamic work rebalancing (Google Cloud Dataflow's "liquid sharding"): when a slot is
idle and no task is pending, cut the unread remainder off a running map's split and make
it a new map task.

The coordinator only proposes: it asks the attempt's worker to cut at a split-relative
byte (``ShrinkAttempt``), halfway through what the heartbeats say is still unread. The
attempt's task process decides (``worker/executor.py``, ``tasks/claims.py``): it accepts
only if every line it has mapped so far starts before the cut. Only an accepted cut
(``ShrinkAnswer``) changes anything here: the map reads the head from now on (its retries
and backups too, and its output must carry the head's fingerprint), and the remainder is
a new map task at the end of the job's maps, retried like any other. The split a map
reads and the remainders are journaled with its task record (``records.py``).

Which splits are cut, and how, is :mod:`zmr.storage.cutting`. This module is pure choice
and bookkeeping; ``assign.py`` asks, ``lifecycle.shrink_answered`` applies the answer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from zmr.coordinator.commands import Send
from zmr.coordinator.model import MAP, Attempt, Job, Task
from zmr.coordinator.states import ShrinkState
from zmr.protocol.messages import ShrinkAttempt
from zmr.storage import cutting

if TYPE_CHECKING:
    from zmr.coordinator.stimuli import Stimulus

#: A refused attempt (it had read past the cut, or not started) is asked again after this.
ASK_AGAIN_AFTER_S = 2.0
#: No remainder is ever smaller than this: a few lines are not worth a task.
MIN_CUT_BYTES = 16 << 10

Candidate = tuple[Job, Task, Attempt, int]


def keep_for(total: int, read: int, speed: float, running_s: float, min_bytes: int,
             min_s: float) -> int | None:
    """Where to cut a split of ``total`` bytes of which ``read`` are read, by an attempt
    running for ``running_s`` seconds and reading ``speed`` bytes/s: halfway through the
    unread part, so the attempt and the new task get half each; None if that half is not
    worth a task. It is if it holds ``min_bytes``, or, smaller (down to
    ``MIN_CUT_BYTES``), if reading it at that speed would take ``min_s`` or more (a
    CPU-heavy mapper, or costly records ahead): a byte count alone cannot tell a slow map
    from a fast one."""
    unread = total - max(0, read)
    half = unread // 2
    if half < MIN_CUT_BYTES:
        return None
    if half < min_bytes and (running_s < min_s or speed * min_s > half):
        return None
    return total - half


def candidates(jobs: list[Job], now: float, min_bytes: int,
               min_s: float) -> list[Candidate]:
    """Running maps that may be cut, with where, most unread first: maps of jobs that
    allow it, running one attempt (not a backup), not waiting for an answer, not refused
    a moment ago or for good, whose split can be cut and has enough left."""
    found = []
    for job in jobs:
        if not job.plan.rebalance or job.tally is None:
            continue
        for task in job.tally.running[MAP].values():
            attempt = _only_attempt(task, now)
            if attempt is None:
                continue
            split = job.plan.splits[task.index]
            if not cutting.cuttable(split):
                continue
            total = cutting.split_length(split)
            keep = keep_for(total, attempt.read_bytes, attempt.read_speed(now),
                            now - attempt.started_s, min_bytes, min_s)
            if keep is not None:
                found.append((total - keep, job, task, attempt, keep))
    found.sort(key=lambda c: (-c[0], c[1].submitted_s, c[2].index))
    return [(job, task, attempt, keep) for _, job, task, attempt, keep in found]


def _only_attempt(task: Task, now: float) -> Attempt | None:
    running = task.running()
    if len(running) != 1 or running[0].speculative:
        return None
    attempt = running[0]
    if attempt.shrink in (ShrinkState.ASKED, ShrinkState.NEVER):
        return None
    if attempt.shrink == ShrinkState.REFUSED and now - attempt.shrink_s < ASK_AGAIN_AFTER_S:
        return None
    return attempt


def waiting(jobs: list[Job]) -> int:
    """Cuts asked and not answered yet: each stands for an idle slot already."""
    return sum(1 for job in jobs if job.tally is not None
               for task in job.tally.running[MAP].values()
               for attempt in task.running() if attempt.shrink == ShrinkState.ASKED)


def ask(task: Task, attempt: Attempt, keep: int, ev: Stimulus) -> Send:
    """Ask ``attempt``'s worker to cut its split at ``keep``."""
    task.set_shrink(attempt, ShrinkState.ASKED, ev)
    attempt.shrink_keep = keep
    return Send(attempt.worker_id, ShrinkAttempt(task.attempt_id(attempt), keep))


def cut(job: Job, task: Task, keep: int, ev: Stimulus) -> Task:
    """The cut at ``keep`` was accepted: ``task`` reads the head of its split from now
    on, and the remainder is a new pending map task (returned)."""
    head, rest = cutting.cut(job.plan.splits[task.index], keep)
    origin, offset = task.input_position()
    job.resplit(task, head)
    job.rebalanced += 1
    return job.add_map(rest, (origin, offset + keep), ev)
