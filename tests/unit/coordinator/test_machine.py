"""The coordinator's state machine, driven by events through its one door (dask style):
``handle(event)`` in, commands out, no sockets."""

from __future__ import annotations

import random

import pytest

from tests.unit.coordinator.drive import (
    ask,
    assigned,
    done,
    join,
    manifest,
    plan,
    reduce_result,
    register,
    submit,
)
from zmr.coordinator import records
from zmr.coordinator.commands import AbortOutput, Publish, SealOutput, Send
from zmr.coordinator.machine import CoordinatorState
from zmr.coordinator.model import MAP, REDUCE
from zmr.coordinator.states import JobState, TaskState
from zmr.coordinator.stimuli import (
    AttemptFailed,
    AttemptSucceeded,
    JobCancelled,
    OutputSealed,
    ProgressReported,
    Tick,
    WorkerExpired,
)
from zmr.core.ids import AttemptId
from zmr.protocol.messages import (
    AttemptProgress,
    Heartbeat,
    HeldOutput,
    JobEnded,
    KillTask,
    TaskFailed,
)


def succeeded(s, msg, now):
    return s.handle(AttemptSucceeded(now, msg))


def failed(s, now, worker, job_id, kind, index, number, *fields, **options):
    attempt = AttemptId(job_id, kind, index, number)
    return s.handle(AttemptFailed(now, TaskFailed(worker, attempt, *fields, **options)))


def beat(s, worker, running, now):
    """A heartbeat of ``worker``: (attempt id text, records, read, total) per attempt."""
    progress = [AttemptProgress(AttemptId.parse(a), *p) for a, *p in running]
    return s.handle(ProgressReported(now, Heartbeat(worker, 1, running=progress)))


def kill_message(job_id, kind, index, number):
    return KillTask(AttemptId(job_id, kind, index, number))


def test_maps_first_then_reduces_once_all_maps_succeeded():
    s = CoordinatorState()
    submit(s, plan(maps=2))
    assert assigned(register(s, "w1")) == [("w1", "map", 0, 1)]
    assert assigned(register(s, "w2")) == [("w2", "map", 1, 1)]
    cmds = succeeded(s, done("w1", "map", 0, 1), 1.0)
    assert assigned(cmds) == []               # a reduce must wait for every map
    assert assigned(ask(s, "w1", now=1.0)) == []
    cmds = succeeded(s, done("w2", "map", 1, 1), 2.0)
    assert assigned(cmds) == [("w1", "reduce", 0, 1)]
    spec = next(c.msg.spec for c in cmds if isinstance(c, Send))
    assert [seg.endpoint for seg in spec.segments] == ["tcp://w1:1", "tcp://w2:1"]


def test_job_code_travels_once_per_worker():
    s = CoordinatorState()
    submit(s, plan(maps=3), code=b"code")
    first = register(s, "w1")
    assert first[0].msg.has_code and first[0].blobs == (b"code",)
    succeeded(s, done("w1", "map", 0, 1), 1.0)
    again = ask(s, "w1", now=1.0)
    assert not again[0].msg.has_code and again[0].blobs == ()


def test_success_finishes_job_and_counts_once():
    s = CoordinatorState()
    job_id, _ = submit(s, plan(maps=1))
    register(s, "w1")
    succeeded(s, done("w1", "map", 0, 1), 1.0)
    assert assigned(ask(s, "w1", now=1.0)) == [("w1", "reduce", 0, 1)]
    cmds = succeeded(s, done("w1", "reduce", 0, 1, job_id=job_id), 2.0)
    assert cmds == [SealOutput(job_id, "/out")]
    assert s.jobs[job_id].state == JobState.RUNNING      # not before _SUCCESS is written
    assert s.handle(OutputSealed(2.5, job_id)) == [Publish(JobEnded(job_id, "SUCCEEDED"))]
    assert s.jobs[job_id].state == JobState.SUCCEEDED
    assert s.jobs[job_id].total_counters().get("MAP_INPUT_RECORDS") == 5


