"""What every way of running a job to completion shares: one result type, one runner
protocol. (The output is checked, before any work starts, by
:func:`zmr.storage.output_safety.check_job`, which every entry point calls.)

Runners (mrjob's runner split, by composition): :class:`zmr.runners.inline.InlineRunner`
runs every task in this process; :class:`zmr.runners.embedded.EmbeddedRunner` starts a
local cluster of real processes, submits the job and waits. Both take the job (a module
path, a ``JobSpec`` or a ``Pipeline``), its inputs and output and one ``JobOptions``, and
return a :class:`JobResult`.
"""

from __future__ import annotations

from typing import Protocol

from zmr.job.api import JobSpec, Pipeline
from zmr.job.result import JobResult
from zmr.settings.job import JobOptions


class Runner(Protocol):
    """Runs a job to completion, or raises (``JobFailedError`` when a task failed)."""

    def run(self, job: str | JobSpec | Pipeline, inputs: list[str], output: str,
            options: JobOptions) -> JobResult: ...

