"""The coordinator's state machine, driven by events without sockets (dask style)."""

from __future__ import annotations

import pytest

from zmr.coordinator import records
from zmr.coordinator.events import AbortOutput, Publish, SealOutput, Send
from zmr.coordinator.machine import CoordinatorState
from zmr.coordinator.states import (
    ATTEMPT_TRANSITIONS,
    AttemptState,
    InvalidTransition,
    JobState,
    TaskState,
)
from zmr.core.plan import JobPlan
from zmr.core.specs import Split
from zmr.protocol.messages import (
    AssignTask,
    JobEnded,
    KillTask,
    Register,
    RequestTask,
    TaskDone,
    TaskFailed,
)


def plan(maps=2, reducers=1):
    return JobPlan([Split(f"/in/{i}", 0, 10) for i in range(maps)], reducers, 1 << 20,
                   "strict", "/out")


def manifest(index, attempt):
    return {"map_index": index, "attempt": attempt, "path": f"/w/m{index}.arrow",
            "partitions": [[0, 10, 1, 123]], "counters": {"zmr": {"MAP_INPUT_RECORDS": 5}}}


def reduce_result(partition, attempt):
    return {"partition": partition, "attempt": attempt, "output_path": "/out/part-00000",
            "committed": True, "counters": {"zmr": {"REDUCE_OUTPUT_RECORDS": 2}}}


def register(state, worker, slots=1, now=0.0):
    state.register(Register(worker, "h", f"tcp://{worker}:1", slots, 1, 100), now)
    return state.request_task(RequestTask(worker, slots), now)


def assigned(commands):
    return [(c.peer, c.msg.task, c.msg.index, c.msg.attempt) for c in commands
            if isinstance(c, Send) and isinstance(c.msg, AssignTask)]


def done(worker, kind, index, attempt, result=None):
    return TaskDone(worker, "job-0001", kind, index, attempt,
                    result or manifest(index, attempt), 0.0, 1.0)


def test_maps_first_then_reduces_once_all_maps_succeeded():
    s = CoordinatorState()
    s.submit("wc", plan(maps=2), b"code", 0.0)
    assert assigned(register(s, "w1")) == [("w1", "map", 0, 1)]
    assert assigned(register(s, "w2")) == [("w2", "map", 1, 1)]
    cmds = s.task_done(done("w1", "map", 0, 1), 1.0)
    assert assigned(cmds) == []               # a reduce must wait for every map
    assert assigned(s.request_task(RequestTask("w1", 1), 1.0)) == []
    cmds = s.task_done(done("w2", "map", 1, 1), 2.0)
    assert assigned(cmds) == [("w1", "reduce", 0, 1)]
    spec = next(c.msg.spec for c in cmds if isinstance(c, Send))
    assert [seg["endpoint"] for seg in spec["segments"]] == ["tcp://w1:1", "tcp://w2:1"]


def test_job_code_travels_once_per_worker():
    s = CoordinatorState()
    s.submit("wc", plan(maps=3), b"code", 0.0)
    first = register(s, "w1")
    assert first[0].msg.has_code and first[0].blobs == (b"code",)
    s.task_done(done("w1", "map", 0, 1), 1.0)
    again = s.request_task(RequestTask("w1", 1), 1.0)
    assert not again[0].msg.has_code and again[0].blobs == ()


def test_success_finishes_job_and_counts_once():
    s = CoordinatorState()
    job_id, _ = s.submit("wc", plan(maps=1), b"c", 0.0)
    register(s, "w1")
    s.task_done(done("w1", "map", 0, 1), 1.0)
    assert assigned(s.request_task(RequestTask("w1", 1), 1.0)) == [("w1", "reduce", 0, 1)]
    cmds = s.task_done(TaskDone("w1", job_id, "reduce", 0, 1, reduce_result(0, 1), 0, 1), 2.0)
    assert cmds == [SealOutput(job_id, "/out")]
    assert s.jobs[job_id].state == JobState.RUNNING      # not before _SUCCESS is written
    assert s.output_sealed(job_id, "", 2.5) == [Publish(JobEnded(job_id, "SUCCEEDED"))]
    assert s.jobs[job_id].state == JobState.SUCCEEDED
    assert s.jobs[job_id].total_counters().get("MAP_INPUT_RECORDS") == 5