def test_stale_and_duplicate_results_are_fenced_off():
    s = CoordinatorState()
    job_id, _ = submit(s, plan(maps=1))
    register(s, "w1")
    s.handle(WorkerExpired(1.0, "w1"))        # attempt 1 is lost with its worker
    assert s.jobs[job_id].maps[0].state == TaskState.PENDING
    assert succeeded(s, done("w1", "map", 0, 1), 2.0) == []     # late result ignored
    assert assigned(register(s, "w2", now=3.0)) == [("w2", "map", 0, 2)]
    succeeded(s, done("w2", "map", 0, 2), 4.0)
    assert succeeded(s, done("w2", "map", 0, 2), 4.5) == []     # duplicate ignored
    assert s.jobs[job_id].total_counters().get("MAP_INPUT_RECORDS") == 5


def test_failures_retry_then_fail_the_job_with_the_traceback():
    s = CoordinatorState(max_attempts=2)
    job_id, _ = submit(s, plan(maps=1))
    register(s, "w1")
    failed(s, 1.0, "w1", job_id, "map", 0, 1, "ValueError: x", "TB1")
    assert assigned(ask(s, "w1", now=1.0)) == [("w1", "map", 0, 2)]
    cmds = failed(s, 2.0, "w1", job_id, "map", 0, 2, "ValueError: y", "TB2")
    job = s.jobs[job_id]
    assert job.state == JobState.FAILED and "failed 2 times" in job.error and "TB2" in job.error
    assert AbortOutput(job_id, "/out") in cmds


def test_a_fatal_error_fails_the_job_at_its_first_attempt():
    """zmr.FatalError in the job's code: no retry, the other attempts killed with the job,
    and the worker not held to blame (no blacklisting)."""
    s = CoordinatorState(max_attempts=4)
    job_id, _ = submit(s, plan(maps=2))
    register(s, "w1", slots=2)
    cmds = failed(s, 1.0, "w1", job_id, "map", 0, 1, "FatalError: bad row", "TB", fatal=True)
    job = s.jobs[job_id]
    assert job.state == JobState.FAILED
    assert job.error.startswith(f"{job_id}/map-00000 raised a fatal error on worker w1")
    assert "not retried" in job.error and "FatalError: bad row" in job.error and "TB" in job.error
    assert job.maps[0].state == TaskState.FAILED and job.maps[0].failures == 1
    assert Send("w1", kill_message(job_id, "map", 1, 1)) in cmds
    assert AbortOutput(job_id, "/out") in cmds
    assert job.worker_failures == {}
    assert assigned(ask(s, "w1", now=2.0)) == []


def test_an_input_error_fails_the_job_at_its_first_attempt_on_one_line():
    """Issue 25 finding 8: input a task cannot read as asked (invalid UTF-8, a line too
    long) fails the job at once, its error the one line naming file and offset, marked as
    an input error for clients (exit 2), the worker not blamed."""
    s = CoordinatorState(max_attempts=4)
    job_id, _ = submit(s, plan(maps=2))
    register(s, "w1", slots=2)
    why = "invalid UTF-8 in /in/0 at byte 9000: invalid start byte"
    cmds = failed(s, 1.0, "w1", job_id, "map", 0, 1, why, "", input_error=True)
    job = s.jobs[job_id]
    assert job.state == JobState.FAILED and job.error_kind == "input"
    assert job.error == f"{why} ({job_id}/map-00000, not retried)"
    assert records.describe_job(job, 2.0)["error_kind"] == "input"
    assert records.job_from_record(records.job_record(job), b"c").error_kind == "input"
    assert job.maps[0].failures == 1 and job.worker_failures == {}
    assert Send("w1", kill_message(job_id, "map", 1, 1)) in cmds


