"""The ``zmr`` command line.

``zmr run`` runs a job to completion: on an embedded local cluster by default (real
coordinator and worker processes on loopback, when the cluster runtime is installed), or in
this very process with ``--inline``. Cluster commands (submit, status, ...) are added by
:mod:`zmr.cli_cluster`;
each subcommand registers its function with ``set_defaults(handler=fn)``, ``fn(args) -> int``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from types import ModuleType

from zmr.errors import ZmrError
from zmr.inline import JobResult, run_inline
from zmr.job.api import JobSpec, Pipeline
from zmr.job.loader import load_runnable, with_reducer_as_combiner
from zmr.planning import BAD_UTF8_POLICIES, COMPRESSIONS
from zmr.storage.formats import USER_INPUT_FORMATS, USER_OUTPUT_FORMATS


def _cluster_commands() -> ModuleType | None:
    try:
        return importlib.import_module("zmr.cli_cluster")
    except ModuleNotFoundError as exc:
        if exc.name != "zmr.cli_cluster":
            raise
        return None


def add_job_arguments(p: argparse.ArgumentParser) -> None:
    """The flags every way of running a job shares (run, submit)."""
    p.add_argument("job", help="job module: a path, or a bare name looked up in jobs/")
    p.add_argument("--input", "-i", nargs="+", required=True, metavar="PATH",
                   help="input files, directories (recursive) or globs")
    p.add_argument("--output", "-o", required=True, metavar="DIR",
                   help="output directory (must not exist unless --overwrite)")
    p.add_argument("--reducers", "-r", type=int, default=None, metavar="N",
                   help="number of reduce tasks; 0 = map-only (default: NUM_REDUCERS or 1)")
    p.add_argument("--split-size", default=None, metavar="SIZE",
                   help="input split size, e.g. 8MB (default: SPLIT_SIZE or 64MB)")
    p.add_argument("--memory", dest="memory_budget", default=None, metavar="SIZE",
                   help="per-task sort buffer before spilling (default: MEMORY_BUDGET or 64MB)")
    p.add_argument("--input-format", default=None, choices=USER_INPUT_FORMATS,
                   help="text (default), csv, jsonl, parquet or ipc (default: INPUT_FORMAT)")
    p.add_argument("--output-format", default=None, choices=USER_OUTPUT_FORMATS,
                   help="text (default), jsonl, csv or parquet (default: OUTPUT_FORMAT)")
    p.add_argument("--task-memory", dest="task_memory", default=None, metavar="SIZE",
                   help="hard limit on a task attempt's resident memory; over it the attempt "
                        "is killed and retried (default: TASK_MEMORY or none)")
    p.add_argument("--on-bad-utf8", choices=BAD_UTF8_POLICIES, default="strict",
                   help="invalid UTF-8 in input: fail naming file and offset, or replace")
    p.add_argument("--skip-bad-records", type=int, default=None, metavar="N",
                   help="skip up to N input records (in all) whose mapper call raises, "
                        "logging where they are (default: SKIP_BAD_RECORDS or 0)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an existing output directory")
    p.add_argument("--compression", choices=COMPRESSIONS, default=None,
                   help="codec of intermediate files (default: COMPRESSION or none)")
    p.add_argument("--combiner", action="store_true",
                   help="use the reducer as combiner too (like COMBINER = \"reducer\")")


def job_from_args(args: argparse.Namespace) -> JobSpec | Pipeline:
    """Load the job named on the command line (one step or several), with --combiner."""
    spec = load_runnable(args.job)
    return with_reducer_as_combiner(spec) if args.combiner else spec


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="zmr", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = sub.add_parser("run", help="run a job to completion and wait for it")
    add_job_arguments(run)
    run.add_argument("--inline", action="store_true",
                     help="run every task in this process (debugging; no cluster)")
    run.add_argument("--workers", type=int, default=None, metavar="N",
                     help="worker processes of the embedded cluster (default: CPU count)")
    run.add_argument("--quiet", "-q", action="store_true", help="print no summary")
    cluster = _cluster_commands()
    if cluster is not None:
        cluster.add_cluster_commands(sub)
    return parser


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


def cmd_run(args: argparse.Namespace) -> int:
    cluster = _cluster_commands()
    if not args.inline and cluster is not None:
        return int(cluster.run_embedded(args))
    result = run_inline(job_from_args(args), args.input, args.output, reducers=args.reducers,
                        split_size=args.split_size, memory_budget=args.memory_budget,
                        overwrite=args.overwrite, on_bad_utf8=args.on_bad_utf8,
                        compression=args.compression, skip_bad_records=args.skip_bad_records,
                        task_memory=args.task_memory, input_format=args.input_format,
                        output_format=args.output_format)
    if not args.quiet:
        _print_summary(result)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler = cmd_run if args.command == "run" else args.handler
    try:
        return int(handler(args))
    except ZmrError as exc:
        print(f"zmr: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("zmr: interrupted", file=sys.stderr)
        return 130
