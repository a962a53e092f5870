"""``zmr run``: run a job to completion, on an embedded local cluster (real coordinator and
worker processes on loopback) or, with ``--inline``, in this very process."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from typing import Any

from zmr.cli.options import add_job_arguments
from zmr.cli.progress import wait_showing_progress
from zmr.client import Client, JobHandle, StepsHandle
from zmr.core.errors import ConfigError, ZmrError
from zmr.job.api import JobSpec, Pipeline
from zmr.job.loader import runnable
from zmr.job.pipeline import PipelineRun
from zmr.job.planning import plan_job
from zmr.runners.inline import JobResult, run_inline
from zmr.runners.local import LocalCluster
from zmr.settings.job import JobOptions
from zmr.storage import commit


def add_run_command(sub: Any) -> None:
    run = sub.add_parser("run", help="run a job to completion and wait for it")
    add_job_arguments(run)
    run.add_argument("--inline", action="store_true",
                     help="run every task in this process (debugging; no cluster)")
    run.add_argument("--workers", type=int, default=None, metavar="N",
                     help="worker processes of the embedded cluster (default: CPU count)")
    run.add_argument("--quiet", "-q", action="store_true", help="print no summary")
    run.set_defaults(handler=cmd_run)


def cmd_run(args: argparse.Namespace) -> int:
    if not args.inline:
        return run_embedded(args)
    result = run_inline(args.job, args.input, args.output, JobOptions.from_args(args))
    if not args.quiet:
        _print_summary(result)
    return 0


def _print_summary(result: JobResult) -> None:
    c = result.counters.get("zmr", {})
    for number, step in enumerate(result.steps, 1):
        print(f"zmr: step {number}/{len(result.steps)} done in {step.elapsed_s:.2f}s: "
              f"{step.num_maps} map tasks, {step.num_reducers} reduce tasks", file=sys.stderr)
    print(f"zmr: done in {result.elapsed_s:.2f}s: {result.num_maps} map tasks, "
          f"{result.num_reducers} reduce tasks -> {result.output}", file=sys.stderr)
    for name in ("MAP_INPUT_RECORDS", "MAP_SKIPPED_RECORDS", "MAP_OUTPUT_RECORDS",
                 "COMBINE_OUTPUT_RECORDS", "SPILLED_RECORDS", "REDUCE_INPUT_GROUPS",
                 "REDUCE_OUTPUT_RECORDS"):
        if name in c:
            print(f"  {name:24s} {c[name]:>14,}", file=sys.stderr)


def run_embedded(args: argparse.Namespace) -> int:
    """``zmr run`` without --inline: start a local cluster, run the job, tear it down.
    The job, its inputs and its output are checked first, so a mistake is reported at once
    instead of after a cluster has been started for nothing."""
    started = time.monotonic()
    if args.workers is not None and args.workers < 1:
        raise ConfigError(f"--workers must be at least 1, got {args.workers}")
    workers = args.workers or os.cpu_count() or 1
    options = JobOptions.from_args(args)
    spec = runnable(args.job, options)
    submit = (_steps_submitter(spec, args, options) if isinstance(spec, Pipeline)
              else _job_submitter(spec, args, options))
    with LocalCluster(workers=workers, log_level=args.log_level or "info") as cluster:
        job = submit(cluster.client)
        try:
            status = wait_showing_progress(job.wait, args.quiet)
        except BaseException:
            _cancel_quietly(job)   # interrupted: the partial output goes with the cluster
            raise
    if not args.quiet:
        _print_embedded_summary(job, status, workers, time.monotonic() - started)
    return 0


def _cancel_quietly(job: JobHandle) -> None:
    """Cancel a job whose run was interrupted (the coordinator removes its partial output),
    without letting a second Ctrl-C or a failure here hide the first interruption."""
    try:
        if isinstance(job, StepsHandle):
            job.run.abort()
        job.client.timeout_s = min(job.client.timeout_s, 5.0)
        job.cancel()
    except (ZmrError, KeyboardInterrupt):
        pass


def _job_submitter(spec: JobSpec, args: argparse.Namespace, options: JobOptions
                   ) -> Callable[[Client], JobHandle]:
    plan = plan_job(spec, args.input, args.output, options)
    overwrite = bool(options.resolved().overwrite)
    commit.refuse_existing(plan.output, overwrite)   # at once, before any process starts
    return lambda client: client.submit_plan(spec, plan, overwrite=overwrite)


def _steps_submitter(spec: Pipeline, args: argparse.Namespace, options: JobOptions
                     ) -> Callable[[Client], JobHandle]:
    run = PipelineRun(spec, args.input, args.output, options)
    return lambda client: StepsHandle(client, run)


def _print_embedded_summary(job: JobHandle, status: dict[str, Any], workers: int,
                            elapsed_s: float) -> None:
    steps = f" ({status['steps']} steps; the last:" if "steps" in status else ""
    print(f"zmr: {job.job_id} done in {elapsed_s:.2f}s on {workers} workers{steps}"
          f" {status['maps_total']} map tasks, {status['reduces_total']} reduce "
          f"tasks{')' if steps else ''} -> {status['output']}", file=sys.stderr)
    skipped = status["counters"].get("zmr", {}).get("MAP_SKIPPED_RECORDS", 0)
    if skipped:
        print(f"zmr: skipped {skipped:,} bad records (--skip-bad-records)", file=sys.stderr)
