"""Slot utilisation: busy task time (attempt intervals, each worker's capped at its slots)
over slot time (the registered workers' slots integrated from the job's first dispatch to
its end, as workers come and go), with the splits cut and rebalanced, as status replies,
history and the journal carry them."""

from __future__ import annotations

import pytest

from tests.unit.coordinator.drive import ask, assigned, done, join, manifest, plan, submit
from zmr.coordinator import records, views
from zmr.coordinator.machine import CoordinatorState
from zmr.coordinator.model import WorkerInfo
from zmr.coordinator.stimuli import (
    AttemptSucceeded,
    JobCancelled,
    OutputSealed,
    Restored,
    WorkerExpired,
)
from zmr.coordinator.usage import SlotTime, busy_seconds
from zmr.core.ids import AttemptId


def workers(**slots):
    return {w: WorkerInfo(w, "h", f"tcp://{w}:1", n, 1, 0) for w, n in slots.items()}


# -- the computation -----------------------------------------------------------------------
@pytest.mark.parametrize("intervals, slots, busy", [
    ([], 1, 0.0),
    ([(0, 4), (6, 10)], 1, 8.0),              # apart: both count whole
    ([(0, 4), (4, 10)], 1, 10.0),             # end to end: no overlap, no gap
    ([(0, 10), (5, 15)], 1, 15.0),            # one slot: the overlap counts once
    ([(0, 10), (5, 15)], 2, 20.0),            # two slots: both run
    ([(0, 10), (0, 10), (0, 10)], 2, 20.0),   # a third queued behind two busy slots
    ([(3, 3), (5, 2)], 1, 0.0),               # empty or backwards: nothing ran
])
def test_busy_seconds_counts_overlaps_up_to_the_slots(intervals, slots, busy):
    assert busy_seconds(intervals, slots) == pytest.approx(busy)


def test_slot_time_integrates_the_slots_as_workers_come_and_go():
    slot_time = SlotTime()
    slot_time.charge(1.0, workers(w1=1))          # not dispatched yet: nothing to charge
    assert slot_time.at(5.0) == 0.0
    slot_time.start(2.0, workers(w1=1))
    slot_time.charge(4.0, workers(w1=1, w2=3))     # 2 s at 1 slot, then 4 slots
    slot_time.charge(5.0, workers(w2=3))           # 1 s at 4 slots, then 3
    assert slot_time.at(7.0) == pytest.approx(2 * 1 + 1 * 4 + 2 * 3)
    assert slot_time.workers == {"w1": 1, "w2": 3}     # every worker seen, for the cap
    back = SlotTime.from_record(slot_time.to_record())
    assert back == slot_time


# -- the machine ---------------------------------------------------------------------------
def succeed(s, worker, kind, index, now, partitions=1, attempt=1, **fields):
    result = manifest(index, attempt, partitions) if kind == "map" else None
    msg = done(worker, kind, index, attempt, result, **fields)
    return assigned(s.handle(AttemptSucceeded(now, msg)))


def seal(s, now):
    """The server wrote the output's _SUCCESS: the job ends."""
    (job_id,) = s.jobs
    s.handle(OutputSealed(now, job_id))


def described(s, now, brief=False):
    (job,) = views.describe_jobs(s, now, brief=brief)
    return job


def test_one_map_on_two_workers_keeps_half_the_slots_busy():
    s = CoordinatorState(speculative=False)
    join(s, "w1")
    join(s, "w2")
    submit(s, plan(maps=1), now=1.0)
    assert assigned(ask(s, "w1", now=2.0)) == [("w1", "map", 0, 1)]
    assert ask(s, "w2", now=2.0) == []             # nothing else to run
    assert succeed(s, "w1", "map", 0, 10.0, free_slots=1) == [("w1", "reduce", 0, 1)]
    assert succeed(s, "w1", "reduce", 0, 12.0) == []
    seal(s, 12.0)
    job = described(s, 20.0)
    assert job["state"] == "SUCCEEDED"
    # 10 s busy (8 map + 2 reduce) of 2 slots x 10 s from first dispatch (2.0) to the end
    assert (job["busy_s"], job["slot_s"], job["slots"]) == (10.0, 20.0, 2.0)
    assert job["utilisation"] == 0.5
    assert (job["splits"], job["rebalanced"]) == (1, 0)
    assert job["worker_busy_s"] == {"w1": 10.0}
    assert described(s, 30.0, brief=True)["utilisation"] == 0.5     # kept, as history shows


