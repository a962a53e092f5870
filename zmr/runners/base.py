"""What every way of running a job to completion shares: one result type, one runner
protocol, and the one check of the output made before any work starts.

Runners (mrjob's runner split, by composition): :class:`zmr.runners.inline.InlineRunner`
runs every task in this process; :class:`zmr.runners.embedded.EmbeddedRunner` starts a
local cluster of real processes, submits the job and waits. Both take the job (a module
path, a ``JobSpec`` or a ``Pipeline``), its inputs and output and one ``JobOptions``, and
return a :class:`JobResult`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from zmr.job.api import JobSpec, Pipeline
from zmr.job.counters import CounterDict
from zmr.settings.job import JobOptions
from zmr.storage import commit


@dataclass
class JobResult:
    """What a finished job produced, whichever runner ran it."""

    output: str
    num_maps: int
    num_reducers: int
    elapsed_s: float
    counters: CounterDict = field(default_factory=dict)
    steps: list[JobResult] = field(default_factory=list)    # a multi-step job's, in order
    job_id: str = "inline"      # the cluster's id for it
    workers: int = 0            # worker processes it ran on (0: in this process)
    num_steps: int = 1


class Runner(Protocol):
    """Runs a job to completion, or raises (``JobFailedError`` when a task failed)."""

    def run(self, job: str | JobSpec | Pipeline, inputs: list[str], output: str,
            options: JobOptions) -> JobResult: ...


def check_output(output: str, overwrite: bool) -> None:
    """Refuse an existing output before any work starts (with ``overwrite`` it is replaced
    when the job starts: by the inline runner, or by the coordinator, which checks again
    because any client may submit to it)."""
    commit.refuse_existing(output, overwrite)
