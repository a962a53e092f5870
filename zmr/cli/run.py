"""``zmr run``: run a job to completion, on an embedded local cluster (real coordinator and
worker processes on loopback) or, with ``--inline``, in this very process; both through
the runner protocol of :mod:`zmr.runners.base`."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING, Any

from zmr.cli.options import add_job_arguments, job_of
from zmr.cli.progress import wait_showing_progress
from zmr.cli.usage import reused_note, usage_line, worker_shares
from zmr.core import pandas_probe
from zmr.core.process import LOG_LEVELS
from zmr.core.errors import ConfigError
from zmr.settings.job import JobOptions

if TYPE_CHECKING:
    from zmr.runners.base import JobResult, Runner
    from zmr.runners.local import LocalCluster


def add_run_command(sub: Any) -> None:
    run = sub.add_parser("run", help="run a job to completion and wait for it")
    add_job_arguments(run)
    run.add_argument("--inline", action="store_true",
                     help="run every task in this process (debugging; no cluster)")
    run.add_argument("--workers", type=int, default=None, metavar="N",
                     help="worker processes of the embedded cluster (default: CPU count)")
    run.add_argument("--quiet", "-q", action="store_true", help="print no summary")
    # also after the command (zmr run ... --log-level debug), as zmr --log-level debug run
    run.add_argument("--log-level", choices=LOG_LEVELS, default=argparse.SUPPRESS,
                     help="as zmr --log-level: what zmr logs, and the embedded cluster's "
                          "log lines on stderr at this level")
    run.set_defaults(handler=cmd_run)


def cmd_run(args: argparse.Namespace) -> int:
    # imported here: every other command (``zmr --help`` too) goes without pyarrow
    from zmr.runners.embedded import EmbeddedRunner
    from zmr.runners.inline import InlineRunner

    if args.inline and getattr(args, "own_process", False):
        pandas_probe.skip()     # this process is zmr's: its tasks need not import pandas
    args.exit_at_once = not args.inline     # no task runs here: skip the teardown
    runner: Runner = InlineRunner() if args.inline else EmbeddedRunner(
        args.workers, args.log_level or "info",
        lambda job_wait: wait_showing_progress(job_wait, args.quiet),
        None if args.quiet else _say_dashboard,
        # a level asked for: the coordinator's and workers' lines too, not only zmr run's
        sys.stderr if args.log_level else None)
    options = JobOptions.from_args(args)
    if args.output != STDOUT:
        result = runner.run(job_of(args), args.input, args.output, options)
    else:
        result = _run_to_stdout(runner, args, options)
    if not args.quiet:
        _print_summary(result)
    return 0


#: ``--output -``: the output's lines go to stdout (mrjob's default), the summary to stderr.
STDOUT = "-"


def _run_to_stdout(runner: Runner, args: argparse.Namespace, options: JobOptions
                   ) -> JobResult:
    """Run into a scratch output, write its part files to stdout in order, remove it."""
    import glob
    import shutil

    from zmr.storage.layout import fresh_output

    if options.output_format == "parquet":
        raise ConfigError("--output -: Parquet is not lines; give an output directory")
    output = fresh_output()
    try:
        result = runner.run(job_of(args), args.input, output, options)
        parts = sorted(glob.glob(os.path.join(output, "part-*")))
        if any(part.endswith(".parquet") for part in parts):
            raise ConfigError("--output -: the job writes Parquet (OUTPUT_FORMAT), which is "
                              "not lines; give an output directory")
        sys.stdout.flush()
        for part in parts:
            with open(part, "rb") as f:
                shutil.copyfileobj(f, sys.stdout.buffer)
        sys.stdout.buffer.flush()
    finally:
        shutil.rmtree(os.path.dirname(output), ignore_errors=True)
    result.output = STDOUT
    return result


def _say_dashboard(cluster: LocalCluster) -> None:
    """Where to watch the run: the embedded cluster's dashboard, while the run lasts."""
    if cluster.dashboard_url:
        print(f"zmr: dashboard {cluster.dashboard_url} (while this run lasts)",
              file=sys.stderr)


