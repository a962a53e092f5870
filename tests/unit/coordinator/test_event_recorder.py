"""The coordinator's event log, driven through the state machine: each event, with the
commands it was answered with, makes the records a reader of the log expects; a stale
report makes none; the log is written when the map phase and the job end."""

from __future__ import annotations

import os

from tests.unit.coordinator.drive import assigned, done, join, plan
from zmr.coordinator.event_recorder import FLUSH_EVERY_S, EventRecorder
from zmr.coordinator.machine import CoordinatorState
from zmr.coordinator.stimuli import (
    AttemptFailed,
    AttemptSucceeded,
    JobSubmitted,
    OutputSealed,
    TaskRequested,
    Tick,
    WorkerExpired,
    WorkerRegistered,
)
from zmr.core.ids import AttemptId
from zmr.protocol.messages import Register, RequestTask, TaskFailed
from zmr.storage import event_log, events, layout


class Recording:
    """A state machine whose every answer goes through the recorder, as effects do."""

    def __init__(self, history_dir: str) -> None:
        self.state = CoordinatorState(max_attempts=3)
        self.recorder = EventRecorder(event_log.EventLog(history_dir))
        self.history_dir = history_dir

    def handle(self, event):
        before = self.recorder.before(self.state, event)
        commands = self.state.handle(event)
        self.recorder.after(self.state, event, commands, before)
        return commands

    def written(self, job_id="job-0001"):
        path = layout.event_log_path(self.history_dir, job_id)
        return [e.KIND for e in event_log.read_events(path)] if os.path.exists(path) else []


def _start(tmp_path, maps=2):
    rec = Recording(str(tmp_path))
    job_id = "job-0001"
    rec.handle(JobSubmitted(0.0, job_id, "wc", plan(maps=maps), b"c"))
    join(rec.state, "w1", slots=2)
    return rec


def test_a_job_that_succeeds_logs_each_task_and_its_end(tmp_path):
    rec = _start(tmp_path)
    commands = rec.handle(TaskRequested(1.0, RequestTask("w1", 2)))
    assert len(assigned(commands)) == 2
    assert rec.written() == []                        # buffered until a phase ends
    rec.handle(AttemptSucceeded(2.0, done("w1", "map", 0, 1)))
    rec.handle(AttemptSucceeded(3.0, done("w1", "map", 1, 1, free_slots=1)))
    # the map phase ended: what was buffered is on disk
    assert rec.written() == ["job_submitted", "task_assigned", "task_assigned",
                             "task_started", "task_finished", "task_started",
                             "task_finished"]
    rec.handle(AttemptSucceeded(4.0, done("w1", "reduce", 0, 1)))
    rec.handle(OutputSealed(5.0, "job-0001"))
    logged = event_log.read_events(layout.event_log_path(rec.history_dir, "job-0001"))
    finished = [e for e in logged if isinstance(e, events.TaskFinished)]
    assert [f.task for f in finished] == ["map-00000", "map-00001", "reduce-00000"]
    assert finished[0].records_in == 5 and finished[0].duration_s == 1.0
    assert finished[2].records_out == 2 and not finished[2].reused
    end = logged[-1]
    assert isinstance(end, events.JobEnded) and end.state == "SUCCEEDED"
    assert end.maps == 2 and end.reduces == 1 and end.elapsed_s == 5.0
    assert end.counters["MAP_INPUT_RECORDS"] == 10


def test_a_failed_attempt_is_logged_and_its_retry_says_so(tmp_path):
    rec = _start(tmp_path, maps=1)
    rec.handle(TaskRequested(1.0, RequestTask("w1", 1)))
    attempt = AttemptId("job-0001", "map", 0, 1)
    rec.handle(AttemptFailed(2.0, TaskFailed("w1", attempt, "ValueError: boom", "tb",
                                             free_slots=1)))
    # a second report of the same attempt is stale: nothing more is logged
    rec.handle(AttemptFailed(2.5, TaskFailed("w1", attempt, "ValueError: boom", "tb")))
    rec.handle(AttemptSucceeded(3.0, done("w1", "map", 0, 2)))
    logged = event_log.read_events(layout.event_log_path(rec.history_dir, "job-0001"))
    kinds = [e.KIND for e in logged]
    assert kinds.count("task_failed") == 1
    failed = next(e for e in logged if isinstance(e, events.TaskFailed))
    assert (failed.task, failed.attempt, failed.worker) == ("map-00000", 1, "w1")
    assert failed.error == "ValueError: boom"
    retry = [e for e in logged if isinstance(e, events.TaskAssigned)][1]
    assert (retry.attempt, retry.retry, retry.backup) == (2, True, False)


def test_a_lost_worker_is_logged_in_the_jobs_it_ran_for(tmp_path):
    rec = _start(tmp_path, maps=1)
    rec.handle(TaskRequested(1.0, RequestTask("w1", 1)))
    rec.handle(WorkerExpired(2.0, "w1"))
    rec.recorder.close()
    logged = event_log.read_events(layout.event_log_path(rec.history_dir, "job-0001"))
    lost = [e for e in logged if isinstance(e, events.WorkerLost)]
    assert len(lost) == 1
    assert (lost[0].worker, lost[0].attempts) == ("w1", ("map-00000-a1",))


def test_a_forgotten_job_takes_its_log_with_it(tmp_path):
    rec = _start(tmp_path, maps=0)        # no input: sealed at once
    rec.handle(OutputSealed(1.0, "job-0001"))
    path = layout.event_log_path(rec.history_dir, "job-0001")
    assert [e.KIND for e in event_log.read_events(path)] == ["job_submitted", "job_ended"]
    rec.recorder.log.forget(["job-0001"])
    assert not os.path.exists(path)


def test_a_running_jobs_log_is_written_every_few_seconds(tmp_path):
    rec = _start(tmp_path, maps=2)
    rec.handle(TaskRequested(1.0, RequestTask("w1", 1)))
    rec.handle(Tick(2.0))                     # the first tick writes what is buffered
    assert rec.written() == ["job_submitted", "task_assigned"]
    rec.handle(AttemptSucceeded(3.0, done("w1", "map", 0, 1, free_slots=1)))
    rec.handle(Tick(3.5))                     # too soon after the last write
    assert len(rec.written()) == 2
    rec.handle(Tick(2.0 + FLUSH_EVERY_S))
    assert rec.written()[2:] == ["task_started", "task_finished", "task_assigned"]


def test_a_worker_restarted_under_its_id_is_logged_lost(tmp_path):
    rec = _start(tmp_path, maps=1)
    rec.handle(TaskRequested(1.0, RequestTask("w1", 1)))
    rec.handle(WorkerRegistered(2.0, Register("w1", "h", "tcp://w1:2", 2, 1, 100)))
    rec.handle(WorkerRegistered(3.0, Register("w1", "h", "tcp://w1:2", 2, 1, 100)))  # same
    rec.recorder.close()
    logged = event_log.read_events(layout.event_log_path(rec.history_dir, "job-0001"))
    (lost,) = [e for e in logged if isinstance(e, events.WorkerLost)]
    assert (lost.worker, lost.attempts) == ("w1", ("map-00000-a1",))
    assert lost.reason.startswith("restarted")
