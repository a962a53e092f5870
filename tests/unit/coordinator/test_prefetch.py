"""Prefetch never holds a task on a busy worker while another worker has a free slot: idle
slots are filled first on every worker, a worker's prefetch credit only after and only with
maps; and an idle worker with nothing pending takes over an attempt queued for a while
behind another worker's busy slot. Free slots and queued attempts are told apart in what
``zmr workers`` shows."""

from __future__ import annotations

from tests.unit.coordinator.drive import ask, assigned, done, join, manifest, plan, submit
from zmr.coordinator import records, views
from zmr.coordinator.commands import Send
from zmr.coordinator.machine import CoordinatorState
from zmr.coordinator.states import AttemptState, TaskState
from zmr.coordinator.stimuli import AttemptSucceeded, Tick
from zmr.core.ids import AttemptId
from zmr.protocol.messages import KillTask


def succeeded(s, msg, now):
    return s.handle(AttemptSucceeded(now, msg))


def _three_workers_one_slot_each():
    s = CoordinatorState(speculative=False)
    job_id, _ = submit(s, plan(maps=2, reducers=3))
    for worker in ("w1", "w2", "w3"):
        join(s, worker, memory_mb=1024, prefetch=1)
    return s, job_id


def test_reduces_go_to_idle_slots_before_any_is_queued_behind_a_busy_one():
    s, _ = _three_workers_one_slot_each()
    assert assigned(ask(s, "w2", 1)) == [("w2", "map", 0, 1)]
    assert assigned(ask(s, "w3", 1, 0.1)) == [("w3", "map", 1, 1)]
    assert assigned(ask(s, "w1", 2, 0.2)) == []             # nothing pending: w1 waits
    map0 = done("w2", "map", 0, 1, manifest(0, 1, partitions=3), free_slots=2)
    assert assigned(succeeded(s, map0, 1.0)) == []
    # the last map ends: three reduces, three idle workers, each asking for 2 (1 + prefetch)
    map1 = done("w3", "map", 1, 1, manifest(1, 1, partitions=3), free_slots=2)
    commands = succeeded(s, map1, 2.0)
    assert sorted(assigned(commands)) == [("w1", "reduce", 0, 1), ("w2", "reduce", 1, 1),
                                          ("w3", "reduce", 2, 1)]


def test_prefetch_queues_a_task_only_once_no_asking_worker_has_an_idle_slot():
    s = CoordinatorState(speculative=False)
    submit(s, plan(maps=4))
    join(s, "w1", memory_mb=1024, prefetch=1)
    assert assigned(ask(s, "w1", 2)) == [("w1", "map", 0, 1), ("w1", "map", 1, 1)]
    w1 = records.describe_worker(s.workers["w1"])
    assert (w1["free_slots"], w1["queued"]) == (0, 1)        # not "2 free" on a 1-slot worker
    (described,) = views.describe_workers(s, lambda _: 0.0)
    assert (described["running"], described["slots"], described["queued"]) == (1, 1, 1)


def test_an_idle_worker_takes_over_a_task_queued_behind_a_busy_one():
    s = CoordinatorState(speculative=False)
    job_id, _ = submit(s, plan(maps=3))
    join(s, "w1", memory_mb=1024, prefetch=1)
    join(s, "w2", memory_mb=1024, prefetch=1)
    assert assigned(ask(s, "w1", 2)) == [("w1", "map", 0, 1), ("w1", "map", 1, 1)]
    assert assigned(ask(s, "w2", 2, 0.1)) == [("w2", "map", 2, 1)]
    # w2 is done and idle, nothing is pending, and map 1 still waits behind map 0 on w1
    commands = succeeded(s, done("w2", "map", 2, 1, free_slots=2), 1.0)
    assert Send("w1", KillTask(AttemptId(job_id, "map", 1, 1))) in commands
    assert assigned(commands) == [("w2", "map", 1, 2)]
    task = s.jobs[job_id].maps[1]
    assert [a.state for a in task.attempts] == [AttemptState.KILLED, AttemptState.RUNNING]
    assert task.state == TaskState.RUNNING and task.failures == 0     # not a failure
    # map 0, running on w1, is never moved
    assert [a.worker_id for a in s.jobs[job_id].maps[0].running()] == ["w1"]


def test_a_running_attempt_is_never_taken_back():
    s = CoordinatorState(speculative=False)
    submit(s, plan(maps=2))
    join(s, "w1", memory_mb=1024, prefetch=1)
    join(s, "w2", memory_mb=1024, prefetch=1)
    assert assigned(ask(s, "w1", 1)) == [("w1", "map", 0, 1)]
    assert assigned(ask(s, "w2", 1)) == [("w2", "map", 1, 1)]
    join(s, "w3", memory_mb=1024, prefetch=1)
    commands = ask(s, "w3", 2, 1.0)
    assert assigned(commands) == [] and not [c for c in commands if isinstance(c, Send)]


def test_a_task_queued_only_briefly_is_left_where_it_is():
    # short maps: the one ahead of it ends within the second, no use moving it
    s = CoordinatorState(speculative=False)
    submit(s, plan(maps=3))
    join(s, "w1", memory_mb=1024, prefetch=1)
    join(s, "w2", memory_mb=1024, prefetch=1)
    assert assigned(ask(s, "w1", 2)) == [("w1", "map", 0, 1), ("w1", "map", 1, 1)]
    assert assigned(ask(s, "w2", 2, 0.1)) == [("w2", "map", 2, 1)]
    commands = succeeded(s, done("w2", "map", 2, 1, free_slots=2), 0.5)
    assert assigned(commands) == [] and not [c for c in commands if isinstance(c, Send)]
    # ... until it has waited TAKE_BACK_AFTER_S: the next tick moves it
    assert assigned(s.handle(Tick(1.0))) == [("w2", "map", 1, 2)]


def test_reduces_are_never_prefetched_behind_a_busy_slot():
    s = CoordinatorState(speculative=False)
    job_id, _ = submit(s, plan(maps=1, reducers=2))
    join(s, "w1", memory_mb=1024, prefetch=1)
    assert assigned(ask(s, "w1", 2)) == [("w1", "map", 0, 1)]
    commands = succeeded(s, done("w1", "map", 0, 1, manifest(0, 1, partitions=2),
                                  free_slots=2), 1.0)
    assert assigned(commands) == [("w1", "reduce", 0, 1)]      # one slot: one reduce
    assert s.jobs[job_id].reduces[1].state == TaskState.PENDING


def test_a_worker_is_never_given_more_than_its_slots_and_prefetch_hold():
    """Its word on how many more it takes cannot count the assignments still on their way
    to it: a worker that keeps saying "2 more" while it has not read what it was sent
    holds at most slots + prefetch, and each report frees one place, not two."""
    s = CoordinatorState(speculative=False)
    submit(s, plan(maps=10))
    join(s, "w1", memory_mb=1024, prefetch=1)
    assert len(assigned(ask(s, "w1", 2))) == 2
    assert assigned(ask(s, "w1", 2, 0.1)) == []               # it already holds 2
    commands = succeeded(s, done("w1", "map", 0, 1, free_slots=2), 1.0)
    assert assigned(commands) == [("w1", "map", 2, 1)]        # one place freed, one given
    assert len(s.workers["w1"].held()) == 2