def test_lost_map_output_reruns_exactly_that_map():
    s = CoordinatorState()
    job_id, _ = submit(s, plan(maps=2))
    register(s, "w1", slots=2)
    succeeded(s, done("w1", "map", 0, 1), 1.0)
    cmds = succeeded(s, done("w1", "map", 1, 1), 1.0)
    reduce_attempt = assigned(cmds) or assigned(ask(s, "w1", now=1.0))
    assert reduce_attempt == [("w1", "reduce", 0, 1)]
    failed(s, 2.0, "w1", job_id, "reduce", 0, 1, "fetch", "", lost_map=1)
    job = s.jobs[job_id]
    assert job.maps[0].state == TaskState.SUCCEEDED and job.maps[1].state != TaskState.SUCCEEDED
    assert job.reduces[0].failures == 0        # a fetch failure is not the reducer's fault


def test_dead_worker_outputs_are_rerun_while_reduces_need_them():
    s = CoordinatorState()
    job_id, _ = submit(s, plan(maps=2))
    register(s, "w1")
    register(s, "w2")
    succeeded(s, done("w1", "map", 0, 1), 1.0)
    cmds = s.handle(WorkerExpired(2.0, "w1"))
    assert s.jobs[job_id].maps[0].state in (TaskState.PENDING, TaskState.RUNNING)
    assert s.jobs[job_id].total_counters().get("MAP_INPUT_RECORDS") == 0   # not counted twice
    assert all(not isinstance(c, Send) or c.peer != "w1" for c in cmds)


def test_cancel_kills_running_attempts():
    s = CoordinatorState()
    job_id, _ = submit(s, plan(maps=1))
    register(s, "w1")
    cmds = s.handle(JobCancelled(1.0, job_id))
    assert Send("w1", kill_message(job_id, "map", 0, 1)) in cmds
    assert Publish(JobEnded(job_id, "CANCELLED")) in cmds
    assert s.jobs[job_id].state == JobState.CANCELLED


def test_stalled_attempt_is_timed_out_after_the_task_timeout_and_retried():
    s = CoordinatorState(task_timeout_s=10.0)
    job_id, _ = submit(s, plan(maps=1))
    register(s, "w1")
    beat(s, "w1", [(f"{job_id}/map/0/1", 100, 0, 4096)], 5.0)   # progress moved at t=5
    assert s.handle(Tick(14.0)) == []                      # 9 s without progress: fine
    cmds = s.handle(Tick(16.0))
    assert Send("w1", kill_message(job_id, "map", 0, 1)) in cmds
    task = s.jobs[job_id].maps[0]
    assert task.failures == 1 and "task timeout" in task.error
    assert task.attempts[0].state.value == "timed_out"
    assert assigned(ask(s, "w1", now=16.0)) == [("w1", "map", 0, 2)]


def test_timeouts_that_fail_the_job_leave_its_other_stalled_attempts_killed():
    """Two attempts stall together and the first timeout fails the job: the second was
    killed with the job, and is not ended a second time (an illegal KILLED -> TIMED_OUT)."""
    s = CoordinatorState(task_timeout_s=10.0, max_attempts=1)
    job_id, _ = submit(s, plan(maps=2))
    register(s, "w1", slots=2)
    cmds = s.handle(Tick(20.0))
    assert s.jobs[job_id].state == JobState.FAILED
    assert [a.state.value for t in s.jobs[job_id].maps for a in t.attempts] == \
        ["timed_out", "killed"]
    assert sum(isinstance(c, Send) and isinstance(c.msg, KillTask) for c in cmds) == 2


def test_straggler_gets_a_speculative_backup_and_first_commit_wins():
    s = CoordinatorState(slow_factor=1.5, min_runtime_s=1.0)
    job_id, _ = submit(s, plan(maps=3))
    register(s, "w1", slots=3)
    succeeded(s, done("w1", "map", 0, 1), 2.0)
    succeeded(s, done("w1", "map", 1, 1), 2.0)
    assert assigned(register(s, "w2", now=2.5)) == []   # map 2 has run only 2.5 s
    cmds = s.handle(Tick(4.0))                           # 4 s > 1.5 x median 2 s
    assert assigned(cmds) == [("w2", "map", 2, 2)]
    assert s.jobs[job_id].counters.to_dict()["zmr.job"]["SPECULATIVE_ATTEMPTS"] == 1
    cmds = succeeded(s, done("w2", "map", 2, 2), 5.0)    # the backup commits first
    assert Send("w1", kill_message(job_id, "map", 2, 1)) in cmds
    assert succeeded(s, done("w1", "map", 2, 1), 5.5) == []  # the original is fenced off


