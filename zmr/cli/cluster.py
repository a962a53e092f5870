"""Cluster commands of the ``zmr`` CLI: submit, status, wait, cancel, workers, history,
logs and keygen. They find the coordinator through ``--config``
or the ``ZMR_CONFIG`` environment variable (default: built-in loopback settings)."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from collections.abc import Iterator
from typing import Any

from zmr.cli.options import add_job_arguments, job_of
from zmr.cli.progress import wait_showing_progress
from zmr.cli.usage import reused_note, usage_line, worker_shares
from zmr.client import Client
from zmr.config import load_config
from zmr.core.errors import ConfigError
from zmr.coordinator.states import FAILED_ATTEMPT_STATES
from zmr.settings.job import JobOptions
from zmr.transport.security import DEFAULT_KEYS, generate_keys


def add_cluster_commands(sub: Any) -> None:
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
    history = sub.add_parser("history", help="past and present jobs, newest first; or one "
                                             "job's event log (--events)")
    history.add_argument("job_id", nargs="?", default="", metavar="JOB",
                         help="with --events: the job id, or the run name zmr run printed")
    history.add_argument("--events", action="store_true",
                         help="JOB's event log, read from the history directory (no "
                              "cluster needed): a table, or its JSON lines with --json")
    history.add_argument("--limit", type=int, default=20, help="how many jobs (0 = all)")
    history.add_argument("--json", action="store_true")
    logs = sub.add_parser("logs", help="what a job's tasks printed, per attempt")
    logs.add_argument("job_id")
    logs.add_argument("--task", default="", metavar="ID",
                      help="map, reduce, map-N or reduce-N (default: every task)")
    logs.add_argument("--json", action="store_true")
    keygen = sub.add_parser("keygen", help="write CurveZMQ key pairs ([security] keys_dir)")
    keygen.add_argument("names", nargs="*", default=list(DEFAULT_KEYS), metavar="NAME",
                        help="key pairs to make (default: coordinator worker client); every "
                             "name but coordinator is listed in authorized/")
    keygen.add_argument("--keys-dir", default=None,
                        help="where to write them (default: the config's keys_dir)")
    keygen.add_argument("--force", action="store_true", help="replace existing key pairs")
    for parser, handler in ((submit, cmd_submit), (status, cmd_status), (wait, cmd_wait),
                            (cancel, cmd_cancel), (workers, cmd_workers),
                            (history, cmd_history), (logs, cmd_logs), (keygen, cmd_keygen)):
        parser.add_argument("--config", default=None,
                            help="cluster config (default: $ZMR_CONFIG)")
        parser.set_defaults(handler=handler)


def cmd_keygen(args: argparse.Namespace) -> int:
    keys_dir = args.keys_dir or load_config(
        args.config or os.environ.get("ZMR_CONFIG")).security.keys_dir
    for path in generate_keys(keys_dir, tuple(args.names), force=args.force):
        print(path)
    return 0


def _client(args: argparse.Namespace) -> Client:
    return Client(args.config or os.environ.get("ZMR_CONFIG"))


def cmd_submit(args: argparse.Namespace) -> int:
    client = _client(args)
    job = client.submit(job_of(args), args.input, args.output, JobOptions.from_args(args),
                        name=args.name)
    print(job.job_id, flush=True)
    if args.wait:
        with _job_goes_on(job.job_id):
            wait_showing_progress(job.wait, quiet=False)
    return 0


@contextlib.contextmanager
def _job_goes_on(job_id: str) -> Iterator[None]:
    """Interrupting a wait stops the waiting, not the job (as with Hadoop's job client)."""
    try:
        yield
    except KeyboardInterrupt:
        print(f"zmr: stopped waiting; {job_id} goes on (zmr cancel {job_id} stops it)",
              file=sys.stderr)
        raise


def cmd_status(args: argparse.Namespace) -> int:
    jobs = _client(args).status(args.job_id)
    if args.json:
        print(json.dumps(jobs if not args.job_id else jobs[0], indent=2))
        return 0
    if not jobs:
        print("zmr: no jobs on this cluster", file=sys.stderr)
    for job in jobs:
        map_share = job.get("map_progress", job["maps_done"] / max(1, job["maps_total"]))
        print(f"{job['job_id']}  {job['state']:<9}  {_name(job)}  map "
              f"{_percent(round(map_share * 1000), 1000)}"
              f"{reused_note(job.get('counters', {}), job['maps_total'])}  reduce "
              f"{_percent(job['reduces_done'], job['reduces_total'])}  "
              f"{job['elapsed_s']:.1f}s  -> {job['output']}")
        if job.get("params"):
            print(f"    params: {_params(job['params'])}")
        print(f"    {usage_line(job)}")
        if job.get("warning"):
            print(f"    warning: {job['warning']}")
        if args.job_id:
            _print_details(job)
    return 0


def _name(job: dict[str, Any]) -> str:
    """The job's name; a multi-step job's with the step it is at (or failed in), and once
    it succeeded with how many steps it ran (its task counts are all its steps')."""
    if "steps" not in job:
        return str(job["name"])
    if job["state"] == "SUCCEEDED":
        return f"{job['name']} ({job['steps']} steps)"
    return f"{job['name']}[step {job['step']}/{job['steps']}]"


def _params(values: dict[str, Any]) -> str:
    """``NAME=VALUE`` as given with ``--param`` (non-text values as JSON)."""
    return "  ".join(f"{name}={v if isinstance(v, str) else json.dumps(v)}"
                     for name, v in values.items())


def _percent(done: int, total: int) -> str:
    return f"{100 * done // total if total else 100}%"


#: Attempt states, as status replies spell them, that count as a failure of the task.
FAILED = frozenset(state.value for state in FAILED_ATTEMPT_STATES)


def _print_details(job: dict[str, Any]) -> None:
    shares = worker_shares(job)
    if shares:
        print(f"    busy time per worker: {shares}")
    for group, names in job["counters"].items():
        for name, value in names.items():
            print(f"  {group}.{name:<26} {value:>14,}")
    failed = [t for t in job["tasks"] if any(a[4] in FAILED for a in t["attempts"])]
    for task in failed:
        attempts = [a for a in task["attempts"] if a[4] in FAILED]
        print(f"\n{task['task']}-{task['index']:05d} {task['state']}: {len(attempts)} failed "
              f"attempt(s), last on {attempts[-1][1]}")
        print("  " + (task["traceback"] or task["error"]).rstrip().replace("\n", "\n  "))
    if job["error"]:
        print(f"\nerror: {job['error']}")


def cmd_wait(args: argparse.Namespace) -> int:
    client = _client(args)
    with _job_goes_on(args.job_id):
        wait_showing_progress(lambda on_progress: client.wait(args.job_id,
                                                               on_progress=on_progress), False)
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
    if not workers:
        print("zmr: no live workers (start some with ./run_cluster.sh N, or python -m "
              "zmr.worker CONFIG)", file=sys.stderr)
    for w in workers:
        print(f"{w['worker_id']:<24} {w['host']:<16} slots {w['running']}/{w['slots']} in use"
              f"{_queued(w)}  done {w['tasks_done']}  failed {w['tasks_failed']}  "
              f"heartbeat {w['heartbeat_age_s']:.1f}s ago")
    return 0


def _queued(worker: dict[str, Any]) -> str:
    """Attempts prefetched onto a worker, waiting behind its busy slots (not slots)."""
    return f", {worker['queued']} queued" if worker.get("queued") else ""


def cmd_history(args: argparse.Namespace) -> int:
    if args.events or args.job_id:
        from zmr.cli.events import cmd_history_events

        if not (args.events and args.job_id):
            raise ConfigError("zmr history JOB --events: give both a job (or run) and "
                              "--events")
        return cmd_history_events(args)
    jobs = _client(args).history()
    jobs = jobs[-args.limit:] if args.limit > 0 else jobs
    jobs.reverse()
    if args.json:
        print(json.dumps(jobs, indent=2))
        return 0
    if not jobs:
        print("zmr: no jobs in this cluster's history", file=sys.stderr)
    for job in jobs:
        c = job["counters"].get("zmr", {})
        print(f"{job['job_id']}  {job['state']:<9}  {_name(job)}  submitted "
              f"{_when(job['submitted_s'])}  started {_when(job['started_s'])}  ended "
              f"{_when(job['finished_s'])}  ({job['elapsed_s']:.1f}s)")
        print(f"    in:  {', '.join(job['inputs']) or '-'}")
        if job.get("params"):
            print(f"    params: {_params(job['params'])}")
        print(f"    out: {job['output']}   map in {c.get('MAP_INPUT_RECORDS', 0):,} records, "
              f"reduce out {c.get('REDUCE_OUTPUT_RECORDS', 0):,} records")
        print(f"    {usage_line(job)}")
        if job["error"]:
            print(f"    error: {job['error'].splitlines()[0]}")
    return 0


def _when(t: float | None) -> str:
    return "-" if t is None else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t))


def cmd_logs(args: argparse.Namespace) -> int:
    client = _client(args)
    attempts = client.logs(args.job_id, args.task)
    warning = client.job(args.job_id).get("warning")
    if warning:                 # why there may be no (new) logs: nothing can run
        print(f"zmr: warning: {args.job_id}: {warning}", file=sys.stderr)
    if args.json:
        print(json.dumps(attempts, indent=2))
        return 0
    if not attempts:
        print(f"no logs for {args.job_id} {args.task}".rstrip(), file=sys.stderr)
    for a in attempts:
        # a multi-step job's attempts ran in its step jobs: name the step's
        print(f"==> {a.get('job_id', args.job_id)} {a['task']}-{a['index']:05d} attempt "
              f"{a['attempt']} on {a['worker']} ({a['outcome']}) <==")
        print(a["log"] if a["log"].endswith("\n") or not a["log"] else a["log"] + "\n", end="")
    return 0
