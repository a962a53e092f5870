"""Multi-step jobs in the state machine: steps run as internal jobs in turn, the next one
planned by the server (PlanStep -> StepPlanned), and the pipeline ends with its steps."""

from __future__ import annotations

import dataclasses

import pytest

from tests.unit.coordinator.drive import ask, done, plan, reduce_result, register
from zmr.coordinator import views
from zmr.coordinator.commands import AbortOutput, DropSteps, Persist, PlanStep, SealOutput
from zmr.coordinator.journal import Journal
from zmr.coordinator.machine import CoordinatorState
from zmr.coordinator.pipeline_records import submitted_steps
from zmr.coordinator.stimuli import (
    AttemptFailed,
    AttemptSucceeded,
    Checkpoint,
    JobCancelled,
    OutputSealed,
    PipelineSubmitted,
    Restored,
    StepPlanned,
)
from zmr.core.errors import ZmrError
from zmr.core.ids import AttemptId
from zmr.core.plan import StepPlan
from zmr.protocol.messages import SubmitPipeline, TaskFailed

OUT = "/out"


def steps(total=2):
    """Step 1 with its splits, the others templates; step k writes _steps/step-k."""
    plans = []
    for number in range(1, total + 1):
        output = OUT if number == total else f"{OUT}/_steps/step-{number}"
        step_plan = dataclasses.replace(plan(maps=2), output=output)
        if number > 1:
            step_plan = dataclasses.replace(step_plan, splits=[])
        plans.append(StepPlan(step_plan, 1 << 20, "arrow" if number > 1 else "text"))
    return tuple(plans)


def submit_pipeline(state, total=2, now=0.0):
    job_id = views.next_job_id(state)
    codes = tuple(f"code{n}".encode() for n in range(1, total + 1))
    return job_id, state.handle(PipelineSubmitted(now, job_id, "wc", steps(total), codes))


def run_step(state, job_id, worker="w1"):
    """Every task of step job ``job_id`` succeeds; the commands its seal is answered with."""
    job = state.jobs[job_id]
    for kind, tasks, result in (("map", job.maps, None), ("reduce", job.reduces,
                                                           reduce_result)):
        for task in tasks:
            ask(state, worker)
            attempt = task.attempts[-1].number
            commands = state.handle(AttemptSucceeded(1.0, done(
                worker, kind, task.index, attempt,
                result(task.index, attempt) if result else None, job_id=job_id)))
    assert any(isinstance(c, SealOutput) for c in commands)
    return state.handle(OutputSealed(2.0, job_id))


def planned(state, command, now=3.0):
    """The server's answer to a PlanStep: the template with a split."""
    step_plan = dataclasses.replace(command.step.plan, splits=plan(maps=1).splits)
    return state.handle(StepPlanned(now, command.job_id, command.number, step_plan))


def only(commands, kind):
    found = [c for c in commands if isinstance(c, kind)]
    assert len(found) == 1, commands
    return found[0]


@pytest.fixture
def state():
    s = CoordinatorState(speculative=False)
    register(s, "w1")
    return s


def test_steps_run_in_turn_and_the_pipeline_succeeds(state):
    job_id, _ = submit_pipeline(state)
    assert job_id == "job-0001" and list(state.jobs) == ["job-0001.s1"]
    assert state.jobs["job-0001.s1"].name == "wc[step 1/2]"
    step = only(run_step(state, "job-0001.s1"), PlanStep)
    assert (step.number, step.inputs, step.last) == (2, (f"{OUT}/_steps/step-1",), True)
    planned(state, step)
    assert state.jobs["job-0001.s2"].code == b"code2"
    commands = run_step(state, "job-0001.s2")
    assert only(commands, DropSteps).output == OUT
    assert not [c for c in commands if isinstance(c, AbortOutput)]
    [listed] = views.describe_jobs(state, 5.0, brief=True)
    assert (listed["job_id"], listed["state"], listed["step"], listed["steps"]) == (
        "job-0001", "SUCCEEDED", 2, 2)
    assert listed["counters"]["zmr"]["MAP_INPUT_RECORDS"] == 15     # 2 maps + 1 map
    # usage: every step's splits, busy and slot time added up
    assert (listed["splits"], listed["rebalanced"]) == (3, 0)
    assert 0 < listed["busy_s"] <= listed["slot_s"] and 0 < listed["utilisation"] <= 1
    assert views.next_job_id(state) == "job-0002"


def test_a_failed_plan_fails_the_pipeline_and_removes_its_output(state):
    submit_pipeline(state, total=3)
    step = only(run_step(state, "job-0001.s1"), PlanStep)
    commands = state.handle(StepPlanned(3.0, "job-0001", 2, None, "disk gone"))
    assert {type(c) for c in commands} == {DropSteps, AbortOutput}
    pipeline = views.describe_jobs(state, 4.0, "job-0001")[0]
    assert pipeline["state"] == "FAILED"
    assert pipeline["error"] == "step 2/3 of wc: cannot plan its input: disk gone"
    assert planned(state, step) == []           # too late: nothing starts


def test_cancel_stops_the_running_step(state):
    submit_pipeline(state)
    commands = state.handle(JobCancelled(1.0, "job-0001"))
    assert state.jobs["job-0001.s1"].state.value == "CANCELLED"
    assert {type(c) for c in commands} >= {DropSteps, AbortOutput}
    described = views.describe_jobs(state, 2.0, "job-0001")[0]
    assert described["state"] == "CANCELLED"
    assert described["error"] == "step 1/2 of wc: cancelled by request"