def test_no_speculation_when_the_job_opts_out():
    s = CoordinatorState(slow_factor=1.5, min_runtime_s=1.0)
    submit(s, plan(maps=3, speculative=False))
    register(s, "w1", slots=3)
    succeeded(s, done("w1", "map", 0, 1), 2.0)
    succeeded(s, done("w1", "map", 1, 1), 2.0)
    register(s, "w2", now=2.5)
    assert assigned(s.handle(Tick(10.0))) == []


def test_worker_failing_a_jobs_tasks_is_blacklisted_for_that_job():
    s = CoordinatorState(blacklist_after=2, max_attempts=10)
    job_id, _ = submit(s, plan(maps=2))
    register(s, "bad")                                     # gets map 0
    register(s, "good")                                    # gets map 1
    failed(s, 1.0, "bad", job_id, "map", 0, 1, "E", "")
    assert assigned(ask(s, "bad", now=1.0)) == [("bad", "map", 0, 2)]
    failed(s, 2.0, "bad", job_id, "map", 0, 2, "E", "")
    assert assigned(ask(s, "bad", now=2.0)) == []          # blacklisted now
    succeeded(s, done("good", "map", 1, 1), 3.0)
    assert assigned(ask(s, "good", now=3.0)) == [("good", "map", 0, 3)]


def test_rejoining_worker_offers_its_map_outputs_instead_of_recomputing():
    s = CoordinatorState()
    job_id, _ = submit(s, plan(maps=2))
    register(s, "w1", slots=2)
    succeeded(s, done("w1", "map", 0, 1), 1.0)
    succeeded(s, done("w1", "map", 1, 1), 1.0)
    s.handle(WorkerExpired(2.0, "w1"))                  # both outputs lost with it...
    job = s.jobs[job_id]
    assert [t.state for t in job.maps] == [TaskState.PENDING, TaskState.PENDING]
    holds = [HeldOutput(job_id, manifest(0, 1)), HeldOutput(job_id, manifest(1, 1)),
             HeldOutput("job-9999", manifest(0, 1))]
    join(s, "w1", slots=2, now=3.0, holds=holds)        # ...until it rejoins
    assert [t.state for t in job.maps] == [TaskState.SUCCEEDED, TaskState.SUCCEEDED]
    assert assigned(ask(s, "w1", 2, now=3.0)) == [("w1", "reduce", 0, 1)]
    assert job.total_counters().to_dict()["zmr.job"]["RECOVERED_MAPS"] == 2
    assert job.total_counters().get("MAP_INPUT_RECORDS") == 10


@pytest.mark.parametrize("kind,result,why", [
    # results of the wrong shape never get here: the wire refuses them (test_wire.py)
    ("map", manifest(0, 1, partitions=2), "2 partitions"),
    ("map", manifest(1, 1), "names task 1, not 0"),
    ("map", manifest(0, 1, counters={"zmr": 5}), "malformed counters in group 'zmr'"),
    ("map", manifest(0, 1, counters={"zmr": {"X": "many"}}), "malformed counters"),
    ("reduce", reduce_result(0, 1, counters={"zmr": {"X": True}}), "malformed counters"),
    ("reduce", reduce_result(1, 1), "names task 1, not 0"),
])
def test_a_result_that_cannot_be_used_fails_its_attempt_instead_of_being_stored(kind, result,
                                                                               why):
    s = CoordinatorState(max_attempts=2)
    job_id, _ = submit(s, plan(maps=1))
    register(s, "w1")
    if kind == "reduce":
        succeeded(s, done("w1", "map", 0, 1), 1.0)
        assert assigned(ask(s, "w1", now=1.0)) == [("w1", "reduce", 0, 1)]
    succeeded(s, done("w1", kind, 0, 1, result, job_id=job_id), 2.0)
    task = s.jobs[job_id].task(kind, 0)
    assert task.state == TaskState.PENDING and task.failures == 1 and why in task.error
    assert task.attempts[-1].state.value == "failed"
    assert records.describe_job(s.jobs[job_id], 3.0)["state"] == "RUNNING"  # status works
    assert assigned(ask(s, "w1", now=3.0)) == [("w1", kind, 0, 2)]