def test_slot_time_follows_workers_joining_and_dying_while_the_job_runs():
    s = CoordinatorState(speculative=False)
    job_id, _ = submit(s, plan(maps=2))
    join(s, "w1")
    assert assigned(ask(s, "w1", now=0.0)) == [("w1", "map", 0, 1)]
    join(s, "w2", slots=2, now=4.0)                  # 4 s at 1 slot, then 3 slots
    assert assigned(ask(s, "w2", slots=2, now=4.0)) == [("w2", "map", 1, 1)]
    assert succeed(s, "w2", "map", 1, 6.0) == []
    # 4 s at 3 slots; map 0 is lost, and runs again in w2's free slot
    assert assigned(s.handle(WorkerExpired(8.0, "w1"))) == [("w2", "map", 0, 2)]
    assert succeed(s, "w2", "map", 0, 9.0, attempt=2, free_slots=2) == [
        ("w2", "reduce", 0, 1)]
    assert succeed(s, "w2", "reduce", 0, 10.0) == []
    seal(s, 10.0)
    job = described(s, 11.0)
    assert job["slot_s"] == pytest.approx(4 * 1 + 4 * 3 + 2 * 2)
    # the lost attempt kept w1's slot busy for 8 s: it counts (as failed ones do)
    assert job["worker_busy_s"] == {"w1": 8.0, "w2": 4.0}
    assert job["utilisation"] == pytest.approx(12 / 20)
    assert s.jobs[job_id].slot_time.workers == {"w1": 1, "w2": 2}


def test_an_attempt_prefetched_behind_a_busy_slot_is_not_counted_busy_while_it_waits():
    s = CoordinatorState(speculative=False)
    submit(s, plan(maps=2, reducers=0))
    join(s, "w1", prefetch=1)
    assert assigned(ask(s, "w1", slots=2, now=0.0)) == [("w1", "map", 0, 1),
                                                         ("w1", "map", 1, 1)]
    succeed(s, "w1", "map", 0, 5.0, partitions=0)
    succeed(s, "w1", "map", 1, 10.0, partitions=0)
    seal(s, 10.0)
    job = described(s, 11.0)
    assert (job["busy_s"], job["slot_s"], job["utilisation"]) == (10.0, 10.0, 1.0)


def test_a_running_job_shows_its_usage_so_far_in_full_replies_not_in_brief_ones():
    s = CoordinatorState(speculative=False)
    join(s, "w1")
    join(s, "w2")
    submit(s, plan(maps=2))
    ask(s, "w1", now=0.0)
    job = described(s, 4.0)
    assert (job["busy_s"], job["slot_s"], job["utilisation"]) == (4.0, 8.0, 0.5)
    brief = described(s, 4.0, brief=True)
    assert (brief["busy_s"], brief["utilisation"], brief["splits"]) == (None, None, 2)


def test_a_job_cancelled_before_it_ran_has_no_utilisation():
    s = CoordinatorState()
    job_id, _ = submit(s, plan(maps=3))
    s.handle(JobCancelled(1.0, job_id))
    job = described(s, 2.0)
    assert (job["utilisation"], job["slots"], job["busy_s"], job["splits"]) == (None, None,
                                                                             0.0, 3)


# -- records -------------------------------------------------------------------------------
def finished_job():
    s = CoordinatorState(speculative=False)
    join(s, "w1")
    job_id, _ = submit(s, plan(maps=1, reducers=0))
    ask(s, "w1", now=0.0)
    succeed(s, "w1", "map", 0, 3.0, partitions=0)
    seal(s, 3.0)
    s.jobs[job_id].rebalanced = 2                   # as the rebalancer counts them
    return s.jobs[job_id]


def test_the_journal_keeps_a_jobs_usage_across_a_restart():
    job = finished_job()
    back = records.job_from_record(records.job_record(job), job.code)
    assert (back.slot_time, back.busy, back.rebalanced) == (job.slot_time, job.busy, 2)
    assert records.describe_job(back, 9.0, brief=True)["utilisation"] == 1.0


def test_a_record_journaled_before_usage_was_kept_still_loads_without_it():
    record = records.job_record(finished_job())
    for key in ("slot_time", "busy", "rebalanced"):
        del record[key]
    for brief in (True, False):
        old = records.describe_job(records.job_from_record(record, b"c"), 9.0, brief=brief)
        assert (old["utilisation"], old["busy_s"], old["slots"], old["rebalanced"],
                old["splits"]) == (None, None, None, 0, 1)


def test_after_a_coordinator_restart_the_slots_before_it_count_until_workers_are_back():
    s = CoordinatorState(speculative=False)
    join(s, "w1", slots=2)
    job_id, _ = submit(s, plan(maps=1, reducers=0))
    assert assigned(ask(s, "w1", now=0.0)) == [("w1", "map", 0, 1)]
    journaled = records.job_record(s.jobs[job_id])        # the coordinator dies here
    restarted = CoordinatorState(speculative=False)
    restarted.handle(Restored(10.0, (records.job_from_record(journaled, b"c"),)))
    # the worker ran on meanwhile, and says so when it registers again, at 12
    join(restarted, "w1", slots=2, now=12.0, running=[AttemptId(job_id, "map", 0, 1)])
    succeed(restarted, "w1", "map", 0, 14.0, partitions=0)
    seal(restarted, 14.0)
    job = described(restarted, 15.0)
    assert job["slot_s"] == pytest.approx(12 * 2 + 2 * 2)    # 2 slots throughout
    assert (job["busy_s"], job["utilisation"]) == (14.0, 0.5)
