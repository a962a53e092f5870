"""The coordinator's state machine: events in, commands out.

``CoordinatorState`` is the only thing that changes scheduling state. It does no I/O and
reads no clock (every event carries ``now``); the server (``server.py``) turns socket
traffic into calls here and carries out the returned commands (``events.py``). So the
scheduling logic is tested by feeding events and comparing commands, without sockets
(dask's worker state machine does the same).

Attempts are fenced: a result for an attempt that is not running (late, duplicate, from a
worker declared dead) is ignored, and the first successful attempt of a task is the only
one whose output and counters count.
"""

from __future__ import annotations

import collections
import itertools
from dataclasses import dataclass, field
from typing import Any

from zmr.coordinator import assignments, policy, tally
from zmr.coordinator.events import AbortOutput, Command, Publish, SealOutput, Send
from zmr.coordinator.model import MAP, REDUCE, Attempt, Job, Task, WorkerInfo
from zmr.coordinator.results import result_problem
from zmr.coordinator.states import FINAL_JOB_STATES, AttemptState, JobState, TaskState
from zmr.core.plan import JobPlan
from zmr.core.specs import MapManifest
from zmr.job.runtime import SKIPPED_COUNTER, skip_limit_problem
from zmr.protocol.messages import (
    AssignTask,
    JobEnded,
    KillTask,
    Register,
    RequestTask,
    TaskDone,
    TaskFailed,
)

#: Counter group for what happened to a job's attempts (Hadoop's JobCounter).
JOB_COUNTERS = "zmr.job"


