"""Multi-step jobs (``STEPS``) run by the coordinator: one record drives the steps in order.

A client sends the whole job once (``SubmitPipeline``): every step's settings and code,
the first step's splits. The pipeline takes the user-visible id ``job-NNNN`` from the
counter single jobs use; step ``k`` runs as the internal job ``job-NNNN.sk``, an ordinary
``Job``, so tasks, attempts, retries, speculation and recovery apply to it unchanged.
Step ids are left out of listings (their pipeline shows them) and never move the counter
(``records.job_number`` reads 0 from them).

When step ``k`` succeeds the server is asked to cut step ``k+1``'s splits from its output
(``PlanStep``, answered by ``StepPlanned``): listing files is I/O and the machine does
none. The step is planned for the slots registered then (its default reducers follow
them). After the last step the pipeline SUCCEEDED; a step that fails or is cancelled ends
it FAILED or CANCELLED. Either way ``_steps`` goes, and a job that did not succeed loses
its partial output. The record is journaled with the jobs, so a restarted coordinator
carries on, planning the next step if the last one finished before it could.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from zmr.coordinator import lifecycle, recovery
from zmr.coordinator.commands import AbortOutput, Command, DropSteps, PlanStep
from zmr.coordinator.model import Job
from zmr.coordinator.records import job_number
from zmr.coordinator.states import FINAL_JOB_STATES, JobState
from zmr.coordinator.stimuli import JobCancelled, JobSubmitted
from zmr.core.plan import JobPlan, StepPlan
from zmr.job.pipeline import step_inputs, step_name

if TYPE_CHECKING:
    from zmr.coordinator.machine import CoordinatorState
    from zmr.coordinator.stimuli import PipelineSubmitted, Restored, StepPlanned, Stimulus

#: Between a pipeline's id and its step number in a step job's id: ``job-0007.s2``.
STEP_MARK = ".s"


def step_job_id(job_id: str, number: int) -> str:
    return f"{job_id}{STEP_MARK}{number}"


def owner_of(job_id: str) -> str:
    """The pipeline a step job belongs to ("" for any other job)."""
    head, mark, number = job_id.rpartition(STEP_MARK)
    return head if mark and number.isdigit() else ""


@dataclass
class PipelineJob:
    """A multi-step job: its steps' settings and codes, and the step jobs run so far."""

    job_id: str
    name: str
    steps: tuple[StepPlan, ...]
    codes: tuple[bytes, ...]
    submitted_s: float
    state: JobState = JobState.RUNNING       # until final; status shows the step's state
    step_jobs: list[str] = field(default_factory=list)    # ids, step 1 first
    finished_s: float | None = None
    error: str = ""
    dirty: bool = True                       # changed since it was last journaled

    @property
    def total(self) -> int:
        return len(self.steps)

    @property
    def current(self) -> int:
        """The number of the step submitted last (0: none yet)."""
        return len(self.step_jobs)

    @property
    def output(self) -> str:
        return self.steps[-1].plan.output

    @property
    def final(self) -> bool:
        return self.state in FINAL_JOB_STATES

    def label(self, number: int) -> str:
        return f"step {number}/{self.total} of {self.name}"


# -- handlers ----------------------------------------------------------------------------
def submit(state: CoordinatorState, ev: PipelineSubmitted) -> list[Command]:
    if ev.job_id in state.jobs or ev.job_id in state.pipelines:
        raise ValueError(f"job id {ev.job_id} is taken (ask views.next_job_id)")
    pipeline = PipelineJob(ev.job_id, ev.job_name, ev.steps, ev.codes, ev.now)
    state.pipelines[pipeline.job_id] = pipeline
    state.last_job_number = max(state.last_job_number, job_number(pipeline.job_id))
    return _submit_step(state, pipeline, ev.steps[0].plan, ev)


def step_planned(state: CoordinatorState, ev: StepPlanned) -> list[Command]:
    """The server cut the next step's splits (or could not): run it (or fail the job)."""
    pipeline = state.pipelines.get(ev.job_id)
    if pipeline is None or pipeline.final or ev.number != pipeline.current + 1:
        return []                        # cancelled meanwhile, or a duplicate answer
    if ev.plan is None:
        return _finish(state, pipeline, JobState.FAILED,
                       f"{pipeline.label(ev.number)}: cannot plan its input: {ev.error}", ev)
    return _submit_step(state, pipeline, ev.plan, ev)


