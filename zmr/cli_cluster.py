"""Cluster commands of the ``zmr`` CLI: submit, status, wait, cancel, workers, and the
embedded local cluster behind ``zmr run``. They find the coordinator through ``--config``
or the ``ZMR_CONFIG`` environment variable (default: built-in loopback settings)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any

from zmr.client import Client
from zmr.errors import ConfigError, OutputError
from zmr.job.loader import load_job
from zmr.local import LocalCluster
from zmr.planning import plan_job


def add_cluster_commands(sub: Any) -> None:
    from zmr.cli import add_job_arguments

    submit = sub.add_parser("submit", help="submit a job to a running cluster")
    add_job_arguments(submit)
    submit.add_argument("--name", default=None, help="job name (default: module name)")
    submit.add_argument("--wait", action="store_true",
                        help="wait for the job; exit 0 only once _SUCCESS is written")
    status = sub.add_parser("status", help="state and progress of a job (or of all jobs)")
    status.add_argument("job_id", nargs="?", default="")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    wait = sub.add_parser("wait", help="wait for a job to finish")
    wait.add_argument("job_id")
    cancel = sub.add_parser("cancel", help="cancel a job")
    cancel.add_argument("job_id")
    workers = sub.add_parser("workers", help="live workers")
    workers.add_argument("--json", action="store_true")
    for parser, handler in ((submit, cmd_submit), (status, cmd_status), (wait, cmd_wait),
                            (cancel, cmd_cancel), (workers, cmd_workers)):
        parser.add_argument("--config", default=None,
                            help="cluster config (default: $ZMR_CONFIG)")
        parser.set_defaults(handler=handler)


def _client(args: argparse.Namespace) -> Client:
    return Client(args.config or os.environ.get("ZMR_CONFIG"))


#: Off a terminal, a progress line is printed when progress changes, or after this long.
PLAIN_PROGRESS_EVERY_S = 10.0


def _progress_printer(quiet: bool) -> Any:
    last = ["", float("-inf")]

    def show(status: dict[str, Any]) -> None:
        progress = (f"{status['job_id']} {status['state']}: map {status['maps_done']}/"
                    f"{status['maps_total']}  reduce {status['reduces_done']}/"
                    f"{status['reduces_total']}")
        line = f"{progress}  {status['elapsed_s']:.1f}s"
        tty = sys.stderr.isatty()
        # On a terminal the line is redrawn in place; in a log (Hadoop's "map 25% reduce 0%"
        # lines) only changes are worth a line, plus a sign of life now and then.
        if quiet or (not tty and progress == last[0]
                     and status["elapsed_s"] - last[1] < PLAIN_PROGRESS_EVERY_S):
            return
        last[0], last[1] = progress, status["elapsed_s"]
        print(line, file=sys.stderr, end="\r" if tty else "\n", flush=True)

    return show


def cmd_submit(args: argparse.Namespace) -> int:
    client = _client(args)
    job = client.submit(args.job, args.input, args.output, reducers=args.reducers,
                        split_size=args.split_size, memory_budget=args.memory_budget,
                        on_bad_utf8=args.on_bad_utf8, overwrite=args.overwrite, name=args.name)
    print(job.job_id)
    if args.wait:
        job.wait(on_progress=_progress_printer(False))
        print(file=sys.stderr)
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    jobs = _client(args).status(args.job_id)
    if args.json:
        print(json.dumps(jobs if not args.job_id else jobs[0], indent=2))
        return 0
    for job in jobs:
        print(f"{job['job_id']}  {job['state']:<9}  {job['name']}  map "
              f"{_percent(job['maps_done'], job['maps_total'])}  reduce "
              f"{_percent(job['reduces_done'], job['reduces_total'])}  "
              f"{job['elapsed_s']:.1f}s  -> {job['output']}")
        if args.job_id:
            _print_details(job)
    return 0


def _percent(done: int, total: int) -> str:
    return f"{100 * done // total if total else 100}%"


def _print_details(job: dict[str, Any]) -> None:
    for group, names in job["counters"].items():
        for name, value in names.items():
            print(f"  {group}.{name:<26} {value:>14,}")
    if job["error"]:
        print(f"\nerror: {job['error']}")


def cmd_wait(args: argparse.Namespace) -> int:
    _client(args).wait(args.job_id, on_progress=_progress_printer(False))
    print(file=sys.stderr)
    return 0


def cmd_cancel(args: argparse.Namespace) -> int:
    _client(args).cancel(args.job_id)
    print(f"{args.job_id} cancelled")
    return 0


def cmd_workers(args: argparse.Namespace) -> int:
    workers = _client(args).workers()
    if args.json:
        print(json.dumps(workers, indent=2))
        return 0
    for w in workers:
        print(f"{w['worker_id']:<24} {w['host']:<16} slots {w['slots']}  "
              f"done {w['tasks_done']}  failed {w['tasks_failed']}  "
              f"heartbeat {w['heartbeat_age_s']:.1f}s ago")
    return 0


def run_embedded(args: argparse.Namespace) -> int:
    """``zmr run`` without --inline: start a local cluster, run the job, tear it down.
    The job, its inputs and its output are checked first, so a mistake is reported at once
    instead of after a cluster has been started for nothing."""
    started = time.monotonic()
    if args.workers is not None and args.workers < 1:
        raise ConfigError(f"--workers must be at least 1, got {args.workers}")
    workers = args.workers or os.cpu_count() or 1
    spec = load_job(args.job)
    plan = plan_job(spec, args.input, args.output, reducers=args.reducers,
                    split_size=args.split_size, memory_budget=args.memory_budget,
                    on_bad_utf8=args.on_bad_utf8)
    if os.path.lexists(plan.output) and not args.overwrite:
        raise OutputError(f"output directory {plan.output} already exists "
                          "(remove it or pass --overwrite)")
    with LocalCluster(workers=workers) as cluster:
        job = cluster.client.submit_plan(spec, plan, overwrite=args.overwrite)
        status = job.wait(on_progress=_progress_printer(args.quiet))
    if not args.quiet:
        print(f"\nzmr: {job.job_id} done in {time.monotonic() - started:.2f}s on {workers} "
              f"workers: {status['maps_total']} map tasks, {status['reduces_total']} reduce "
              f"tasks -> {status['output']}", file=sys.stderr)
    return 0
