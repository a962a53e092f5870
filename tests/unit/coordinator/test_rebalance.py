"""Dynamic work rebalancing in the state machine: an idle slot with nothing pending asks
a running map's worker to cut the unread half of its split; only an accepted cut shrinks
the map's split and makes the remainder a new map task, handed out at once; refusals,
stale answers, backups, retries, reduces and the journal all follow the cut split."""

from __future__ import annotations

import pytest

from tests.unit.coordinator.drive import ask, assigned, done, register, submit
from zmr.coordinator import rebalance
from zmr.coordinator.commands import Send
from zmr.coordinator.machine import CoordinatorState
from zmr.coordinator.model import Attempt
from zmr.coordinator.states import ShrinkState, TaskState
from zmr.coordinator.stimuli import (
    AttemptFailed,
    AttemptSucceeded,
    ProgressReported,
    ShrinkAnswered,
    Tick,
)
from zmr.core.ids import AttemptId
from zmr.core.plan import JobPlan
from zmr.core.specs import Split
from zmr.protocol.messages import (
    AttemptProgress,
    Heartbeat,
    ShrinkAnswer,
    ShrinkAttempt,
    TaskFailed,
)

MB = 1 << 20
SIZE = 64 * MB


def big_plan(reducers=1, **options):
    """One split of one 64 MB file (the file is never read: the machine does no I/O)."""
    return JobPlan([Split("/in/big.txt", 0, SIZE)], reducers, MB, "strict", "/out", **options)


def key(index=0, attempt=1, job_id="job-0001"):
    return AttemptId(job_id, "map", index, attempt)


def shrinks(commands):
    return [(c.peer, c.msg.attempt, c.msg.keep) for c in commands
            if isinstance(c, Send) and isinstance(c.msg, ShrinkAttempt)]


def answer(s, keep, accepted=True, worker="w1", now=1.0, final=False, index=0, attempt=1):
    msg = ShrinkAnswer(worker, key(index, attempt), keep, accepted,
                       "" if accepted else "it has read past", final)
    return s.handle(ShrinkAnswered(now, msg))


def beat(s, worker, read, index=0, attempt=1, now=0.5):
    s.handle(ProgressReported(now, Heartbeat(worker, 1, running=[
        AttemptProgress(key(index, attempt), 10, read, SIZE)])))


def one_map_two_workers(**plan_options):
    s = CoordinatorState()
    job_id, _ = submit(s, big_plan(**plan_options))
    register(s, "w1")
    return s, s.jobs[job_id]


# -- choosing the cut ---------------------------------------------------------------------