def test_a_result_for_an_unknown_task_kind_is_ignored():
    s = CoordinatorState()
    job_id, _ = submit(s, plan(maps=1))
    register(s, "w1")
    # the wire refuses such an id (test_wire.py); the machine ignores it all the same
    result = reduce_result(0, 1)
    assert succeeded(s, done("w1", "bogus", 0, 1, result, job_id=job_id), 1.0) == []
    assert s.jobs[job_id].maps[0].state == TaskState.RUNNING


def test_offered_map_outputs_that_cannot_be_used_are_not_adopted():
    s = CoordinatorState()
    job_id, _ = submit(s, plan(maps=3))
    holds = [HeldOutput(job_id, manifest(0, 1, counters={"zmr": {"X": None}})),
             HeldOutput(job_id, manifest(1, 1, partitions=0)),
             HeldOutput(job_id, manifest(5, 1))]
    join(s, "w1", now=1.0, holds=holds)
    assert [t.state for t in s.jobs[job_id].maps] == [TaskState.PENDING] * 3
    # the two that name tasks of the job are counted as refused; map 5 has no task at all
    assert records.describe_job(s.jobs[job_id], 2.0)["counters"] == {
        "zmr.job": {"REFUSED_MAP_OUTPUTS": 2}}


def _identity(s, job_id, index, **changes):
    return s.jobs[job_id].plan.map_identity(s.incarnation, job_id, index)._replace(**changes)


def test_only_map_outputs_of_this_incarnation_and_split_are_adopted():
    """A coordinator started on another state dir numbers its jobs from job-0001 again:
    a worker's outputs of the old job-0001 must not be taken for the new one's (issue 25
    finding 1), nor outputs computed from other input."""
    s = CoordinatorState(incarnation="b" * 16)
    job_id, _ = submit(s, plan(maps=4))
    holds = [HeldOutput(job_id, manifest(0, 1, identity=_identity(s, job_id, 0))),
             HeldOutput(job_id, manifest(1, 1, identity=_identity(s, job_id, 1,
                                                                  incarnation="a" * 16))),
             HeldOutput(job_id, manifest(2, 1, identity=_identity(s, job_id, 2,
                                                                  split="0" * 24))),
             HeldOutput(job_id, manifest(3, 1))]           # an output without identity
    join(s, "w1", now=1.0, holds=holds)
    assert [t.state for t in s.jobs[job_id].maps] == [TaskState.SUCCEEDED] + \
        [TaskState.PENDING] * 3
    assert records.describe_job(s.jobs[job_id], 2.0)["counters"]["zmr.job"] == {
        "RECOVERED_MAPS": 1, "REFUSED_MAP_OUTPUTS": 3}


def test_a_reported_map_output_of_another_incarnation_fails_its_attempt():
    s = CoordinatorState(incarnation="b" * 16)
    job_id, _ = submit(s, plan(maps=1))
    (spec,) = [c.msg.spec for c in register(s, "w1") if isinstance(c, Send)]
    assert spec.identity == _identity(s, job_id, 0)      # what the worker is told to carry
    stale = manifest(0, 1, identity=_identity(s, job_id, 0, incarnation="a" * 16))
    succeeded(s, done("w1", "map", 0, 1, stale), 1.0)
    task = s.jobs[job_id].maps[0]
    assert task.state == TaskState.PENDING and "another coordinator state" in task.error
    succeeded(s, done("w1", "map", 0, 2, manifest(0, 2, identity=spec.identity)), 2.0)
    assert task.state != TaskState.SUCCEEDED          # attempt 2 was not assigned yet
    ask(s, "w1", now=3.0)
    succeeded(s, done("w1", "map", 0, 2, manifest(0, 2, identity=spec.identity)), 4.0)
    assert task.state == TaskState.SUCCEEDED


