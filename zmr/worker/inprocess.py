"""An executor without a process (python-rq's ``SimpleWorker``): the attempt runs in the
worker's own process, to the end, when it is handed over. For tests: a whole worker runs
in one test process (in a thread, or stepped by the test with an injected clock) and its
attempts cost no fork, so behaviour around attempts (reports, health, backoff) is tested
in milliseconds.

None of a task process's protection is here: user code shares the worker's process (its
globals, its GIL, its working directory, restored after each attempt), prints to the
worker's stdout, and a crash takes the worker down; there is no memory limit and no cut
of a running split (an attempt is over before any cut could be asked). The worker's loop
still waits on :meth:`fileno`, which is readable once the outcome is there, exactly as on
a task process's pipe.
"""

from __future__ import annotations

import os
import time

from zmr.core.ids import AttemptId
from zmr.core.specs import MapTaskSpec, ReduceTaskSpec
from zmr.tasks import progress as task_progress
from zmr.worker.child import JobCache, run_attempt
from zmr.worker.pipe import (
    IDLE_PROGRESS,
    READ,
    RECORDS,
    TOTAL,
    ExecutorConfig,
    Outcome,
    Refusal,
    RunAttempt,
)


class InProcessExecutor:
    """Runs one attempt at a time in this process (see the module docstring)."""

    def __init__(self, config: ExecutorConfig) -> None:
        self.config = config
        self.jobs = JobCache()
        self.progress = list(IDLE_PROGRESS)
        self.job_id: str | None = None
        self.attempt: AttemptId | None = None
        self.started_s = 0.0
        self.tasks_run = 0
        self.memory_limit = 0                # not enforced in process
        self._outcome: Outcome | None = None
        # readable while an outcome waits: the worker's poller wakes for it
        self._ready_r, self._ready_w = os.pipe()
        self._closed = False

    @staticmethod
    def warm_up() -> None:
        """Nothing to prepare: no process is started."""

    @property
    def busy(self) -> bool:
        return self.attempt is not None

    def fileno(self) -> int:
        return self._ready_r

    def alive(self) -> bool:
        return not self._closed

    def start(self, attempt: AttemptId, spec: MapTaskSpec | ReduceTaskSpec, code: bytes,
              log_path: str) -> bool:
        """Run the attempt now, to its end; its outcome waits for :meth:`collect`."""
        if self._closed:
            return False
        send_code = code if attempt.job_id != self.job_id else None
        self.job_id, self.attempt, self.started_s = attempt.job_id, attempt, time.time()
        self.progress[:] = list(IDLE_PROGRESS)
        self._outcome = self._run(RunAttempt(spec, attempt.job_id, send_code, log_path))
        os.write(self._ready_w, b"!")
        return True

    def _run(self, request: RunAttempt) -> Outcome:
        """The attempt, with progress counted here, and this process's working directory
        (which loading a job changes) given back afterwards."""
        def advance(records: int) -> None:
            self.progress[RECORDS] += records

        def read(done: int, total: int) -> None:
            self.progress[READ], self.progress[TOTAL] = done, total

        cwd = os.getcwd()
        task_progress.set_hook(advance, read)
        try:
            return run_attempt(request, self.jobs, self.config)
        finally:
            task_progress.set_hook(None)
            os.chdir(cwd)

    def shrink(self, attempt: AttemptId, keep: int) -> Refusal:
        return "the attempt does not run here", True    # it ended when it started

    def collect(self) -> Outcome | None:
        outcome, self._outcome = self._outcome, None
        if outcome is None:
            return None
        os.read(self._ready_r, 1)
        self.attempt = None
        self.tasks_run += 1
        return outcome

    def check_memory(self) -> bool:
        return False

    def holds_too_much(self) -> bool:
        return False

    def kill(self) -> None:
        self.attempt, self._outcome = None, None
        self._close()

    def retire(self) -> None:
        self._close()

    def forget_scratch(self) -> None:
        """No scratch file: output goes to the worker's own stdout and stderr."""

    def _close(self) -> None:
        if not self._closed:
            self._closed = True
            os.close(self._ready_r)
            os.close(self._ready_w)