def cancel(state: CoordinatorState, ev: JobCancelled) -> list[Command]:
    """Cancelling a pipeline cancels its running step (whose end then ends the pipeline);
    between steps, the pipeline ends at once."""
    pipeline = state.pipelines.get(ev.job_id)
    if pipeline is None:
        return lifecycle.cancel(state, ev)
    if pipeline.final:
        return []
    step = state.jobs.get(pipeline.step_jobs[-1]) if pipeline.step_jobs else None
    if step is not None and step.state not in FINAL_JOB_STATES:
        return lifecycle.cancel(state, JobCancelled(ev.now, step.job_id))
    return _finish(state, pipeline, JobState.CANCELLED, "cancelled by request", ev)


def steps_ended(state: CoordinatorState, ev: Stimulus) -> list[Command]:
    """What follows the step jobs that ended while ``ev`` was handled (the door calls it
    after every handler that ended one)."""
    ended, state.step_ends = state.step_ends, []
    commands: list[Command] = []
    for job in ended:
        pipeline = state.pipelines.get(owner_of(job.job_id))
        if pipeline is not None:
            commands += _step_over(state, pipeline, job, ev)
    return commands


def restored(state: CoordinatorState, ev: Restored) -> list[Command]:
    """Jobs come back as ``recovery.restored`` takes them; then each live pipeline whose
    last step ended before the coordinator could act on it moves on now."""
    commands = recovery.restored(state, ev)
    for pipeline in ev.pipelines:
        state.pipelines[pipeline.job_id] = pipeline
        state.last_job_number = max(state.last_job_number, job_number(pipeline.job_id))
    for pipeline in ev.pipelines:
        if not pipeline.final:
            commands += _resume(state, pipeline, ev)
    return commands


# -- transitions ---------------------------------------------------------------------------
def _resume(state: CoordinatorState, pipeline: PipelineJob, ev: Stimulus) -> list[Command]:
    if not pipeline.step_jobs:          # journaled before its first step: cannot happen
        return _submit_step(state, pipeline, pipeline.steps[0].plan, ev)
    step = state.jobs.get(pipeline.step_jobs[-1])
    if step is None:
        return _finish(state, pipeline, JobState.FAILED,
                       f"{pipeline.label(pipeline.current)}: its job was not journaled", ev)
    if step.state in FINAL_JOB_STATES:
        return _step_over(state, pipeline, step, ev)
    return []


def _submit_step(state: CoordinatorState, pipeline: PipelineJob, plan: JobPlan,
                 ev: Stimulus) -> list[Command]:
    number = pipeline.current + 1
    job_id = step_job_id(pipeline.job_id, number)
    pipeline.step_jobs.append(job_id)
    pipeline.dirty = True
    return lifecycle.submit(state, JobSubmitted(
        ev.now, job_id, step_name(pipeline.name, number, pipeline.total), plan,
        pipeline.codes[number - 1]))


def _step_over(state: CoordinatorState, pipeline: PipelineJob, step: Job,
               ev: Stimulus) -> list[Command]:
    """Step job ``step`` ended: plan the next step, or end the pipeline."""
    if pipeline.final or step.job_id != pipeline.step_jobs[-1]:
        return []
    number = pipeline.current
    if step.state != JobState.SUCCEEDED:
        return _finish(state, pipeline, step.state, f"{pipeline.label(number)}: {step.error}",
                       ev)
    if number == pipeline.total:
        return _finish(state, pipeline, JobState.SUCCEEDED, "", ev)
    step_plan = _for_live_slots(state, pipeline.steps[number])
    return [PlanStep(pipeline.job_id, number + 1, step_plan,
                     tuple(step_inputs(pipeline.output, number + 1)),
                     number + 1 == pipeline.total)]


def _for_live_slots(state: CoordinatorState, step: StepPlan) -> StepPlan:
    """The next step planned for the slots registered now (the client planned it for those
    of its submission); as it was if no worker is registered."""
    slots = sum(worker.slots for worker in state.workers.values())
    return step.for_slots(slots) if slots else step


def _finish(state: CoordinatorState, pipeline: PipelineJob, new: JobState, error: str,
            ev: Stimulus) -> list[Command]:
    pipeline.state, pipeline.error, pipeline.finished_s = new, error, ev.now
    pipeline.dirty = True
    commands: list[Command] = [DropSteps(pipeline.job_id, pipeline.output)]
    if new != JobState.SUCCEEDED:
        commands.append(AbortOutput(pipeline.job_id, pipeline.output))
    return commands