def test_stale_and_duplicate_results_are_fenced_off():
    s = CoordinatorState()
    job_id, _ = s.submit("wc", plan(maps=1), b"c", 0.0)
    register(s, "w1")
    s.worker_lost("w1", 1.0)                  # attempt 1 is lost with its worker
    assert s.jobs[job_id].maps[0].state == TaskState.PENDING
    assert s.task_done(done("w1", "map", 0, 1), 2.0) == []     # late result ignored
    assert assigned(register(s, "w2", now=3.0)) == [("w2", "map", 0, 2)]
    s.task_done(done("w2", "map", 0, 2), 4.0)
    assert s.task_done(done("w2", "map", 0, 2), 4.5) == []     # duplicate ignored
    assert s.jobs[job_id].total_counters().get("MAP_INPUT_RECORDS") == 5


def test_failures_retry_then_fail_the_job_with_the_traceback():
    s = CoordinatorState(max_attempts=2)
    job_id, _ = s.submit("wc", plan(maps=1), b"c", 0.0)
    register(s, "w1")
    cmds = s.task_failed(TaskFailed("w1", job_id, "map", 0, 1, "ValueError: x", "TB1"), 1.0)
    assert assigned(s.request_task(RequestTask("w1", 1), 1.0)) == [("w1", "map", 0, 2)]
    cmds = s.task_failed(TaskFailed("w1", job_id, "map", 0, 2, "ValueError: y", "TB2"), 2.0)
    job = s.jobs[job_id]
    assert job.state == JobState.FAILED and "failed 2 times" in job.error and "TB2" in job.error
    assert AbortOutput(job_id, "/out") in cmds


def test_lost_map_output_reruns_exactly_that_map():
    s = CoordinatorState()
    job_id, _ = s.submit("wc", plan(maps=2), b"c", 0.0)
    register(s, "w1", slots=2)
    s.task_done(done("w1", "map", 0, 1), 1.0)
    cmds = s.task_done(done("w1", "map", 1, 2 - 1), 1.0)
    reduce_attempt = assigned(cmds) or assigned(s.request_task(RequestTask("w1", 1), 1.0))
    assert reduce_attempt == [("w1", "reduce", 0, 1)]
    cmds = s.task_failed(TaskFailed("w1", job_id, "reduce", 0, 1, "fetch", "", lost_map=1), 2.0)
    job = s.jobs[job_id]
    assert job.maps[0].state == TaskState.SUCCEEDED and job.maps[1].state != TaskState.SUCCEEDED
    assert job.reduces[0].failures == 0        # a fetch failure is not the reducer's fault


def test_dead_worker_outputs_are_rerun_while_reduces_need_them():
    s = CoordinatorState()
    job_id, _ = s.submit("wc", plan(maps=2), b"c", 0.0)
    register(s, "w1")
    register(s, "w2")
    s.task_done(done("w1", "map", 0, 1), 1.0)
    cmds = s.worker_lost("w1", 2.0)
    assert s.jobs[job_id].maps[0].state in (TaskState.PENDING, TaskState.RUNNING)
    assert s.jobs[job_id].total_counters().get("MAP_INPUT_RECORDS") == 0   # not counted twice
    assert all(not isinstance(c, Send) or c.peer != "w1" for c in cmds)


def test_cancel_kills_running_attempts():
    s = CoordinatorState()
    job_id, _ = s.submit("wc", plan(maps=1), b"c", 0.0)
    register(s, "w1")
    cmds = s.cancel(job_id, 1.0)
    assert Send("w1", KillTask(job_id, "map", 0, 1)) in cmds
    assert Publish(JobEnded(job_id, "CANCELLED")) in cmds
    assert s.jobs[job_id].state == JobState.CANCELLED


