"""A job that cannot move because no worker is registered says so, after
``no_worker_warning_s`` of its life without one (and stops saying so when one joins)."""

from __future__ import annotations

from tests.unit.coordinator.drive import join, plan, submit
from zmr.coordinator import views
from zmr.coordinator.machine import CoordinatorState
from zmr.coordinator.stimuli import JobCancelled, Tick, WorkerExpired


def _warning(state, now):
    return views.describe_jobs(state, now)[0]["warning"]


def test_a_job_without_workers_is_flagged_only_after_the_setting():
    state = CoordinatorState(no_worker_warning_s=30.0)
    state.handle(Tick(0.0))                       # the coordinator starts without workers
    submit(state, plan(), now=10.0)
    state.handle(Tick(35.0))
    assert _warning(state, 35.0) == ""            # 25 s of the job's life: not yet
    assert views.workerless_jobs(state, 35.0) == []
    state.handle(Tick(41.0))
    warning = _warning(state, 41.0)
    assert "no live worker for 31s" in warning and "no_worker_warning_s = 30" in warning
    assert views.workerless_jobs(state, 41.0) == [("job-0001", 31.0)]
    join(state, "w1", now=42.0)
    state.handle(Tick(42.0))
    assert _warning(state, 42.0) == ""


def test_the_wait_counts_from_when_the_last_worker_went():
    state = CoordinatorState(no_worker_warning_s=5.0)
    join(state, "w1", now=0.0)
    submit(state, plan(), now=0.0)
    state.handle(Tick(100.0))
    assert _warning(state, 100.0) == ""           # a worker all along
    state.handle(WorkerExpired(101.0, "w1"))
    state.handle(Tick(101.5))
    assert _warning(state, 106.0) == ""
    assert "no live worker for 7s" in _warning(state, 108.5)
    assert not state.validate()


def test_finished_jobs_are_never_flagged():
    state = CoordinatorState(no_worker_warning_s=1.0)
    state.handle(Tick(0.0))
    job_id, _ = submit(state, plan(), now=0.0)
    state.handle(JobCancelled(1.0, job_id))
    state.handle(Tick(100.0))
    assert views.describe_jobs(state, 100.0)[0]["state"] == "CANCELLED"
    assert _warning(state, 100.0) == ""
    assert views.workerless_jobs(state, 100.0) == []
