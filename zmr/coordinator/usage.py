"""How busy a job kept the cluster's slots: **slot utilisation** = busy task time / slot
time, reported with every job (``zmr run``, ``zmr status``, ``zmr history``, the
dashboard) next to the splits its plan cut and how many of them were rebalanced.

- *Busy task time*: on each worker, the time during which at least one, two, ... of the
  job's attempts were held there, each level counted only up to the worker's slots (an
  attempt prefetched behind busy slots is queued, not running). Every attempt that ran
  counts, whatever its end (succeeded, failed, killed, lost, a speculative backup): it
  kept a slot busy, as Spark counts the executor run time of all its tasks. Attempt
  times are the coordinator's: from assignment to the report.
- *Slot time*: the slots of the registered workers integrated over the job's wall time,
  from its first dispatch to its end, as workers come and go (``SlotTime``). Slots busy
  with another job's tasks count as this job's too: on a shared cluster it is a share.

The machine charges slot time when workers register or are lost (``recharging``) and
settles the busy time once, when the job ends (``settle``); views of a running job
compute it on the fly. No clock is read here: every time comes from an event.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from zmr.coordinator.machine import CoordinatorState
    from zmr.coordinator.model import Job, WorkerInfo


@dataclass
class SlotTime:
    """A job's slot-seconds: ``seconds`` charged up to ``since``, and ``slots`` counted
    from then on (until the next change). ``since`` is None until the job is dispatched.
    ``workers`` keeps the slots of each worker seen meanwhile, to cap its busy time."""

    seconds: float = 0.0
    since: float | None = None
    slots: int = 0
    workers: dict[str, int] = field(default_factory=dict)

    def start(self, now: float, workers: Mapping[str, WorkerInfo]) -> None:
        """The job's first attempt was dispatched at ``now``."""
        self.since = now
        self._count(workers)

    def charge(self, now: float, workers: Mapping[str, WorkerInfo]) -> None:
        """The registered workers changed at ``now``: what ran so far is charged at the
        old slot count, and ``workers`` count from now on."""
        if self.since is None:
            return
        self.seconds, self.since = self.at(now), max(now, self.since)
        self._count(workers)

    def at(self, t: float) -> float:
        """Slot-seconds from the first dispatch to ``t`` (0 if never dispatched)."""
        if self.since is None:
            return 0.0
        return self.seconds + self.slots * max(0.0, t - self.since)

    def _count(self, workers: Mapping[str, WorkerInfo]) -> None:
        self.slots = sum(w.slots for w in workers.values())
        self.workers.update((w.worker_id, w.slots) for w in workers.values())

    def to_record(self) -> list[Any]:
        return [self.seconds, self.since, self.slots, self.workers]

    @classmethod
    def from_record(cls, record: list[Any] | None) -> SlotTime:
        """As journaled (None: a journal older than this record: nothing known)."""
        if not record:
            return cls()
        seconds, since, slots, workers = record
        return cls(seconds, since, slots, dict(workers))


def busy_seconds(intervals: Iterable[tuple[float, float]], slots: int) -> float:
    """Seconds during which the ``(start, end)`` intervals overlapped, each moment
    counted once per interval up to ``slots`` at a time (a worker with 2 slots holding 3
    attempts is 2 slots busy, not 3)."""
    edges = sorted(edge for start, end in intervals if end > start
                   for edge in ((start, 1), (end, -1)))
    busy, held, last = 0.0, 0, 0.0
    for t, change in edges:
        busy += min(held, slots) * (t - last)
        held, last = held + change, t
    return busy


def busy_by_worker(job: Job, now: float) -> dict[str, float]:
    """Busy seconds of ``job``'s attempts on each worker that ran one (running attempts
    up to ``now``), capped by that worker's slots (uncapped if never seen registered)."""
    intervals: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for task in job.tasks():
        for a in task.attempts:
            end = a.finished_s if a.finished_s is not None else now
            intervals[a.worker_id].append((a.started_s, end))
    return {worker: round(busy_seconds(spans, job.slot_time.workers.get(worker, len(spans))),
                          3) for worker, spans in sorted(intervals.items())}


def settle(job: Job, now: float) -> None:
    """``job`` ended at ``now`` (its attempts too): its busy time is kept, not walked for
    again each time it is shown."""
    job.busy = busy_by_worker(job, now)


def recharging(handler: Callable[[CoordinatorState, Any], list[Any]]
               ) -> Callable[[CoordinatorState, Any], list[Any]]:
    """``handler`` of an event that may change the registered workers (a worker joins or
    is lost): afterwards, every running job is charged for the slots it had until now."""

    @functools.wraps(handler)
    def handle(state: CoordinatorState, ev: Any) -> list[Any]:
        commands = handler(state, ev)
        for job in state.live_jobs():
            job.slot_time.charge(ev.now, state.workers)
        return commands

    return handle


def describe_usage(job: Job, now: float, brief: bool = False) -> dict[str, Any]:
    """The job's usage as status replies carry it. A running job's busy time is walked
    for only when not ``brief`` (brief replies are polled many times a second); an ended
    one's was kept (None: journaled by a coordinator that did not keep it: unknown)."""
    end = job.finished_s if job.finished_s is not None else now
    running = job.finished_s is None and not brief
    busy = busy_by_worker(job, now) if running else job.busy
    # splits: those planning cut; the remainders rebalancing cut off them are counted apart
    described: dict[str, Any] = {"splits": job.plan.num_maps - job.rebalanced,
                                 "rebalanced": job.rebalanced}
    described.update(usage_figures(sum(busy.values()) if busy is not None else None,
                                   job.slot_time.at(end), wall_seconds(job, now)))
    if busy is not None and not brief:
        described["worker_busy_s"] = busy
    return described


def wall_seconds(job: Job, now: float) -> float:
    """From the job's first dispatch to its end (or ``now``); 0 if never dispatched, or
    if its slot time was not kept (journaled by an older coordinator)."""
    if job.started_s is None or job.slot_time.since is None:
        return 0.0
    return (job.finished_s if job.finished_s is not None else now) - job.started_s


def usage_figures(busy_s: float | None, slot_s: float, wall_s: float) -> dict[str, Any]:
    """``busy_s`` (None: not known yet), ``slot_s``, the average slots over ``wall_s`` and
    the utilisation (None when unknown or no slot time passed; at most 1)."""
    return {"busy_s": None if busy_s is None else round(busy_s, 3),
            "slot_s": round(slot_s, 3),
            "slots": round(slot_s / wall_s, 2) if wall_s > 0 else None,
            "utilisation": (round(min(1.0, busy_s / slot_s), 4)
                            if busy_s is not None and slot_s > 0 else None)}


def describe_steps_usage(steps: list[Job], now: float, brief: bool = False) -> dict[str, Any]:
    """A multi-step job's usage: its steps' added up (the splits every step cut, busy and
    slot time over the steps' wall times; the gaps between steps do not count)."""
    described = [describe_usage(step, now, brief) for step in steps]
    busy = [d["busy_s"] for d in described]
    total: dict[str, Any] = {"splits": sum(d["splits"] for d in described),
                             "rebalanced": sum(d["rebalanced"] for d in described)}
    total.update(usage_figures(sum(busy) if None not in busy else None,
                               sum(d["slot_s"] for d in described),
                               sum(wall_seconds(step, now) for step in steps)))
    if not brief:
        workers: dict[str, float] = defaultdict(float)
        for d in described:
            for worker, seconds in d.get("worker_busy_s", {}).items():
                workers[worker] += seconds
        total["worker_busy_s"] = {w: round(s, 3) for w, s in sorted(workers.items())}
    return total