def test_a_job_whose_success_marker_cannot_be_written_fails_and_is_cleaned_up():
    s = CoordinatorState()
    job_id, _ = submit(s, plan(maps=1, reducers=0))
    register(s, "w1")
    map_only = manifest(0, 1, partitions=0)
    assert succeeded(s, done("w1", "map", 0, 1, map_only), 1.0) == [SealOutput(job_id, "/out")]
    cmds = s.handle(OutputSealed(1.5, job_id, "[Errno 28] No space left on device"))
    job = s.jobs[job_id]
    assert job.state == JobState.FAILED and "/out/_SUCCESS: [Errno 28]" in job.error
    assert AbortOutput(job_id, "/out") in cmds and Publish(JobEnded(job_id, "FAILED")) in cmds
    assert s.handle(OutputSealed(2.0, job_id)) == []          # a final job stays final


def test_a_restored_job_whose_tasks_all_committed_is_sealed_on_the_next_tick():
    s = CoordinatorState()
    job_id, _ = submit(s, plan(maps=1, reducers=0))
    register(s, "w1")
    succeeded(s, done("w1", "map", 0, 1, manifest(0, 1, partitions=0)), 1.0)
    # the coordinator died before sealing; after a restart, time passes:
    assert SealOutput(job_id, "/out") in s.handle(Tick(5.0))


def test_a_job_without_input_is_sealed_at_once():
    s = CoordinatorState()
    job_id, cmds = submit(s, plan(maps=0))
    assert cmds == [SealOutput(job_id, "/out")]
    s.handle(OutputSealed(0.1, job_id))
    assert s.jobs[job_id].state == JobState.SUCCEEDED


def test_every_final_state_is_published_and_workers_learn_what_to_forget():
    from zmr.coordinator import views

    s = CoordinatorState()
    register(s, "w1")
    done_id, _ = submit(s, plan(maps=1, reducers=0))
    live_id, _ = submit(s, plan(maps=1))
    map_only = manifest(0, 1, partitions=0)
    succeeded(s, done("w1", "map", 0, 1, map_only), 1.0)
    assert Publish(JobEnded(done_id, "SUCCEEDED")) in s.handle(OutputSealed(1.5, done_id))
    assert views.jobs_to_forget(s, [done_id, live_id, "job-9999"]) == [done_id, "job-9999"]


def test_task_tally_matches_a_recount_through_reruns_and_worker_loss():
    """The O(1) done counts and next-pending cursor (TaskTally) must agree with walking
    every task, whatever sends tasks back to PENDING (lost workers, failed attempts)."""
    rng = random.Random(7)
    s = CoordinatorState(max_attempts=50)
    job_id, _ = submit(s, plan(maps=30, reducers=4))
    job = s.jobs[job_id]
    workers = [f"w{i}" for i in range(4)]
    for w in workers:
        register(s, w)
    now = 1.0
    for _ in range(400):
        now += 0.01
        running = [(t, a) for t in job.tasks() for a in t.running()]
        roll = rng.random()
        if running and roll < 0.6:
            task, attempt = rng.choice(running)
            result = manifest(task.index, attempt.number) if task.kind == MAP else \
                reduce_result(task.index, attempt.number)
            succeeded(s, done(attempt.worker_id, task.kind, task.index, attempt.number,
                              result, job_id=job_id), now)
        elif running and roll < 0.75:
            task, attempt = rng.choice(running)
            failed(s, now, attempt.worker_id, job_id, task.kind, task.index, attempt.number,
                   "boom", "tb")
        elif roll < 0.8:
            lost = rng.choice(workers)
            s.handle(WorkerExpired(now, lost))
            register(s, lost, now=now)
        else:
            ask(s, rng.choice(workers), now=now)
        for kind, tasks in ((MAP, job.maps), (REDUCE, job.reduces)):
            assert job.done(kind) == sum(t.state == TaskState.SUCCEEDED for t in tasks)
            first = next((t for t in tasks if t.state == TaskState.PENDING), None)
            assert job.first_pending(kind) is first
        if job.state in (JobState.SUCCEEDED, JobState.FAILED):
            break