@dataclass
class CoordinatorState:
    """Jobs, tasks and workers, and every rule about how they change."""

    max_attempts: int = 4
    task_timeout_s: float = 600.0
    blacklist_after: int = 3
    speculative: bool = True
    slow_factor: float = 1.5
    min_runtime_s: float = 5.0
    restore_grace_s: float = 12.0
    restored_at: float | None = None
    jobs: dict[str, Job] = field(default_factory=dict)
    workers: dict[str, WorkerInfo] = field(default_factory=dict)
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    _live: list[Job] | None = None          # jobs not over yet, oldest first (None: recount)

    # -- jobs ------------------------------------------------------------------------------
    def submit(self, name: str, plan: JobPlan, code: bytes,
               now: float) -> tuple[str, list[Command]]:
        job_id = f"job-{next(self._ids):04d}"
        job = Job(job_id, name, plan, code, now)
        job.set_tasks([Task(job_id, MAP, i) for i in range(plan.num_maps)],
                      [Task(job_id, REDUCE, r) for r in range(plan.num_reducers)])
        self.jobs[job_id] = job
        self._live = None
        commands = self.dispatch(now)
        if not job.maps:                     # no input at all: nothing to wait for
            commands.append(SealOutput(job_id, plan.output))
        return job_id, commands

    def cancel(self, job_id: str, now: float) -> list[Command]:
        job = self.jobs[job_id]
        if job.state in FINAL_JOB_STATES:
            return []
        job.error = "cancelled by request"
        return self._finish_job(job, JobState.CANCELLED, now)

    # -- workers ---------------------------------------------------------------------------
    def register(self, msg: Register, now: float) -> list[Command]:
        known = self.workers.get(msg.worker_id)
        # the same process registering again (it reconnected) keeps its work; a new process
        # under the same id (a new shuffle endpoint) is a restart: what the old one ran is lost
        restarted = known is not None and known.shuffle_endpoint != msg.shuffle_endpoint
        commands = self.worker_lost(msg.worker_id, now) if restarted else []
        self.workers[msg.worker_id] = WorkerInfo(
            msg.worker_id, msg.host, msg.shuffle_endpoint, msg.slots, msg.cpus, msg.memory_mb,
            msg.shuffle_key, prefetch=max(0, min(msg.prefetch, msg.slots)))
        for hold in msg.holds:
            commands += self._adopt_output(msg.worker_id, hold, now)
        self._forget_attempts_not_running(msg.worker_id, set(msg.running), now)
        return commands

    # -- restart ---------------------------------------------------------------------------
    def restore(self, jobs: list[Job], now: float) -> None:
        """Take back journaled jobs after a restart. Attempts that were running stay so: their
        workers re-register and carry on. Whatever is still unaccounted for after
        ``restore_grace_s`` (workers that never came back) is settled by ``tick``."""
        for job in jobs:
            self.jobs[job.job_id] = job
        self._live = None
        last = max((int(j.job_id.rsplit("-", 1)[1]) for j in jobs), default=0)
        self._ids = itertools.count(last + 1)
        self.restored_at = now

    def _settle_restore(self, now: float) -> list[Command]:
        self.restored_at = None
        commands: list[Command] = []
        for job in self._live_jobs():
            for task, attempt in job.running_attempts():
                if attempt.worker_id not in self.workers:
                    self._end_attempt(task, attempt, AttemptState.LOST, now)
            for task in job.needed_outputs():
                if task.output_worker not in self.workers:
                    _rerun_map(job, task)
        return commands

    def _forget_attempts_not_running(self, worker_id: str, running: set[str],
                                     now: float) -> None:
        """A worker says what it runs; attempts we think it runs but it does not (their
        result was lost while we were down) run again."""
        for job in self._live_jobs():
            for task, attempt in job.running_attempts():
                name = f"{job.job_id}/{task.kind}/{task.index}/{attempt.number}"
                if attempt.worker_id == worker_id and name not in running:
                    self._end_attempt(task, attempt, AttemptState.LOST, now)

    def _adopt_output(self, worker_id: str, hold: Any, now: float) -> list[Command]:
        """A (re)joining worker still has a finished map output: use it, don't recompute."""
        try:
            job_id, manifest = hold
            job = self.jobs.get(job_id)
            parsed = MapManifest.from_dict(manifest)
        except (TypeError, ValueError, KeyError):
            return []
        if job is None or job.state in FINAL_JOB_STATES:
            return []
        task = job.task(MAP, parsed.map_index)
        if task is None or task.state in (TaskState.SUCCEEDED, TaskState.FAILED) or \
                result_problem(MAP, task.index, len(job.reduces), manifest):
            return []
        commands = self._kill_others(job, task, now)     # recomputing it is now pointless
        task.set_state(TaskState.SUCCEEDED)
        task.result, task.output_worker = manifest, worker_id
        task.touch()
        job.counters.increment(JOB_COUNTERS, "RECOVERED_MAPS")
        return commands

    def request_task(self, msg: RequestTask, now: float) -> list[Command]:
        if msg.worker_id not in self.workers:
            return []
        self.free_slots_said(msg.worker_id, msg.free_slots)
        return self.dispatch(now)

    def free_slots_said(self, worker_id: str, free_slots: int) -> None:
        """How many more attempts a worker takes (a request, or a report that says it:
        then the dispatch that follows the report answers with the next task)."""
        worker = self.workers.get(worker_id)
        if worker is not None and free_slots >= 0:
            worker.free_slots = max(0, min(free_slots, worker.slots + worker.prefetch))

    def worker_lost(self, worker_id: str, now: float) -> list[Command]:
        """A worker died (missed heartbeats) or came back as new: re-queue what it ran and
        re-run finished maps whose output lived only on its disk, if still needed."""
        worker = self.workers.pop(worker_id, None)
        if worker is None:
            return []
        commands: list[Command] = []
        for job in self._live_jobs():
            for task, attempt in job.running_attempts():
                if attempt.worker_id == worker_id:
                    self._end_attempt(task, attempt, AttemptState.LOST, now)
                    job.counters.increment(JOB_COUNTERS, "LOST_ATTEMPTS")
            # a walk over the maps, but a worker dies rarely: no index is worth keeping
            lost = [t for t in job.needed_outputs() if t.output_worker == worker_id]
            for task in lost:
                _rerun_map(job, task)
            if lost:
                commands += self._stop_reduces(job, now)
        return commands + self.dispatch(now)

    def _stop_reduces(self, job: Job, now: float) -> list[Command]:
        """Running reduces can no longer fetch every map output: stop them now rather than
        let them time out; they run again once the lost maps are redone (not a failure)."""
        commands: list[Command] = []
        for task, attempt in job.running_attempts(REDUCE):
            self._end_attempt(task, attempt, AttemptState.KILLED, now)
            job.counters.increment(JOB_COUNTERS, "KILLED_ATTEMPTS")
            commands.append(Send(attempt.worker_id, KillTask(
                job.job_id, task.kind, task.index, attempt.number)))
        return commands

    # -- results ---------------------------------------------------------------------------
    def task_done(self, msg: TaskDone, now: float) -> list[Command]:
        job, task, attempt = self._current(msg.job_id, msg.task, msg.index, msg.attempt)
        if attempt is None:
            return self.dispatch(now)        # stale (late, duplicate, fenced off); the
            #                                  worker's free slots it reported still count
        problem = result_problem(task.kind, task.index, len(job.reduces), msg.result)
        if problem:
            return self.task_failed(TaskFailed(msg.worker_id, msg.job_id, msg.task, msg.index,
                                               msg.attempt, problem, ""), now)
        self._end_attempt(task, attempt, AttemptState.SUCCEEDED, now)
        if task.state == TaskState.SUCCEEDED:
            return self.dispatch(now)        # a second attempt also finished: discard it
        task.set_state(TaskState.SUCCEEDED)
        task.result = msg.result
        task.output_worker = msg.worker_id
        task.touch()
        self.workers_done(msg.worker_id)
        return self._kill_others(job, task, now) + self._after_success(job, task, now)

    def _kill_others(self, job: Job, task: Task, now: float) -> list[Command]:
        """The first commit won: stop the task's other (speculative) attempts."""
        commands: list[Command] = []
        for other in task.running():
            task.end_attempt(other, AttemptState.KILLED, now)
            job.counters.increment(JOB_COUNTERS, "KILLED_ATTEMPTS")
            commands.append(Send(other.worker_id, KillTask(job.job_id, task.kind, task.index,
                                                           other.number)))
        return commands

    def task_failed(self, msg: TaskFailed, now: float) -> list[Command]:
        job, task, attempt = self._current(msg.job_id, msg.task, msg.index, msg.attempt)
        if attempt is None:
            return self.dispatch(now)        # stale, as in task_done
        self._end_attempt(task, attempt, AttemptState.FAILED, now)
        if task.state == TaskState.SUCCEEDED:
            return self.dispatch(now)        # another attempt already committed
        if msg.worker_id in self.workers:
            self.workers[msg.worker_id].tasks_failed += 1
        if msg.lost_map >= 0 and (lost := job.task(MAP, msg.lost_map)) is not None:
            return self._map_output_lost(job, lost, now)
        return self._count_failure(job, task, msg.worker_id, msg.error, msg.traceback, now)

    def _count_failure(self, job: Job, task: Task, worker_id: str, error: str, tb: str,
                       now: float) -> list[Command]:
        task.failures += 1
        task.error, task.traceback = error, tb
        task.touch()
        job.worker_failures[worker_id] = job.worker_failures.get(worker_id, 0) + 1
        job.counters.increment(JOB_COUNTERS, "FAILED_ATTEMPTS")
        if task.failures >= self.max_attempts:
            if task.state == TaskState.RUNNING:
                return self.dispatch(now)     # another attempt is still running: let it try
            task.set_state(TaskState.FAILED)
            job.error = (f"{task.name} failed {task.failures} times; last error on worker "
                         f"{worker_id}: {error}\n{tb}")
            return self._finish_job(job, JobState.FAILED, now)
        return self.dispatch(now)

    # -- progress and timers ---------------------------------------------------------------
    def progress(self, worker_id: str, running: list[str], now: float) -> None:
        """Heartbeat: ``job/kind/index/attempt:records:bytes_read:bytes_total`` for each
        attempt a worker holds."""
        for entry in running:
            try:
                name, count, read, total = entry.split(":")
                job_id, kind, index, number = name.split("/")
                _, _, attempt = self._current(job_id, kind, int(index), int(number))
                records, fraction = int(count), int(read) / max(1, int(total))
            except ValueError:
                continue
            if attempt is None or attempt.worker_id != worker_id:
                continue
            attempt.read = max(0.0, min(1.0, fraction))
            if records != attempt.progress:
                attempt.progress, attempt.progress_s = records, now

    def tick(self, now: float) -> list[Command]:
        """Time passes: kill attempts whose progress stalled, then look for stragglers."""
        commands: list[Command] = []
        if self.restored_at is not None and now - self.restored_at > self.restore_grace_s:
            commands += self._settle_restore(now)
        for job in self._live_jobs():
            if _complete(job):               # restored between its last commit and its seal
                commands.append(SealOutput(job.job_id, job.plan.output))
            for task, attempt in job.running_attempts():
                # running when listed, maybe not now: a timeout before it can end the job
                if attempt.running and now - attempt.progress_s > self.task_timeout_s:
                    commands += self._time_out(job, task, attempt, now)
        return commands + self.dispatch(now)

    def _time_out(self, job: Job, task: Task, attempt: Attempt, now: float) -> list[Command]:
        self._end_attempt(task, attempt, AttemptState.TIMED_OUT, now)
        kill = Send(attempt.worker_id, KillTask(job.job_id, task.kind, task.index,
                                                attempt.number))
        error = (f"attempt {attempt.number} made no progress for {self.task_timeout_s:.0f}s "
                 f"(task timeout) on worker {attempt.worker_id}: killed")
        if job.state in FINAL_JOB_STATES or task.state == TaskState.SUCCEEDED:
            return [kill]
        return [kill, *self._count_failure(job, task, attempt.worker_id, error, "", now)]

    def workers_done(self, worker_id: str) -> None:
        if worker_id in self.workers:
            self.workers[worker_id].tasks_done += 1

    # -- internals -------------------------------------------------------------------------
    def is_running_attempt(self, job_id: str, kind: str, index: int, number: int) -> bool:
        """Whether that attempt exists and is running (anything else is stale or forged)."""
        return self._current(job_id, kind, index, number)[2] is not None

    def _current(self, job_id: str, kind: str, index: int,
                 number: int) -> tuple[Job, Task, Attempt | None]:
        job = self.jobs.get(job_id)
        task = job.task(kind, index) if job else None
        if job is None or task is None or job.state in FINAL_JOB_STATES:
            return job, task, None  # type: ignore[return-value]
        attempt = task.attempt(number)
        return job, task, attempt if attempt and attempt.running else None

    def _end_attempt(self, task: Task, attempt: Attempt, outcome: AttemptState,
                     now: float) -> None:
        task.end_attempt(attempt, outcome, now)
        if task.state == TaskState.RUNNING and not task.running() and \
                outcome != AttemptState.SUCCEEDED:
            task.set_state(TaskState.PENDING)

    def _map_output_lost(self, job: Job, lost: Task, now: float) -> list[Command]:
        """A reducer could not fetch a map's output: run that map again (the reducer's own
        attempt does not count as a failure, as in Hadoop)."""
        if lost.state == TaskState.SUCCEEDED:
            lost.set_state(TaskState.PENDING)
            lost.result = None
        return self.dispatch(now)

    def _after_success(self, job: Job, task: Task, now: float) -> list[Command]:
        if task.kind == MAP and job.done(MAP) == len(job.maps):
            problem = skip_limit_problem(job.plan.skip_bad_records,
                                         job.map_counter(SKIPPED_COUNTER))
            if problem:               # checked once the map phase is over, before any seal
                job.error = problem
                return self._finish_job(job, JobState.FAILED, now)
        if _complete(job):
            return [SealOutput(job.job_id, job.plan.output)]
        return self.dispatch(now)

    def output_sealed(self, job_id: str, error: str, now: float) -> list[Command]:
        """The server wrote ``_SUCCESS`` (``error`` empty) or could not."""
        job = self.jobs.get(job_id)
        if job is None or job.state in FINAL_JOB_STATES:
            return []
        if error:
            job.error = f"every task committed, but {job.plan.output}/_SUCCESS: {error}"
            return self._finish_job(job, JobState.FAILED, now)
        return self._finish_job(job, JobState.SUCCEEDED, now)

    def _finish_job(self, job: Job, state: JobState, now: float) -> list[Command]:
        commands: list[Command] = []
        for task, attempt in job.running_attempts():
            task.end_attempt(attempt, AttemptState.KILLED, now)
            commands.append(Send(attempt.worker_id, KillTask(
                job.job_id, task.kind, task.index, attempt.number)))
        for task in job.tasks():             # once per job: the walk is affordable
            if task.state in (TaskState.PENDING, TaskState.RUNNING):
                task.set_state(TaskState.KILLED)
        if job.state == JobState.QUEUED and state == JobState.SUCCEEDED:
            job.set_state(JobState.RUNNING)
        job.set_state(state)
        job.finished_s = now
        self._live = None
        if state != JobState.SUCCEEDED:
            commands.append(AbortOutput(job.job_id, job.plan.output))
        commands.append(Publish(JobEnded(job.job_id, state.value)))
        return commands + self.dispatch(now)

    def running_per_worker(self) -> collections.Counter[str]:
        """How many attempts each worker runs (by worker id)."""
        return collections.Counter(a.worker_id for job in self._live_jobs()
                                   for _, a in job.running_attempts())

    def jobs_to_forget(self, job_ids: list[str]) -> list[str]:
        """Of the jobs a worker has data for, those that are over (or unknown to us)."""
        return [j for j in job_ids if j not in self.jobs or self.jobs[j].state in
                FINAL_JOB_STATES]

    def _live_jobs(self) -> list[Job]:
        # kept: every job ever run stays in ``jobs`` (history), and each event asks
        if self._live is None:
            self._live = [j for j in self.jobs.values() if j.state not in FINAL_JOB_STATES]
        return self._live

    def validate(self) -> list[str]:
        """Where the kept indexes (each job's tally, the live jobs) disagree with a recount
        of every task (empty: nowhere). For tests, after every event (as dask's
        ``validate_state``); far too slow for the server."""
        found = [f"{job.job_id}: {problem}" for job in self.jobs.values()
                 for problem in tally.problems(job.maps, job.reduces, job.tally)
                 if job.tally is not None]
        live = [j for j in self.jobs.values() if j.state not in FINAL_JOB_STATES]
        if [id(j) for j in self._live_jobs()] != [id(j) for j in live]:
            found.append(f"live jobs kept {[j.job_id for j in self._live_jobs()]}, "
                         f"recount {[j.job_id for j in live]}")
        return found

    def dispatch(self, now: float) -> list[Command]:
        """Give runnable tasks to workers that asked for work (oldest job first)."""
        commands: list[Command] = []
        asking = [w for w in self.workers.values() if w.free_slots > 0]
        if not asking:
            return commands                  # the common case: every slot is busy
        jobs = self._live_jobs()
        stragglers: list[tuple[Job, list[Task]]] | None = None
        for worker in sorted(asking, key=lambda w: -w.free_slots):
            while worker.free_slots > 0:
                choice = policy.next_task(jobs, worker, self.blacklist_after, len(self.workers))
                backup = choice is None and self.speculative
                if backup:
                    # found once per dispatch, not per idle worker; a normal assignment can
                    # end a phase's pending tasks, after which it may have stragglers
                    if stragglers is None:
                        stragglers = policy.stragglers(jobs, now, self.slow_factor,
                                                       self.min_runtime_s)
                    choice = policy.pick_backup(stragglers, worker)
                elif choice is not None:
                    stragglers = None
                if choice is None:
                    break
                commands.append(self._assign(choice[0], choice[1], worker, now, backup))
        return commands

    def _assign(self, job: Job, task: Task, worker: WorkerInfo, now: float,
                speculative: bool = False) -> Send:
        number = len(task.attempts) + 1
        task.add_attempt(Attempt(number, worker.worker_id, now, speculative=speculative))
        if speculative:
            job.counters.increment(JOB_COUNTERS, "SPECULATIVE_ATTEMPTS")
        if task.state == TaskState.PENDING:
            task.set_state(TaskState.RUNNING)
        if job.state == JobState.QUEUED:
            job.set_state(JobState.RUNNING)
            job.started_s = now
        worker.free_slots -= 1
        if job.plan.resources:
            worker.reserved.append((task.attempts[-1], job.plan.resources.get("cpus", 0),
                                    job.plan.resources.get("memory_mb", 0)))
        if task.kind == MAP:
            self._count_locality(job, task, worker)
        spec = assignments.task_spec(job, task, number, self.workers)
        first_time = job.job_id not in worker.jobs_with_code
        worker.jobs_with_code.add(job.job_id)
        msg = AssignTask(job.job_id, task.kind, task.index, number, spec, first_time)
        return Send(worker.worker_id, msg, (job.code,) if first_time else ())

    @staticmethod
    def _count_locality(job: Job, task: Task, worker: WorkerInfo) -> None:
        """Hadoop's DATA_LOCAL_MAPS / OTHER_LOCAL_MAPS, for maps whose input has a host."""
        hosts = job.plan.splits[task.index].hosts
        if hosts:
            local = worker.host in hosts
            job.counters.increment(JOB_COUNTERS,
                                   "DATA_LOCAL_MAPS" if local else "OTHER_LOCAL_MAPS")

    def unplaceable(self, plan: JobPlan) -> str:
        """Why no registered worker could ever run a task of ``plan`` ("" if one could, or
        if no worker has registered yet)."""
        return policy.unplaceable(plan.resources, list(self.workers.values()))

def _rerun_map(job: Job, task: Task) -> None:
    """The map's output is gone with its worker: it runs again."""
    task.set_state(TaskState.PENDING)
    task.result = None
    job.counters.increment(JOB_COUNTERS, "RERUN_MAPS")


def _complete(job: Job) -> bool:
    """Every map and every reduce of the job has committed."""
    return job.done(MAP) == len(job.maps) and job.done(REDUCE) == len(job.reduces)
