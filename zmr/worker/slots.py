"""A worker's slots: the attempts it was assigned, queued until an executor is free, and
the executors running them.

The coordinator may assign ``prefetch`` attempts beyond the slots (credit-based flow
control, like the shuffle's): the next attempt is already here when one ends, so a slot
never idles for a round trip to the coordinator. Executors are kept per slot and reused
for the attempts of one job (see ``executor.py``); one is replaced when its process dies,
is killed, runs an attempt that fails, runs ``max_tasks`` attempts (leaks in user code) or
its job ends. The executors are the worker's choice (``executor_type``): task processes
(``executor.Executor``), or attempts run in this process (``inprocess.InProcessExecutor``,
for tests); all of them run with the worker's one ``ExecutorConfig``.
"""

from __future__ import annotations

import collections
import dataclasses
import logging
import time
from dataclasses import dataclass
from typing import Any

from zmr.core.ids import AttemptId
from zmr.core.specs import MapTaskSpec, ReduceTaskSpec
from zmr.protocol.messages import AttemptProgress
from zmr.worker.executor import Executor
from zmr.worker.pipe import (
    READ,
    RECORDS,
    TOTAL,
    ExecutorConfig,
    Outcome,
    Refusal,
    TaskExecutor,
)

log = logging.getLogger("zmr.worker")
#: Attempts shorter than this (on average) get the prefetch credit.
PREFETCH_BELOW_S = 1.0


@dataclass
class Queued:
    """An assigned attempt waiting for an executor."""

    key: AttemptId
    spec: MapTaskSpec | ReduceTaskSpec
    log_path: str


@dataclass
class Finished:
    """An attempt that ended, with when it started running on this worker."""

    key: AttemptId
    outcome: Outcome
    started_s: float