def test_cancel_between_steps_ends_the_pipeline(state):
    submit_pipeline(state)
    step = only(run_step(state, "job-0001.s1"), PlanStep)
    assert only(state.handle(JobCancelled(3.0, "job-0001")), DropSteps)
    assert planned(state, step) == [] and "job-0001.s2" not in state.jobs
    assert views.describe_jobs(state, 4.0, "job-0001")[0]["state"] == "CANCELLED"


def _journal(state, path):
    journal = Journal(str(path))
    persist = only(state.handle(Checkpoint(9.0)), Persist)
    journal.save(persist.changes, persist.pipelines)
    journal.close()
    journal = Journal(str(path))
    jobs, pipelines = journal.load(), journal.load_pipelines()
    journal.close()
    return jobs, pipelines


def test_a_restart_after_a_step_ended_plans_the_next_one(state, tmp_path):
    submit_pipeline(state)
    run_step(state, "job-0001.s1")              # the PlanStep is lost with the coordinator
    jobs, pipelines = _journal(state, tmp_path)
    assert [p.codes for p in pipelines] == [(b"code1", b"code2")]
    restarted = CoordinatorState(speculative=False)
    step = only(restarted.handle(Restored(10.0, tuple(jobs), tuple(pipelines))), PlanStep)
    assert step.number == 2 and views.next_job_id(restarted) == "job-0002"
    planned(restarted, step)
    register(restarted, "w1")
    assert restarted.jobs["job-0001.s1"].state.value == "SUCCEEDED"   # not run again
    only(run_step(restarted, "job-0001.s2"), DropSteps)
    assert views.describe_jobs(restarted, 11.0, "job-0001")[0]["state"] == "SUCCEEDED"


def test_a_restart_while_a_step_runs_waits_for_it(state, tmp_path):
    submit_pipeline(state)
    jobs, pipelines = _journal(state, tmp_path)
    restarted = CoordinatorState(speculative=False)
    assert restarted.handle(Restored(10.0, tuple(jobs), tuple(pipelines))) == []
    assert [j["job_id"] for j in views.describe_jobs(restarted, 11.0)] == ["job-0001"]


@pytest.mark.parametrize("change,message", [
    (lambda m: dataclasses.replace(m, code_sizes=[5]), "one code size per step"),
    (lambda m: dataclasses.replace(m, code_sizes=[5, 6]), "one blob of the sizes"),
    (lambda m: dataclasses.replace(m, steps=[m.steps[0], m.steps[0]]),
     "only the first step"),
    (lambda m: dataclasses.replace(m, steps=[_moved(m.steps[0], "/elsewhere"), m.steps[1]]),
     "write to /out/_steps/step-N"),
    (lambda m: dataclasses.replace(m, steps=[]), "one code size per step"),
])
def test_a_submission_that_does_not_hang_together_is_refused(change, message):
    msg = SubmitPipeline("wc", list(steps()), [5, 5])
    assert submitted_steps(msg, [b"code1code2"])[1] == (b"code1", b"code2")
    with pytest.raises(ZmrError, match=message):
        submitted_steps(change(msg), [b"code1code2"])


def _moved(step, output):
    return dataclasses.replace(step, plan=dataclasses.replace(step.plan, output=output))


def test_an_input_error_in_a_step_is_the_pipelines_input_error(state):
    """A multi-step job whose step meets input it cannot read fails as one job does: at
    once, marked as an input error (clients exit 2), its one line prefixed by the step."""
    submit_pipeline(state)
    ask(state, "w1")
    attempt = state.jobs["job-0001.s1"].maps[0].attempts[-1].number
    why = "invalid UTF-8 in /in/0 at byte 7: invalid start byte"
    state.handle(AttemptFailed(1.0, TaskFailed("w1", AttemptId("job-0001.s1", "map", 0,
                                                               attempt), why, "",
                                               input_error=True)))
    pipeline = views.describe_jobs(state, 2.0, "job-0001")[0]
    assert (pipeline["state"], pipeline["error_kind"]) == ("FAILED", "input")
    assert pipeline["error"].startswith("step 1/2 of wc: " + why)


@pytest.mark.parametrize("auto_reducers, reducers", [(True, 4), (False, 1)])
def test_a_later_step_is_planned_for_the_slots_registered_when_it_starts(auto_reducers,
                                                                        reducers):
    """The client planned every step for the slots of its submission (1 here); the
    coordinator plans the next one for its live slots: the default reducers follow them,
    a given NUM_REDUCERS does not."""
    state = CoordinatorState(speculative=False)
    register(state, "w1", slots=4)
    first, second = steps()
    second = dataclasses.replace(second, auto_reducers=auto_reducers)
    state.handle(PipelineSubmitted(0.0, views.next_job_id(state), "wc", (first, second),
                                   (b"c1", b"c2")))
    step = only(run_step(state, "job-0001.s1"), PlanStep)
    assert (step.step.plan.parallelism, step.step.plan.num_reducers) == (4, reducers)
    planned(state, step)
    assert state.jobs["job-0001.s2"].plan.num_reducers == reducers