def test_illegal_transitions_are_refused_with_the_tasks_story():
    s = CoordinatorState()
    job_id, _ = s.submit("wc", plan(maps=1), b"c", 0.0)
    register(s, "w1", now=1.0)
    s.task_failed(TaskFailed("w1", job_id, "map", 0, 1, "E", ""), 2.5)
    s.request_task(RequestTask("w1", 1), 2.5)
    task = s.jobs[job_id].maps[0]
    task.set_state(TaskState.KILLED)
    with pytest.raises(InvalidTransition, match="KILLED -> RUNNING") as refused:
        task.set_state(TaskState.RUNNING)
    assert refused.value.story == [
        "attempt 1 on w1: failed (started 1.000, ended 2.500)",
        "attempt 2 on w1: running (started 2.500)"]
    assert "attempt 2 on w1: running" in str(refused.value)


def test_stalled_attempt_is_timed_out_after_the_task_timeout_and_retried():
    s = CoordinatorState(task_timeout_s=10.0)
    job_id, _ = s.submit("wc", plan(maps=1), b"c", 0.0)
    register(s, "w1")
    s.progress("w1", [f"{job_id}/map/0/1:100:0:4096"], 5.0)     # progress moved at t=5
    assert s.tick(14.0) == []                            # 9 s without progress: fine
    cmds = s.tick(16.0)
    assert Send("w1", KillTask(job_id, "map", 0, 1)) in cmds
    task = s.jobs[job_id].maps[0]
    assert task.failures == 1 and "task timeout" in task.error
    assert task.attempts[0].state.value == "timed_out"
    assert assigned(s.request_task(RequestTask("w1", 1), 16.0)) == [("w1", "map", 0, 2)]


def test_timeouts_that_fail_the_job_leave_its_other_stalled_attempts_killed():
    """Two attempts stall together and the first timeout fails the job: the second was
    killed with the job, and is not ended a second time (an illegal KILLED -> TIMED_OUT)."""
    s = CoordinatorState(task_timeout_s=10.0, max_attempts=1)
    job_id, _ = s.submit("wc", plan(maps=2), b"c", 0.0)
    register(s, "w1", slots=2)
    cmds = s.tick(20.0)
    assert s.jobs[job_id].state == JobState.FAILED
    assert [a.state.value for t in s.jobs[job_id].maps for a in t.attempts] == \
        ["timed_out", "killed"]
    assert sum(isinstance(c, Send) and isinstance(c.msg, KillTask) for c in cmds) == 2


@pytest.mark.parametrize("start", list(AttemptState))
@pytest.mark.parametrize("finish", list(AttemptState))
def test_an_attempt_ends_once(start, finish):
    allowed = start == AttemptState.RUNNING and finish != AttemptState.RUNNING
    assert (finish in ATTEMPT_TRANSITIONS[start]) == allowed


def test_ending_an_attempt_twice_is_refused_with_the_tasks_story():
    s = CoordinatorState()
    job_id, _ = s.submit("wc", plan(maps=2), b"c", 0.0)
    register(s, "w1", now=1.0)
    s.task_done(done("w1", "map", 0, 1), 2.0)
    task = s.jobs[job_id].maps[0]
    with pytest.raises(InvalidTransition, match="attempt 1: succeeded -> lost") as refused:
        task.end_attempt(task.attempts[0], AttemptState.LOST, 3.0)
    assert refused.value.story == ["attempt 1 on w1: succeeded (started 1.000, ended 2.000)"]
    assert task.attempts[0].state is AttemptState.SUCCEEDED       # unchanged


