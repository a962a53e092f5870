"""Multi-step jobs (``STEPS``): the steps run in order, each reading the one before.

Every step is an ordinary job. Its settings are resolved when the job is submitted
(:func:`plan_steps`: that needs the job module), its splits only once the step before it has
succeeded (its input files exist only then; :func:`zmr.job.planning.plan_input` needs no job
code, so the coordinator does it for a cluster job). A step that is not the last writes Arrow
pair files (:mod:`zmr.storage.pairfile`) to ``<output>/_steps/step-N/``, which the next
step's map tasks read as ``(key, value)`` objects; the last step writes the job's text output
and ``_SUCCESS``. ``_steps`` is removed when the job ends, whether it succeeded or failed; a
failed job also loses its partial output, as a single-step job does.

On a cluster the coordinator runs the steps (``zmr.coordinator.pipelines``); the inline
runner runs them in this process with :class:`PipelineRun`.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from dataclasses import dataclass

from zmr.core.errors import ConfigError
from zmr.core.plan import JobPlan, StepPlan
from zmr.job.api import JobSpec, Pipeline
from zmr.job.inputs import Inputs, input_args
from zmr.job.planning import plan_input, plan_job, plan_settings
from zmr.settings.job import JobOptions
from zmr.storage import commit, layout
from zmr.storage.formats import ARROW
from zmr.storage.fs import is_uri
from zmr.storage.output_safety import check_job


@dataclass(frozen=True)
class StepJob:
    """One step, planned and ready to run."""

    number: int             # 1-based
    total: int
    spec: JobSpec
    plan: JobPlan
    name: str               # "name[step i/n]"

    @property
    def label(self) -> str:
        return f"step {self.number}/{self.total}"


def step_name(name: str, number: int, total: int) -> str:
    """How a step is named: ``name[step i/n]``."""
    return f"{name}[step {number}/{total}]"


def plan_steps(pipeline: Pipeline, inputs: Inputs, output: str,
               options: JobOptions | None = None, parallelism: int = 1) -> list[StepPlan]:
    """Every step's settings, resolved now for ``parallelism`` slots, and the first step's
    splits, so bad inputs or settings are reported before anything runs. ``options`` apply
    to every step (a flag beats a step's setting, which beats the default), except the
    formats (``_settings``). A coordinator plans the later steps again for its live slots
    (:meth:`StepPlan.for_slots`)."""
    if is_uri(output):
        # intermediate steps are Arrow files read in place by the next step's maps
        raise ConfigError(f"{pipeline.name}: a multi-step job writes its intermediate "
                          f"steps next to its output, which must be a local or shared "
                          f"directory, not {output}")
    output = os.path.abspath(output)
    total = len(pipeline.steps)
    options = options or JobOptions()
    steps = [_settings(spec, number, total, output, options, parallelism)
             for number, spec in enumerate(pipeline.steps, 1)]
    if any(step.plan.ordering.get("total_order") for step in steps):
        # its key ranges are sampled with the job's code, which only the client runs, and
        # a later step's input does not exist yet
        raise ConfigError(f"{pipeline.name}: PARTITIONER = \"total_order\" is for "
                          "single-step jobs; sort in a job of its own after this one")
    # the first step reads the job's input: its paths, or the INPUTS of the job
    first = plan_job(pipeline.steps[0], inputs, _step_output(output, 1, total),
                     _step_options(options, 1, total), parallelism=parallelism)
    return [dataclasses.replace(steps[0], plan=first), *steps[1:]]


def step_inputs(output: str, number: int) -> list[str]:
    """Where step ``number`` (> 1) reads: the output of the step before."""
    return [layout.step_output_dir(output, number - 1)]


def _settings(spec: JobSpec, number: int, total: int, output: str,
              options: JobOptions, parallelism: int) -> StepPlan:
    return plan_settings(spec, _step_output(output, number, total),
                         _step_options(options, number, total), parallelism)


def _step_options(options: JobOptions, number: int, total: int) -> JobOptions:
    # the job's formats (flags) apply to its input and its final output; between steps
    # the pairs travel as Arrow
    return options.with_values(
        input_format=options.input_format if number == 1 else ARROW,
        output_format=options.output_format if number == total else ARROW)


def _step_output(output: str, number: int, total: int) -> str:
    return output if number == total else layout.step_output_dir(output, number)


class PipelineRun:
    """Plans the steps of one run of a multi-step job in this process, one at a time, and
    cleans up. Every step's settings and the first step's splits are planned at once
    (:func:`plan_steps`); then an output among the inputs is refused, and an existing
    one too (or removed with ``overwrite``, if zmr wrote it: :func:`check_job`)."""

    def __init__(self, pipeline: Pipeline, inputs: Inputs, output: str,
                 options: JobOptions | None = None, *, name: str | None = None) -> None:
        self.pipeline = pipeline
        inputs = input_args(inputs)
        self.options = options or JobOptions()
        self.steps = plan_steps(pipeline, inputs, output, self.options)
        self.output = os.path.abspath(output)
        self.name = name or pipeline.name
        self.current = 0            # number of the step last handed out
        overwrite = bool(self.options.resolved().overwrite)
        check_job([step.plan for step in self.steps], pipeline.source, overwrite)
        commit.clear_output(self.output, overwrite)

    @property
    def total(self) -> int:
        return len(self.pipeline.steps)

    def next_step(self) -> StepJob | None:
        """The next step, planned now that its input exists; None after the last one."""
        if self.current == self.total:
            return None
        number = self.current + 1
        step = self.steps[number - 1]
        plan = step.plan if number == 1 else plan_input(
            step, step_inputs(self.output, number), allow_empty=True)
        self.current = number
        return StepJob(number, self.total, self.pipeline.steps[number - 1], plan,
                       step_name(self.name, number, self.total))

    def finish(self) -> None:
        """The last step succeeded: drop the intermediate outputs."""
        shutil.rmtree(layout.steps_dir(self.output), ignore_errors=True)

    def abort(self) -> None:
        """A step failed: drop the intermediate outputs and any partial final output."""
        shutil.rmtree(layout.steps_dir(self.output), ignore_errors=True)
        commit.abort_output(self.output)