@pytest.mark.parametrize("total, read, keep", [
    (64 * MB, 0, 32 * MB),                      # half of all of it
    (64 * MB, 32 * MB, 48 * MB),                # half of what is unread
    (3 * MB, 0, 3 * MB - 3 * MB // 2),          # 1.5 MB: worth a task by its size
    (64 * MB, 63 * MB, None),                   # 512 kB read fast (1 MB/s): not worth it
    (64 * MB, 64 * MB, None),                   # nothing left
])
def test_keep_is_halfway_through_the_unread_part(total, read, keep):
    assert rebalance.keep_for(total, read, MB, 10.0, min_bytes=MB, min_s=2.0) == keep


def test_a_small_remainder_is_cut_only_when_reading_it_is_slow():
    # 200 kB unread: under min_bytes; at 10 kB/s it would take 10 s, at 1 MB/s no time
    assert rebalance.keep_for(300_000, 100_000, 10_000, 10.0, MB, 2.0) == 200_000
    assert rebalance.keep_for(300_000, 100_000, MB, 10.0, MB, 2.0) is None
    assert rebalance.keep_for(300_000, 100_000, 10_000, 0.1, MB, 2.0) is None  # too young
    # never under MIN_CUT_BYTES, however slow
    tiny = 2 * rebalance.MIN_CUT_BYTES - 2
    assert rebalance.keep_for(tiny, 0, 0.0, 100.0, MB, 2.0) is None


def test_the_speed_expected_is_the_slower_of_the_average_and_the_latest_window():
    attempt = Attempt(1, "w1", started_s=100.0)
    assert attempt.read_speed(110.0) == 0.0
    attempt.bytes_read(900_000, 109.0)                  # 100 kB/s so far
    assert attempt.read_speed(110.0) == pytest.approx(90_000)   # (the average until now)
    attempt.bytes_read(910_000, 112.0)                  # then 10 kB in 3 s: costly records
    assert attempt.read_speed(112.0) == pytest.approx(10_000 / 3)
    assert rebalance.keep_for(1_000_000, 910_000, attempt.read_speed(112.0), 12.0,
                              MB, 2.0) == 955_000       # 45 kB at 3.3 kB/s: 13 s of work


# -- asking, answers -------------------------------------------------------------------------

def test_an_idle_worker_with_nothing_pending_asks_for_a_cut_and_gets_the_remainder():
    s, job = one_map_two_workers()
    beat(s, "w1", 8 * MB)
    asked = register(s, "w2", now=1.0)
    assert shrinks(asked) == [("w1", key(), 36 * MB)]       # halfway through 56 MB unread
    assert assigned(asked) == []                            # w2 waits for the answer
    commands = answer(s, 36 * MB, now=1.5)
    assert assigned(commands) == [("w2", "map", 1, 1)]
    (spec,) = [c.msg.spec for c in commands if isinstance(c, Send)]
    assert (spec.split.start, spec.split.length) == (36 * MB, 28 * MB)
    assert job.rebalanced == 1 and len(job.maps) == 2
    assert job.plan.splits[0] == Split("/in/big.txt", 0, 36 * MB)
    assert job.maps[1].position == (0, 36 * MB)
    assert job.maps[0].attempts[0].shrink == ShrinkState.ACCEPTED


def test_a_refused_cut_makes_no_task_and_is_asked_again_later():
    s, job = one_map_two_workers()
    register(s, "w2", now=1.0)
    assert answer(s, 32 * MB, accepted=False, now=1.1) == []   # nothing else to give w2
    assert len(job.maps) == 1 and job.rebalanced == 0
    assert shrinks(s.handle(Tick(1.5))) == []                   # not at once
    beat(s, "w1", 40 * MB, now=3.5)
    assert shrinks(s.handle(Tick(3.6))) == [("w1", key(), 52 * MB)]


def test_a_final_refusal_is_never_asked_again():
    s, job = one_map_two_workers()
    register(s, "w2", now=1.0)
    answer(s, 32 * MB, accepted=False, final=True, now=1.1)
    assert job.maps[0].attempts[0].shrink == ShrinkState.NEVER
    assert shrinks(s.handle(Tick(100.0))) == []


def test_one_question_at_a_time_and_stale_answers_change_nothing():
    s, job = one_map_two_workers()
    register(s, "w2", now=1.0)
    assert shrinks(s.handle(Tick(1.5))) == []           # still waiting for w1's answer
    assert answer(s, 31 * MB, now=2.0) == []            # another question's answer
    assert answer(s, 32 * MB, worker="w2", now=2.0) == []   # not the attempt's worker
    assert len(job.maps) == 1
    s.handle(AttemptFailed(2.5, TaskFailed("w1", key(), "boom", "")))
    assert answer(s, 32 * MB, now=3.0) == []            # that attempt no longer runs
    assert len(job.maps) == 1 and job.rebalanced == 0


def test_no_cut_for_uncuttable_splits_or_when_turned_off():
    for s in (CoordinatorState(), CoordinatorState(rebalance=False)):
        gz = JobPlan([Split("/in/a.gz", 0, SIZE, whole=True)], 1, MB, "strict", "/out")
        submit(s, gz if s.rebalance else big_plan())
        register(s, "w1")
        assert shrinks(register(s, "w2")) == []
    s = CoordinatorState()
    submit(s, big_plan(rebalance=False))
    register(s, "w1")
    assert shrinks(register(s, "w2")) == []


def test_no_backup_while_a_cut_is_asked_and_backups_read_the_head():
    s = CoordinatorState(min_runtime_s=0.0)
    job_id, _ = submit(s, JobPlan([Split("/in/a", 0, 10), Split("/in/big.txt", 0, SIZE)],
                                  1, MB, "strict", "/out"))
    job = s.jobs[job_id]
    register(s, "w1")
    register(s, "w2")
    s.handle(AttemptSucceeded(1.0, done("w1", "map", 0, 1, free_slots=0)))   # a median
    asked = register(s, "w3", now=10.0)
    assert shrinks(asked) == [("w2", key(1), 32 * MB)] and assigned(asked) == []
    assert assigned(ask(s, "w1", now=10.2)) == []        # map 1 straggles: no backup yet
    s.rebalance_min_bytes, s.rebalance_min_s = 1 << 60, 1e9     # no further cut
    commands = answer(s, 32 * MB, worker="w2", index=1, now=10.5)
    assert assigned(commands) == [("w1", "map", 2, 1), ("w3", "map", 1, 2)]
    backup = [c.msg.spec for c in commands if isinstance(c, Send)][1]
    assert backup.split == job.plan.splits[1] and backup.split.length == 32 * MB


def test_a_failed_head_is_retried_with_the_head_and_the_remainder_like_any_map():
    s, job = one_map_two_workers()
    register(s, "w2", now=1.0)
    answer(s, 32 * MB, now=1.5)                          # map 1 -> w2
    retry = s.handle(AttemptFailed(2.0, TaskFailed("w1", key(), "boom", "", free_slots=1)))
    (spec,) = [c.msg.spec for c in retry if isinstance(c, Send)]
    assert (spec.map_index, spec.split.length) == (0, 32 * MB)
    s.handle(AttemptFailed(3.0, TaskFailed("w2", key(1), "boom", "", free_slots=1)))
    assert job.maps[1].state == TaskState.RUNNING and job.maps[1].failures == 1


def test_reduces_read_map_outputs_in_input_order():
    s = CoordinatorState()
    job_id, _ = submit(s, JobPlan([Split("/in/big.txt", 0, SIZE), Split("/in/b", 0, 10)],
                                  1, MB, "strict", "/out"))
    job = s.jobs[job_id]
    register(s, "w1")
    register(s, "w2")                                   # map 1 (small)
    s.handle(AttemptSucceeded(1.0, done("w2", "map", 1, 1, free_slots=1)))
    answer(s, 32 * MB, now=1.5)                         # map 0 cut: map 2 -> w2
    s.handle(AttemptSucceeded(2.0, done("w2", "map", 2, 1, free_slots=1)))
    last = s.handle(AttemptSucceeded(3.0, done("w1", "map", 0, 1, free_slots=1)))
    (reduce_spec,) = [c.msg.spec for c in last if isinstance(c, Send)]
    assert [seg.map_index for seg in reduce_spec.segments] == [0, 2, 1]


def test_the_job_plan_as_submitted_is_not_changed():
    submitted = big_plan()
    s = CoordinatorState()
    job_id, _ = submit(s, submitted)
    register(s, "w1")
    register(s, "w2")
    answer(s, 32 * MB)
    assert submitted.splits == [Split("/in/big.txt", 0, SIZE)]
    assert s.jobs[job_id].plan.num_maps == 2


def test_a_cut_maps_progress_counts_against_its_head():
    s, job = one_map_two_workers()
    register(s, "w2", now=1.0)
    answer(s, 32 * MB, now=1.5)
    beat(s, "w1", 16 * MB, now=2.0)                     # of the 64 MB it was given
    assert job.maps[0].attempts[0].read == 0.5          # of the 32 MB it reads now