def test_straggler_gets_a_speculative_backup_and_first_commit_wins():
    s = CoordinatorState(slow_factor=1.5, min_runtime_s=1.0)
    job_id, _ = s.submit("wc", plan(maps=3), b"c", 0.0)
    register(s, "w1", slots=3)
    s.task_done(done("w1", "map", 0, 1), 2.0)
    s.task_done(done("w1", "map", 1, 2 - 1), 2.0)
    assert assigned(register(s, "w2", now=2.5)) == []   # map 2 has run only 2.5 s
    cmds = s.tick(4.0)                                   # 4 s > 1.5 x median 2 s
    assert assigned(cmds) == [("w2", "map", 2, 2)]
    assert s.jobs[job_id].counters.to_dict()["zmr.job"]["SPECULATIVE_ATTEMPTS"] == 1
    cmds = s.task_done(done("w2", "map", 2, 2), 5.0)     # the backup commits first
    assert Send("w1", KillTask(job_id, "map", 2, 1)) in cmds
    assert s.task_done(done("w1", "map", 2, 1), 5.5) == []  # the original is fenced off


def test_no_speculation_when_the_job_opts_out():
    s = CoordinatorState(slow_factor=1.5, min_runtime_s=1.0)
    p = plan(maps=3)
    job_id, _ = s.submit("wc", JobPlan(p.splits, 1, p.memory_budget, "strict", "/out",
                                       speculative=False), b"c", 0.0)
    register(s, "w1", slots=3)
    s.task_done(done("w1", "map", 0, 1), 2.0)
    s.task_done(done("w1", "map", 1, 1), 2.0)
    register(s, "w2", now=2.5)
    assert assigned(s.tick(10.0)) == []


def test_worker_failing_a_jobs_tasks_is_blacklisted_for_that_job():
    s = CoordinatorState(blacklist_after=2, max_attempts=10)
    job_id, _ = s.submit("wc", plan(maps=2), b"c", 0.0)
    register(s, "bad")                                     # gets map 0
    register(s, "good")                                    # gets map 1
    s.task_failed(TaskFailed("bad", job_id, "map", 0, 1, "E", ""), 1.0)
    assert assigned(s.request_task(RequestTask("bad", 1), 1.0)) == [("bad", "map", 0, 2)]
    s.task_failed(TaskFailed("bad", job_id, "map", 0, 2, "E", ""), 2.0)
    assert assigned(s.request_task(RequestTask("bad", 1), 2.0)) == []   # blacklisted now
    s.task_done(done("good", "map", 1, 1), 3.0)
    assert assigned(s.request_task(RequestTask("good", 1), 3.0)) == [("good", "map", 0, 3)]


def test_rejoining_worker_offers_its_map_outputs_instead_of_recomputing():
    s = CoordinatorState()
    job_id, _ = s.submit("wc", plan(maps=2), b"c", 0.0)
    register(s, "w1", slots=2)
    s.task_done(done("w1", "map", 0, 1), 1.0)
    s.task_done(done("w1", "map", 1, 1), 1.0)
    s.worker_lost("w1", 2.0)                            # both outputs lost with it...
    job = s.jobs[job_id]
    assert [t.state for t in job.maps] == [TaskState.PENDING, TaskState.PENDING]
    holds = [[job_id, manifest(0, 1)], [job_id, manifest(1, 1)], ["job-9999", manifest(0, 1)]]
    s.register(Register("w1", "h", "tcp://w1:1", 2, 1, 100, holds), 3.0)   # ...until it rejoins
    assert [t.state for t in job.maps] == [TaskState.SUCCEEDED, TaskState.SUCCEEDED]
    assert assigned(s.request_task(RequestTask("w1", 2), 3.0)) == [("w1", "reduce", 0, 1)]
    assert job.total_counters().to_dict()["zmr.job"]["RECOVERED_MAPS"] == 2
    assert job.total_counters().get("MAP_INPUT_RECORDS") == 10