def _print_summary(result: JobResult) -> None:
    c = result.counters.get("zmr", {})
    for number, step in enumerate(result.steps, 1):
        print(f"zmr: step {number}/{len(result.steps)} done in {step.elapsed_s:.2f}s: "
              f"{step.num_maps} map tasks{_reused(step)}, {step.num_reducers} reduce tasks", file=sys.stderr)
    where = f" on {result.workers} workers" if result.workers else ""
    steps = f" ({result.num_steps} steps; the last:" if result.num_steps > 1 and \
        not result.steps else ""
    print(f"zmr: {result.job_id} done in {result.elapsed_s:.2f}s{where}{steps or ':'} "
          f"{result.num_maps} map tasks{_reused(result)}, {result.num_reducers} reduce "
          f"tasks{_coalesced(result)}"
          f"{')' if steps else ''} -> {result.output}", file=sys.stderr)
    _print_usage(result)
    if result.events:
        print(f"zmr: event log: zmr history {result.events} --events", file=sys.stderr)
    from zmr.storage.quarantine import quarantine_dir     # lazily: a light CLI start
    skipped = c.get("MAP_SKIPPED_RECORDS", 0)
    if skipped:
        print(f"zmr: skipped {skipped:,} bad records (--skip-bad-records), kept with their "
              f"errors in {quarantine_dir(result.output)}/ (zmr replay JOB --entry FILE:N "
              f"runs the mapper on one again)", file=sys.stderr)
    for name, value in summary_counters(result.counters):
        print(f"  {name:24s} {value:>14,}", file=sys.stderr)


def summary_counters(counters: dict[str, dict[str, int]]) -> list[tuple[str, int]]:
    """What the summary shows of a run's counters, inline or on a cluster alike (mrjob
    prints its counters too): the main built-in ones, then every counter of the job's own
    groups as ``group/NAME`` (the embedded cluster is gone when the run ends, so this is
    the one place a user sees them without the Python API)."""
    built_in = counters.get("zmr", {})
    shown = [(name, built_in[name]) for name in SUMMARY_COUNTERS if name in built_in]
    return shown + [(f"{group}/{name}", value)
                    for group, named in sorted(counters.items())
                    if group != "zmr" and not group.startswith("zmr.")
                    for name, value in sorted(named.items())]


def _print_usage(result: JobResult) -> None:
    from zmr.job.result import USAGE_KEYS     # after the run: keeps the CLI's start light
    usage = {key: getattr(result, key) for key in USAGE_KEYS}
    print(f"zmr: {usage_line(usage)}", file=sys.stderr)
    shares = worker_shares(usage) if result.workers else ""      # inline: one, this process
    if shares:
        print(f"zmr: busy time per worker: {shares}", file=sys.stderr)


def _reused(result: JobResult) -> str:
    """`` (map 28/30 reused)``: the map tasks --reuse did not run; for a multi-step job,
    on each step's line (its last step's line counts the maps of all its steps)."""
    if result.num_steps > 1 or result.steps:
        reused = result.maps_reused
        return f" ({reused} maps reused in all steps)" if reused and not result.steps else ""
    return reused_note(result.counters, result.num_maps)


def _coalesced(result: JobResult) -> str:
    """What the summary adds when fewer reduce tasks read more partitions."""
    if result.partitions > result.num_reducers:
        return f" ({result.partitions} partitions coalesced)"
    return ""


#: Counters the summary of an inline run shows.
SUMMARY_COUNTERS = ("MAP_INPUT_RECORDS", "MAP_SKIPPED_RECORDS", "MAP_OUTPUT_RECORDS",
                    "COMBINE_OUTPUT_RECORDS", "SPILLED_RECORDS", "REDUCE_INPUT_GROUPS",
                    "REDUCE_OUTPUT_RECORDS")