class Slots:
    """Queued and running attempts of one worker."""

    def __init__(self, slots: int, prefetch: int, max_tasks: int, config: ExecutorConfig,
                 executor_type: type[TaskExecutor] = Executor) -> None:
        self.slots = slots
        self.prefetch = prefetch
        self.max_tasks = max_tasks
        self.config = config                  # what every executor runs with
        self.executor_type = executor_type
        self.recent_s = 0.0                   # moving average of attempt run times
        self.executors: list[TaskExecutor] = []
        self.queue: collections.deque[Queued] = collections.deque()
        self.job_code: dict[str, bytes] = {}

    # -- what the worker reports -----------------------------------------------------------
    def free(self) -> int:
        """How many more attempts this worker takes now: idle slots, plus the prefetch
        credit while attempts are short. Long attempts get none: the round trip it saves is
        nothing to them, and at a job's end a task queued here behind a long one would wait
        while another worker sits idle."""
        credit = self.prefetch if self.recent_s < PREFETCH_BELOW_S else 0
        return max(0, self.slots + credit - len(self.busy()) - len(self.queue))

    def _timed(self, seconds: float) -> None:
        """Keep a moving average of how long attempts run here."""
        self.recent_s += (seconds - self.recent_s) * 0.3

    def busy(self) -> list[TaskExecutor]:
        return [e for e in self.executors if e.busy]

    def attempts(self) -> list[AttemptId]:
        """Every attempt this worker holds, running or queued."""
        return [e.attempt for e in self.busy() if e.attempt] + [q.key for q in self.queue]

    def progress(self) -> list[AttemptProgress]:
        """How far each attempt held is (queued ones: not started)."""
        entries = [AttemptProgress(e.attempt, e.progress[RECORDS], e.progress[READ],
                                   e.progress[TOTAL]) for e in self.busy() if e.attempt]
        return entries + [AttemptProgress(q.key, 0, 0, 0) for q in self.queue]

    def needs_memory_watch(self) -> bool:
        return any(e.memory_limit for e in self.busy())

    # -- changes ---------------------------------------------------------------------------
    def serve_from(self, own_endpoint: str) -> None:
        """This worker's shuffle service is at ``own_endpoint`` (known once it is bound):
        executors started from now on read its segments in place."""
        self.config = dataclasses.replace(self.config, own_endpoint=own_endpoint)

    def start_executors(self) -> None:
        """One idle executor per slot, so the first attempts pay no process start."""
        while len(self.executors) < self.slots:
            self.executors.append(self.executor_type(self.config))

    def add(self, key: AttemptId, spec: MapTaskSpec | ReduceTaskSpec, log_path: str,
            code: bytes | None) -> None:
        if code is not None:
            self.job_code[key.job_id] = code
        self.queue.append(Queued(key, spec, log_path))

    def fill(self) -> list[Finished]:
        """Start queued attempts on idle executors; those that cannot start (no code for
        their job) come back as failures."""
        failed: list[Finished] = []
        while self.queue and len(self.busy()) < self.slots:
            queued = self.queue.popleft()
            code = self.job_code.get(queued.key.job_id)
            if code is None:
                failed.append(Finished(queued.key, Outcome(
                    False, error="worker has no code for this job"), time.time()))
                continue
            self._start(queued, code)
        return failed

    def _start(self, queued: Queued, code: bytes) -> None:
        for _ in range(3):           # an idle executor may have died since its last attempt
            executor = self._executor_for(queued.key.job_id)
            if executor.start(queued.key, queued.spec, code, queued.log_path):
                return
            self._drop(executor)
        raise RuntimeError("cannot start a task process")

    def _executor_for(self, job_id: str) -> TaskExecutor:
        """An idle executor: one that has the job loaded, else a fresh one, else a fresh
        process in place of one that ran another job."""
        idle = [e for e in self.executors if not e.busy]
        for wanted in (job_id, None):
            for executor in idle:
                if executor.job_id == wanted:
                    return executor
        if len(self.executors) >= self.slots and idle:
            self._drop(idle[0], kill=False)
        fresh = self.executor_type(self.config)
        self.executors.append(fresh)
        return fresh

    def collect(self, ready: list[Any]) -> list[Finished]:
        """Outcomes of the executors whose pipe became readable (or that a memory check
        killed); dead, killed and worn-out executors are replaced by fresh ones."""
        finished = []
        for executor in [e for e in self.busy() if e in ready or e.check_memory()]:
            key, started = executor.attempt, executor.started_s
            outcome = executor.collect()
            if outcome is None or key is None:
                continue
            finished.append(Finished(key, outcome, started))
            self._timed(time.time() - started)
            # a failed attempt may have left the process's globals, threads or memory in
            # any state: its retry (here or on another slot) gets a fresh process, as
            # Hadoop gives a retried attempt a fresh JVM, and the old one is killed (a
            # thread it left running could keep a retired process alive)
            if not outcome.ok or not executor.alive() \
                    or executor.tasks_run >= self.max_tasks or executor.holds_too_much():
                self._replace(executor, kill=not outcome.ok or not executor.alive())
        return finished

    def kill(self, key: AttemptId) -> bool:
        """Stop an attempt, queued or running; False if this worker does not hold it."""
        for queued in list(self.queue):
            if queued.key == key:
                self.queue.remove(queued)
                return True
        for executor in self.busy():
            if executor.attempt == key:
                self._replace(executor, kill=True)
                return True
        return False

    def shrink(self, key: AttemptId, keep: int) -> Refusal:
        """Cut a running map attempt's split at ``keep`` (``Executor.shrink``): ("",
        False) if its process agreed, else why not and whether for good."""
        for executor in self.busy():
            if executor.attempt == key:
                return executor.shrink(key, keep)
        if any(queued.key == key for queued in self.queue):
            return "the attempt has not started", False
        return "the attempt does not run here", True

    def job_ended(self, job_id: str) -> list[AttemptId]:
        """Stop the job's attempts, forget its code, and recycle the executors that have
        it loaded; returns the attempts stopped."""
        stopped = [k for k in self.attempts() if k.job_id == job_id]
        for key in stopped:
            self.kill(key)
        for executor in [e for e in self.executors if e.job_id == job_id and not e.busy]:
            self._replace(executor, kill=False)
        self.job_code.pop(job_id, None)
        return stopped

    def close(self) -> None:
        for executor in self.executors:
            executor.kill()
            executor.forget_scratch()
        self.executors.clear()
        self.queue.clear()

    def _replace(self, executor: TaskExecutor, kill: bool = False) -> None:
        self._drop(executor, kill)
        self.executors.append(self.executor_type(self.config))

    def _drop(self, executor: TaskExecutor, kill: bool = True) -> None:
        if kill or executor.busy:
            executor.kill()
        else:
            executor.retire()
        executor.forget_scratch()     # a retiring process still writing keeps its inode
        self.executors.remove(executor)