@pytest.mark.parametrize("kind,result,why", [
    ("map", {}, "malformed map result: ShapeError: MapManifest: missing field map_index"),
    ("map", dict(manifest(0, 1), partitions=[[0, 10, 1, 1], [10, 5, 1, 2]]), "2 partitions"),
    ("map", dict(manifest(0, 1), map_index=1), "names task 1, not 0"),
    ("map", dict(manifest(0, 1), partitions=[["a", 1, 1, 1]]), "malformed map result"),
    ("map", dict(manifest(0, 1), counters={"zmr": 5}), "counters['zmr']: expected object"),
    ("map", dict(manifest(0, 1), counters={"zmr": {"X": "many"}}), "expected int, got str"),
    ("reduce", {"counters": {}}, "malformed reduce result"),
    ("reduce", reduce_result(1, 1), "names task 1, not 0"),
])
def test_a_result_that_cannot_be_used_fails_its_attempt_instead_of_being_stored(kind, result,
                                                                               why):
    s = CoordinatorState(max_attempts=2)
    job_id, _ = s.submit("wc", plan(maps=1), b"c", 0.0)
    register(s, "w1")
    if kind == "reduce":
        s.task_done(done("w1", "map", 0, 1), 1.0)
        assert assigned(s.request_task(RequestTask("w1", 1), 1.0)) == [("w1", "reduce", 0, 1)]
    s.task_done(TaskDone("w1", job_id, kind, 0, 1, result, 0.0, 1.0), 2.0)
    task = s.jobs[job_id].task(kind, 0)
    assert task.state == TaskState.PENDING and task.failures == 1 and why in task.error
    assert task.attempts[-1].state.value == "failed"
    assert records.describe_job(s.jobs[job_id], 3.0)["state"] == "RUNNING"  # status works
    assert assigned(s.request_task(RequestTask("w1", 1), 3.0)) == [("w1", kind, 0, 2)]


def test_a_result_for_an_unknown_task_kind_is_ignored():
    s = CoordinatorState()
    job_id, _ = s.submit("wc", plan(maps=1), b"c", 0.0)
    register(s, "w1")
    assert s.task_done(TaskDone("w1", job_id, "bogus", 0, 1, manifest(0, 1), 0, 1), 1.0) == []
    assert s.jobs[job_id].maps[0].state == TaskState.RUNNING


def test_offered_map_outputs_that_cannot_be_used_are_not_adopted():
    s = CoordinatorState()
    job_id, _ = s.submit("wc", plan(maps=3), b"c", 0.0)
    holds = [[job_id, dict(manifest(0, 1), counters={"zmr": {"X": None}})],
             [job_id, dict(manifest(1, 1), partitions=[])], [job_id], "junk", [[job_id], {}]]
    s.register(Register("w1", "h", "tcp://w1:1", 1, 1, 100, holds), 1.0)
    assert [t.state for t in s.jobs[job_id].maps] == [TaskState.PENDING] * 3
    assert records.describe_job(s.jobs[job_id], 2.0)["counters"] == {}


def test_a_job_whose_success_marker_cannot_be_written_fails_and_is_cleaned_up():
    s = CoordinatorState()
    job_id, _ = s.submit("wc", plan(maps=1, reducers=0), b"c", 0.0)
    register(s, "w1")
    map_only = dict(manifest(0, 1), partitions=[])
    assert s.task_done(done("w1", "map", 0, 1, map_only), 1.0) == [SealOutput(job_id, "/out")]
    cmds = s.output_sealed(job_id, "[Errno 28] No space left on device", 1.5)
    job = s.jobs[job_id]
    assert job.state == JobState.FAILED and "/out/_SUCCESS: [Errno 28]" in job.error
    assert AbortOutput(job_id, "/out") in cmds and Publish(JobEnded(job_id, "FAILED")) in cmds
    assert s.output_sealed(job_id, "", 2.0) == []          # a final job stays final


def test_a_restored_job_whose_tasks_all_committed_is_sealed_on_the_next_tick():
    s = CoordinatorState()
    job_id, _ = s.submit("wc", plan(maps=1, reducers=0), b"c", 0.0)
    register(s, "w1")
    s.task_done(done("w1", "map", 0, 1, dict(manifest(0, 1), partitions=[])), 1.0)
    # the coordinator died before sealing; after a restart, time passes:
    assert SealOutput(job_id, "/out") in s.tick(5.0)