def test_heartbeats_move_the_map_phase_by_bytes_read_of_running_maps():
    s = CoordinatorState()
    job_id, _ = submit(s, plan(maps=4))
    register(s, "w1", slots=2)
    job = s.jobs[job_id]
    assert job.map_progress() == 0.0
    beat(s, "w1", [(f"{job_id}/map/0/1", 10, 512, 1024), (f"{job_id}/map/1/1", 10, 1024, 4096),
                   ("job-9999/map/0/1", 1, 1, 1)], 1.0)
    assert job.map_progress() == (0.5 + 0.25) / 4
    succeeded(s, done("w1", "map", 0, 1), 2.0)
    assert job.map_progress() == (1 + 0.25) / 4
    assert records.describe_job(job, 2.0, brief=True)["map_progress"] == job.map_progress()


def test_a_report_that_states_free_slots_is_answered_with_the_next_task():
    s = CoordinatorState()
    submit(s, plan(maps=3))
    join(s, "w1", memory_mb=1024, prefetch=1)
    # one slot plus one prefetched attempt: two assignments for a request of two
    assert len(assigned(ask(s, "w1", 5))) == 2
    assert assigned(succeeded(s, done("w1", "map", 0, 1, free_slots=1), 1.0)) == \
        [("w1", "map", 2, 1)]


def test_an_attempt_that_finished_while_the_coordinator_was_down_is_adopted_as_succeeded():
    """Issue 25 finding 9: the attempt whose output a rejoining worker offers is the one
    that wrote it: it succeeded, it was not killed (nor counted in KILLED_ATTEMPTS)."""
    s = CoordinatorState()
    job_id, _ = submit(s, plan(maps=2))
    assert assigned(register(s, "w1", slots=2)) == [("w1", "map", 0, 1), ("w1", "map", 1, 1)]
    # the coordinator restarts (a fresh process: it knows no worker), and w1 comes back
    # holding map 0's output, still running map 1
    s.workers.clear()
    join(s, "w1", slots=2, now=3.0, holds=[HeldOutput(job_id, manifest(0, 1))],
         running=[AttemptId(job_id, "map", 1, 1)])
    job = s.jobs[job_id]
    assert job.maps[0].state == TaskState.SUCCEEDED
    assert [a.state.value for a in job.maps[0].attempts] == ["succeeded"]
    assert job.maps[1].state == TaskState.RUNNING
    assert job.total_counters().to_dict()["zmr.job"] == {"RECOVERED_MAPS": 1}


def test_attempts_a_worker_runs_for_another_coordinator_state_are_stopped_and_fenced():
    """A worker that outlived a coordinator on another state dir still runs that one's
    attempts, whose ids (job-0001 ...) the new coordinator gives out too: they are killed
    when it registers, and a report for an attempt from a worker not running it counts
    for nothing."""
    s = CoordinatorState(incarnation="b" * 16)
    job_id, _ = submit(s, plan(maps=2))
    assert assigned(register(s, "w1")) == [("w1", "map", 0, 1)]
    old = [AttemptId(job_id, "map", 1, 1), AttemptId(job_id, "reduce", 0, 1),
           AttemptId(job_id, "map", 0, 1)]                # the last one is w1's, ours
    commands = join(s, "w2", now=1.0, running=old)
    assert [c.msg for c in commands if isinstance(c, Send)] == [KillTask(k) for k in old]
    commands = join(s, "w1", now=1.0, running=[old[0], old[2]])
    assert [c.msg for c in commands if isinstance(c, Send)] == [KillTask(old[0])]
    stale = manifest(0, 1, identity=_identity(s, job_id, 0))
    succeeded(s, done("w2", "map", 0, 1, stale), 2.0)       # w2 is not running it
    assert s.jobs[job_id].maps[0].state == TaskState.RUNNING
    assert s.jobs[job_id].maps[0].attempts[0].worker_id == "w1"
