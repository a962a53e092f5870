"""The embedded runner behind ``zmr run`` (without ``--inline``): a local cluster of real
coordinator and worker processes on loopback, the job submitted to it and waited for, and
the cluster torn down. The job, its inputs and its output are checked before the cluster
starts, so a mistake is reported at once instead of after processes were started for
nothing; an interrupted run cancels its job, so the coordinator removes the partial output.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any, TextIO

from zmr.client import Client, JobHandle
from zmr.core.errors import ConfigError
from zmr.job.api import JobSpec, Pipeline
from zmr.job.loader import runnable
from zmr.job.pipeline import plan_steps
from zmr.runners.base import JobResult
from zmr.runners.local import LocalCluster, cluster_slots
from zmr.runners.run_log import keep_cluster_log
from zmr.settings.job import JobOptions
from zmr.storage.output_safety import check_job
from zmr.tasks.sampling import plan_sorted_job

Wait = Callable[[Callable[..., dict[str, Any]]], dict[str, Any]]


class EmbeddedRunner:
    """The :class:`~zmr.runners.base.Runner` on a local cluster of ``workers`` processes.
    ``wait(job.wait)`` waits for the job (the CLI passes one that shows progress);
    ``echo_logs`` gets the cluster's log lines as they are written (``--log-level``)."""

    def __init__(self, workers: int | None = None, log_level: str = "info",
                 wait: Wait | None = None,
                 started: Callable[[LocalCluster], None] | None = None,
                 echo_logs: TextIO | None = None) -> None:
        if workers is not None and workers < 1:
            raise ConfigError(f"--workers must be at least 1, got {workers}")
        self.workers = workers or os.cpu_count() or 1
        self.log_level = log_level
        self.echo_logs = echo_logs
        self.wait: Wait = wait or (lambda job_wait: job_wait())
        # told the cluster once it runs (the CLI prints its dashboard's address)
        self.started = started or (lambda cluster: None)

    def run(self, job: str | JobSpec | Pipeline, inputs: list[str], output: str,
            options: JobOptions) -> JobResult:
        started = time.monotonic()
        spec = runnable(job, options)
        # planned before the cluster starts, for the slots it will have
        slots = cluster_slots(self.workers)
        submit = (_steps_submitter(spec, inputs, output, options, slots)
                  if isinstance(spec, Pipeline)
                  else _job_submitter(spec, inputs, output, options, slots))
        with LocalCluster(workers=self.workers, log_level=self.log_level,
                          echo_logs=self.echo_logs) as cluster:
            self.started(cluster)
            handle = submit(cluster.client)
            try:
                status = self.wait(handle.wait)
            except BaseException:
                handle.cancel_quietly()
                _keep_log(cluster, handle.job_id)    # a cancel is logged before its answer
                raise
            run_id = _keep_log(cluster, handle.job_id)
        result = JobResult.from_status(status, handle.job_id, self.workers,
                                       time.monotonic() - started)
        result.events = run_id
        return result


def _keep_log(cluster: LocalCluster, job_id: str) -> str:
    """Keep the job's event log among the local runs before the cluster (and its state
    directory) goes: the run's name."""
    return keep_cluster_log(cluster.settings[("coordinator", "state_dir")], job_id)


def _job_submitter(spec: JobSpec, inputs: list[str], output: str, options: JobOptions,
                   slots: int) -> Callable[[Client], JobHandle]:
    plan = plan_sorted_job(spec, inputs, output, options, slots)
    overwrite = bool(options.resolved().overwrite)
    check_job([plan], spec.source, overwrite)
    return lambda client: client.submit_plan(spec, plan, overwrite=overwrite)


def _steps_submitter(spec: Pipeline, inputs: list[str], output: str, options: JobOptions,
                     slots: int) -> Callable[[Client], JobHandle]:
    """A multi-step job is submitted whole, as on any cluster: the coordinator runs it."""
    steps = plan_steps(spec, inputs, output, options, slots)
    overwrite = bool(options.resolved().overwrite)
    check_job([step.plan for step in steps], spec.source, overwrite)
    return lambda client: client.submit_steps(spec, steps, overwrite=overwrite)