def test_a_job_without_input_is_sealed_at_once():
    s = CoordinatorState()
    job_id, cmds = s.submit("wc", plan(maps=0), b"c", 0.0)
    assert cmds == [SealOutput(job_id, "/out")]
    s.output_sealed(job_id, "", 0.1)
    assert s.jobs[job_id].state == JobState.SUCCEEDED


def test_every_final_state_is_published_and_workers_learn_what_to_forget():
    s = CoordinatorState()
    register(s, "w1")
    done_id, _ = s.submit("wc", plan(maps=1, reducers=0), b"c", 0.0)
    live_id, _ = s.submit("wc", plan(maps=1), b"c", 0.0)
    map_only = dict(manifest(0, 1), partitions=[])
    s.task_done(done("w1", "map", 0, 1, map_only), 1.0)
    assert Publish(JobEnded(done_id, "SUCCEEDED")) in s.output_sealed(done_id, "", 1.5)
    assert s.jobs_to_forget([done_id, live_id, "job-9999"]) == [done_id, "job-9999"]


def test_task_tally_matches_a_recount_through_reruns_and_worker_loss():
    """The O(1) done counts and next-pending cursor (TaskTally) must agree with walking
    every task, whatever sends tasks back to PENDING (lost workers, failed attempts)."""
    import random

    from zmr.coordinator.model import MAP, REDUCE

    rng = random.Random(7)
    s = CoordinatorState(max_attempts=50)
    job_id, _ = s.submit("wc", plan(maps=30, reducers=4), b"c", 0.0)
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
            s.task_done(TaskDone(attempt.worker_id, job_id, task.kind, task.index,
                                 attempt.number, result, 0.0, 1.0), now)
        elif running and roll < 0.75:
            task, attempt = rng.choice(running)
            s.task_failed(TaskFailed(attempt.worker_id, job_id, task.kind, task.index,
                                     attempt.number, "boom", "tb"), now)
        elif roll < 0.8:
            lost = rng.choice(workers)
            s.worker_lost(lost, now)
            register(s, lost, now=now)
        else:
            s.request_task(RequestTask(rng.choice(workers), 1), now)
        for kind, tasks in ((MAP, job.maps), (REDUCE, job.reduces)):
            assert job.done(kind) == sum(t.state == TaskState.SUCCEEDED for t in tasks)
            first = next((t for t in tasks if t.state == TaskState.PENDING), None)
            assert job.first_pending(kind) is first
        if job.state in (JobState.SUCCEEDED, JobState.FAILED):
            break


def test_heartbeats_move_the_map_phase_by_bytes_read_of_running_maps():
    s = CoordinatorState()
    job_id, _ = s.submit("wc", plan(maps=4), b"c", 0.0)
    register(s, "w1", slots=2)
    job = s.jobs[job_id]
    assert job.map_progress() == 0.0
    s.progress("w1", [f"{job_id}/map/0/1:10:512:1024", f"{job_id}/map/1/1:10:1024:4096",
                      f"{job_id}/map/1/1:nonsense", "junk"], 1.0)
    assert job.map_progress() == (0.5 + 0.25) / 4
    s.task_done(done("w1", "map", 0, 1), 2.0)
    assert job.map_progress() == (1 + 0.25) / 4
    assert records.describe_job(job, 2.0, brief=True)["map_progress"] == job.map_progress()


def test_a_report_that_states_free_slots_is_answered_with_the_next_task():
    s = CoordinatorState()
    job_id, _ = s.submit("wc", plan(maps=3), b"c", 0.0)
    s.register(Register("w1", "h", "tcp://127.0.0.1:1", 1, 1, 1024, prefetch=1), 0.0)
    # one slot plus one prefetched attempt: two assignments for a request of two
    assert len(assigned(s.request_task(RequestTask("w1", 5), 0.0))) == 2
    s.free_slots_said("w1", 1)
    assert assigned(s.task_done(done("w1", "map", 0, 1), 1.0)) == [("w1", "map", 2, 1)]
