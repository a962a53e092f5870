"""Multi-step jobs (``STEPS``): the steps run in order, each reading the one before.

Every step is an ordinary job, planned only once the step before it has succeeded (its
input files exist only then). A step that is not the last writes Arrow pair files
(:mod:`zmr.storage.pairfile`) to ``<output>/_steps/step-N/``, which the next step's map tasks
read as ``(key, value)`` objects; the last step writes the job's text output and
``_SUCCESS``. ``_steps`` is removed when the job ends, whether it succeeded or failed; a
failed job also loses its partial output, as a single-step job does.

:class:`PipelineRun` only sequences and plans: the inline runner runs each step in this
process, and the client submits each to the cluster as a job named ``name[step i/n]``.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass

from zmr.core.errors import ConfigError
from zmr.core.plan import JobPlan
from zmr.job.api import JobSpec, Pipeline
from zmr.job.planning import plan_job
from zmr.settings.job import JobOptions
from zmr.storage import commit, layout
from zmr.storage.formats import ARROW
from zmr.storage.fs import is_uri


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


class PipelineRun:
    """Plans the steps of one run of a multi-step job, one at a time, and cleans up.

    The first step is planned at once, so bad inputs or settings are reported before the
    output directory is touched; then an existing output is refused (or removed with
    ``overwrite``). ``options`` apply to every step (a flag beats a step's setting, which
    beats the default), except the formats: see :meth:`_plan`.
    """

    def __init__(self, pipeline: Pipeline, inputs: list[str] | str, output: str,
                 options: JobOptions | None = None, *, name: str | None = None) -> None:
        self.pipeline = pipeline
        self.inputs = [inputs] if isinstance(inputs, str) else list(inputs)
        if is_uri(output):
            # intermediate steps are Arrow files read in place by the next step's maps
            raise ConfigError(f"{pipeline.name}: a multi-step job writes its intermediate "
                              f"steps next to its output, which must be a local or shared "
                              f"directory, not {output}")
        self.output = os.path.abspath(output)
        self.name = name or pipeline.name
        self.current = 0            # number of the step last handed out
        self.options = options or JobOptions()
        self._pending: StepJob | None = self._plan(1)
        commit.clear_output(self.output, bool(self.options.resolved().overwrite))

    @property
    def total(self) -> int:
        return len(self.pipeline.steps)

    def next_step(self) -> StepJob | None:
        """The next step, planned now that its input exists; None after the last one."""
        if self._pending is None and self.current < self.total:
            self._pending = self._plan(self.current + 1)
        step, self._pending = self._pending, None
        if step is not None:
            self.current = step.number
        return step

    def _plan(self, number: int) -> StepJob:
        last = number == self.total
        inputs = (self.inputs if number == 1
                  else [layout.step_output_dir(self.output, number - 1)])
        output = self.output if last else layout.step_output_dir(self.output, number)
        spec = self.pipeline.steps[number - 1]
        # the job's formats (flags) apply to its input and its final output; between steps
        # the pairs travel as Arrow
        options = self.options.with_values(
            input_format=self.options.input_format if number == 1 else ARROW,
            output_format=self.options.output_format if last else ARROW)
        plan = plan_job(spec, inputs, output, options, allow_empty_input=number > 1)
        return StepJob(number, self.total, spec, plan,
                       f"{self.name}[step {number}/{self.total}]")

    def finish(self) -> None:
        """The last step succeeded: drop the intermediate outputs."""
        shutil.rmtree(layout.steps_dir(self.output), ignore_errors=True)

    def abort(self) -> None:
        """A step failed: drop the intermediate outputs and any partial final output."""
        shutil.rmtree(layout.steps_dir(self.output), ignore_errors=True)
        commit.abort_output(self.output)
