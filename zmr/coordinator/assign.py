"""Handing tasks to workers: who asked for how many, which task each gets (``policy.py``
chooses), and the assignment message with its task spec.

Every other handler ends with ``dispatch``: whatever an event freed up (a slot, a task
back to pending, a phase now over) is handed out in the same turn.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from zmr.coordinator import policy, rebalance, records
from zmr.coordinator.commands import Command, Persist, Send
from zmr.coordinator.model import MAP, Attempt, Job, Task, WorkerInfo
from zmr.coordinator.states import AttemptState, JobState, TaskState
from zmr.core import coalescing
from zmr.core.specs import MapManifest, MapTaskSpec, ReduceTaskSpec
from zmr.protocol.messages import AssignTask, KillTask

if TYPE_CHECKING:
    from zmr.coordinator.machine import CoordinatorState
    from zmr.coordinator.stimuli import Stimulus, TaskRequested

#: Counter group for what happened to a job's attempts (Hadoop's JobCounter).
JOB_COUNTERS = "zmr.job"


def task_requested(state: CoordinatorState, ev: TaskRequested) -> list[Command]:
    if ev.msg.worker_id not in state.workers:
        return []
    free_slots_said(state, ev.msg.worker_id, ev.msg.free_slots)
    return dispatch(state, ev)


def free_slots_said(state: CoordinatorState, worker_id: str, free_slots: int,
                    finishing: bool = False) -> None:
    """How many more attempts a worker takes (a request, or a report that says it: then
    the dispatch that follows the report answers with the next task), at most the room its
    slots and prefetch have for what we hold there (``finishing``: less the reported
    attempt, still running here until the report is handled). What it says cannot count
    the attempts still on their way to it: trusting it alone, a worker slower to read
    than we are to answer would be sent ever more."""
    worker = state.workers.get(worker_id)
    if worker is not None and free_slots >= 0:
        room = worker.slots + worker.prefetch - len(worker.held()) + finishing
        worker.free_slots = max(0, min(free_slots, room))


def dispatch(state: CoordinatorState, ev: Stimulus) -> list[Command]:
    """Give runnable tasks to workers that asked for work (oldest job first): idle slots
    first, on every worker; only then prefetch (queue a task behind a busy slot), so no
    task waits on a busy worker while another worker has a slot free."""
    asking = [w for w in state.workers.values() if w.free_slots > 0]
    if not asking:
        return []                        # the common case: every slot is busy
    turn = _Turn(state, ev)
    turn.commands += coalesce_due(state)
    for worker in sorted(asking, key=lambda w: -w.free_slots):
        turn.fill_idle(worker)
    for worker in asking:
        turn.prefetch(worker)
    return turn.commands


def coalesce_due(state: CoordinatorState) -> list[Command]:
    """Jobs whose every map has now run and whose reduce partitions may be coalesced get
    their reduce tasks (``zmr.core.coalescing``), sized by the map outputs and the slots
    registered now; before any reduce is handed out (so here, where they are), and
    journaled at once (``Persist`` is carried out before the assignments after it): a
    coordinator restarted mid-reduce must find the same reduce tasks, whose part files
    may already be committed."""
    commands: list[Command] = []
    for job in state.live_jobs():
        if job.coalesce_due():
            outputs = [[e.length for e in m.result.partitions] for m in job.maps
                       if isinstance(m.result, MapManifest)]
            sizes = coalescing.partition_sizes(outputs, job.plan.num_reducers)
            slots = sum(w.slots for w in state.workers.values())
            job.coalesce_reduces(coalescing.coalesce(sizes, slots, maps=len(job.maps)))
            commands.append(Persist((records.job_change(job, every_task=True),)))
    return commands


class _Turn:
    """One dispatch: the assignments made so far; the stragglers and the queued attempts,
    each found once per dispatch rather than per idle worker."""

    def __init__(self, state: CoordinatorState, ev: Stimulus) -> None:
        self.state, self.ev = state, ev
        self.jobs = state.live_jobs()
        self.commands: list[Command] = []
        self.stragglers: list[tuple[Job, list[Task]]] | None = None
        self.queued: list[tuple[Task, Attempt]] | None = None
        self.cuts: list[rebalance.Candidate] | None = None
        self.waiting = 0                # cuts asked earlier and not answered yet

    def fill_idle(self, worker: WorkerInfo) -> None:
        """Up to its idle slots: pending tasks, else one queued on a busy worker (taken
        back), else a running map's remainder (cut off and made a task, once its worker
        agrees: the slot waits for that), else backups of stragglers."""
        for _ in range(min(worker.free_slots, worker.idle_slots())):
            if self._next(worker) or self._take_back(worker):
                continue
            if self._cut(worker) or not self._backup(worker):
                return

    def prefetch(self, worker: WorkerInfo) -> None:
        """Its prefetch credit (what it asked for beyond its idle slots): pending maps
        only; a reduce is long, and a backup queued behind a busy slot would be no backup."""
        while worker.free_slots > 0 and self._next(worker, maps_only=True):
            pass

    def _next(self, worker: WorkerInfo, maps_only: bool = False) -> bool:
        state = self.state
        choice = policy.next_task(self.jobs, worker, state.blacklist_after,
                                  len(state.workers), maps_only)
        if choice is None:
            return False
        # a normal assignment can end a phase's pending tasks: it may have stragglers now
        self.stragglers = None
        self.commands.append(_assign(state, choice[0], choice[1], worker, self.ev, False))
        return True

    def _take_back(self, worker: WorkerInfo) -> bool:
        """A task queued (prefetched, not started) on a busy worker for a while runs here
        instead: its attempt there is killed (it is taken off that worker's queue) and a
        new one starts in this idle slot."""
        state = self.state
        if self.queued is None:
            self.queued = policy.queued_attempts(state.workers.values(), self.ev.now)
        found = policy.pick_queued(self.queued, state.jobs, worker, state.blacklist_after,
                                   len(state.workers))
        if found is None:
            return False
        job, task, attempt = found
        self.queued = [queued for queued in self.queued if queued[1] is not attempt]
        task.end_attempt(attempt, AttemptState.KILLED, self.ev)
        task.set_state(TaskState.PENDING, self.ev)
        job.counters.increment(JOB_COUNTERS, "KILLED_ATTEMPTS")
        self.commands.append(Send(attempt.worker_id, KillTask(task.attempt_id(attempt))))
        self.commands.append(_assign(state, job, task, worker, self.ev, False))
        return True

    def _cut(self, worker: WorkerInfo) -> bool:
        """Dynamic work rebalancing: ask for the unread half of a running map's split to
        become a task this slot can run (``rebalance.py``); True if this slot waits for
        such an answer, asked now or before (a backup would race the new task)."""
        state = self.state
        if not state.rebalance:
            return False
        if self.cuts is None:
            self.cuts = rebalance.candidates(self.jobs, self.ev.now, state.rebalance_min_bytes,
                                             state.rebalance_min_s)
            self.waiting = rebalance.waiting(self.jobs)
        if self.waiting:
            self.waiting -= 1
            return True
        for i, (job, task, attempt, keep) in enumerate(self.cuts):
            if worker.can_run_now(job.plan.resources) and not _blacklisted_here(
                    state, job, worker):
                del self.cuts[i]
                self.commands.append(rebalance.ask(task, attempt, keep, self.ev))
                return True
        return False

    def _backup(self, worker: WorkerInfo) -> bool:
        state = self.state
        if not state.speculative:
            return False
        if self.stragglers is None:
            self.stragglers = policy.stragglers(self.jobs, self.ev.now, state.slow_factor,
                                                state.min_runtime_s)
        choice = policy.pick_backup(self.stragglers, worker)
        if choice is None:
            return False
        self.commands.append(_assign(state, choice[0], choice[1], worker, self.ev, True))
        return True


def _blacklisted_here(state: CoordinatorState, job: Job, worker: WorkerInfo) -> bool:
    return policy.blacklisted(job, worker.worker_id, state.blacklist_after, len(state.workers))


def _assign(state: CoordinatorState, job: Job, task: Task, worker: WorkerInfo,
            ev: Stimulus, speculative: bool) -> Send:
    number = len(task.attempts) + 1
    attempt = Attempt(number, worker.worker_id, ev.now, speculative=speculative)
    task.add_attempt(attempt, ev)
    if speculative:
        job.counters.increment(JOB_COUNTERS, "SPECULATIVE_ATTEMPTS")
    if task.state == TaskState.PENDING:
        task.set_state(TaskState.RUNNING, ev)
    if job.state == JobState.QUEUED:
        job.set_state(JobState.RUNNING, ev)
        job.started_s = ev.now
        job.slot_time.start(ev.now, state.workers)
    worker.free_slots -= 1
    worker.given = [*worker.held(), (task, attempt)]
    if job.plan.resources:
        worker.reserved.append((attempt, job.plan.resources.get("cpus", 0),
                                job.plan.resources.get("memory_mb", 0)))
    if task.kind == MAP:
        _count_locality(job, task, worker)
    spec = task_spec(job, task, number, state.workers, state.incarnation)
    first_time = job.job_id not in worker.jobs_with_code
    worker.jobs_with_code.add(job.job_id)
    msg = AssignTask(task.attempt_id(attempt), spec, first_time)
    return Send(worker.worker_id, msg, (job.code,) if first_time else ())


def _count_locality(job: Job, task: Task, worker: WorkerInfo) -> None:
    """Hadoop's DATA_LOCAL_MAPS / OTHER_LOCAL_MAPS, for maps whose input has a host."""
    hosts = job.plan.splits[task.index].hosts
    if hosts:
        local = worker.host in hosts
        job.counters.increment(JOB_COUNTERS,
                               "DATA_LOCAL_MAPS" if local else "OTHER_LOCAL_MAPS")


# -- what an assignment carries (pure: nothing changes) -----------------------------------
def task_spec(job: Job, task: Task, number: int, workers: dict[str, WorkerInfo],
              incarnation: str = "") -> MapTaskSpec | ReduceTaskSpec:
    """The spec of attempt ``number`` of ``task``: for a map, with the identity its output
    must carry; for a reduce, with where each map's output lives (segments cut from the
    manifests the maps reported, as they are kept)."""
    if task.kind == MAP:
        return job.plan.map_spec(job.job_id, task.index, number, "", incarnation)
    partitions = job.partitions_of(task.index)
    segments = []
    # in input order, so a key's values reach the reducer as in an uncut run (the
    # remainder of a rebalanced split comes right after the map it was cut from)
    for m in sorted(job.maps, key=Task.input_position) if job.rebalanced else job.maps:
        holder = workers.get(m.output_worker)
        manifest = m.result
        assert isinstance(manifest, MapManifest), "a reduce runs once every map succeeded"
        for r in partitions:
            if len(partitions) > 1 and not manifest.partitions[r].length:
                continue                 # coalesced: its empty partitions need no fetch
            segments.append(manifest.segment(r, holder.shuffle_endpoint,
                                             holder.shuffle_key) if holder
                            else manifest.segment(r))
    return job.plan.reduce_spec(job.job_id, task.index, number, segments, "")
