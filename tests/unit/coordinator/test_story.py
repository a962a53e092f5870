"""Named transitions and what they leave behind: every task's story (which event moved
what, from and to which state), attempt states that change once, illegal moves refused
with the story, and ``validate()`` finding a state that was changed behind the door."""

from __future__ import annotations

import inspect

import pytest

from tests.unit.coordinator.drive import ask, assigned, done, plan, register, submit
from zmr.coordinator import machine, stimuli
from zmr.coordinator.machine import CoordinatorState
from zmr.coordinator.model import STORY_LENGTH
from zmr.coordinator.states import (
    ATTEMPT_TRANSITIONS,
    AttemptState,
    InvalidTransition,
    TaskState,
)
from zmr.coordinator.stimuli import AttemptFailed, AttemptSucceeded, Tick, WorkerExpired
from zmr.core.ids import AttemptId
from zmr.protocol.messages import TaskFailed


def fail(s, attempt, now, worker="w1", job_id="job-0001"):
    s.handle(AttemptFailed(now, TaskFailed(worker, AttemptId(job_id, "map", 0, attempt), "E",
                                           "")))


def steps(story):
    return [(e.event, e.subject, e.start, e.finish) for e in story]


def test_every_event_type_has_a_handler():
    events = {cls for _, cls in inspect.getmembers(stimuli, inspect.isclass)
              if issubclass(cls, stimuli.Stimulus) and cls is not stimuli.Stimulus}
    assert events == set(machine.HANDLERS)
    with pytest.raises(TypeError, match="no handler for Stimulus"):
        CoordinatorState().handle(stimuli.Stimulus(0.0))


def test_a_tasks_story_names_each_event_and_change():
    s = CoordinatorState()
    job_id, _ = submit(s, plan(maps=1))
    register(s, "w1", now=1.0)
    fail(s, 1, 2.5)
    ask(s, "w1", now=2.5)
    assert steps(s.story(job_id, "map", 0)) == [
        ("TaskRequested", "attempt 1 on w1", "", "running"),
        ("TaskRequested", "task", "PENDING", "RUNNING"),
        ("AttemptFailed", "attempt 1 on w1", "running", "failed"),
        ("AttemptFailed", "task", "RUNNING", "PENDING"),
        ("TaskRequested", "attempt 2 on w1", "", "running"),
        ("TaskRequested", "task", "PENDING", "RUNNING")]
    assert [e.now for e in s.story(job_id, "map", 0)] == [1.0, 1.0, 2.5, 2.5, 2.5, 2.5]
    assert steps(s.story(job_id)) == [("TaskRequested", "job", "QUEUED", "RUNNING")]
    assert str(s.story(job_id, "map", 0)[2]) == \
        "2.500 AttemptFailed: attempt 1 on w1 running -> failed"
    assert s.story("job-9999") == [] and s.story(job_id, "map", 7) == []


def test_a_lost_worker_and_a_timeout_are_told_apart():
    s = CoordinatorState(task_timeout_s=10.0)
    job_id, _ = submit(s, plan(maps=1))
    register(s, "w1")
    s.handle(WorkerExpired(1.0, "w1"))
    register(s, "w2", now=2.0)
    s.handle(Tick(20.0))
    ends = [(e.event, e.finish) for e in s.story(job_id, "map", 0) if e.start == "running"]
    assert ends == [("WorkerExpired", "lost"), ("Tick", "timed_out")]


def test_the_story_is_bounded():
    s = CoordinatorState(max_attempts=1000)
    job_id, _ = submit(s, plan(maps=1))
    register(s, "w1")
    for attempt in range(1, 30):
        fail(s, attempt, float(attempt))
        ask(s, "w1", now=float(attempt))
    story = s.story(job_id, "map", 0)
    assert len(story) == STORY_LENGTH and story[-2].subject == "attempt 30 on w1"


def test_an_illegal_task_transition_is_refused_with_the_tasks_story():
    s = CoordinatorState()
    job_id, _ = submit(s, plan(maps=1))
    register(s, "w1", now=1.0)
    task = s.jobs[job_id].maps[0]
    task.set_state(TaskState.KILLED, Tick(3.0))
    with pytest.raises(InvalidTransition, match="KILLED -> RUNNING") as refused:
        task.set_state(TaskState.RUNNING, Tick(4.0))
    assert steps(refused.value.story)[-1] == ("Tick", "task", "RUNNING", "KILLED")
    assert "3.000 Tick: task RUNNING -> KILLED" in str(refused.value)


@pytest.mark.parametrize("start", list(AttemptState))
@pytest.mark.parametrize("finish", list(AttemptState))
def test_an_attempt_ends_once(start, finish):
    allowed = start == AttemptState.RUNNING and finish != AttemptState.RUNNING
    assert (finish in ATTEMPT_TRANSITIONS[start]) == allowed


def test_ending_an_attempt_twice_is_refused_with_the_story():
    s = CoordinatorState()
    job_id, _ = submit(s, plan(maps=2))
    register(s, "w1")
    s.handle(AttemptSucceeded(1.0, done("w1", "map", 0, 1)))
    task = s.jobs[job_id].maps[0]
    with pytest.raises(InvalidTransition, match="attempt 1 on w1: succeeded -> lost") as no:
        task.end_attempt(task.attempts[0], AttemptState.LOST, WorkerExpired(2.0, "w1"))
    assert steps(no.value.story)[-2:] == [
        ("AttemptSucceeded", "attempt 1 on w1", "running", "succeeded"),
        ("AttemptSucceeded", "task", "RUNNING", "SUCCEEDED")]
    assert task.attempts[0].state is AttemptState.SUCCEEDED       # unchanged


def corrupt_one_way_or_another():
    """States changed behind the door, each in a way ``validate`` must name."""
    def lose_worker(s, job):
        del s.workers["w1"]

    def skip_the_tally(s, job):
        job.maps[1].state = TaskState.SUCCEEDED

    def end_without_a_time(s, job):
        job.maps[0].attempts[0].state = AttemptState.KILLED

    return [(lose_worker, "attempt 1 on w1 runs on an unknown worker"),
            (skip_the_tally, "map done: tally 0, recount 1"),
            (end_without_a_time, "attempt 1 on w1 is killed with finished_s None")]


@pytest.mark.parametrize("corrupt,problem", corrupt_one_way_or_another())
def test_validate_finds_a_corrupted_state(corrupt, problem):
    s = CoordinatorState()
    job_id, _ = submit(s, plan(maps=2))
    assert assigned(register(s, "w1")) == [("w1", "map", 0, 1)]
    assert s.validate() == []
    corrupt(s, s.jobs[job_id])
    assert any(problem in p for p in s.validate()), s.validate()


def test_the_tests_check_every_event(monkeypatch):
    """The fixture wraps ``handle``: a handler that breaks an invariant fails the test."""
    def corrupting_tick(state, ev):
        state.jobs["job-0001"].maps[0].state = TaskState.SUCCEEDED
        return []

    s = CoordinatorState()
    submit(s, plan(maps=1))
    monkeypatch.setitem(machine.HANDLERS, Tick, corrupting_tick)
    with pytest.raises(AssertionError, match="after Tick"):
        s.handle(Tick(1.0))
