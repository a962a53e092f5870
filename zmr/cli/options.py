"""The flags every way of running a job shares (``zmr run``, ``zmr submit``), and loading
the job they name."""

from __future__ import annotations

import argparse
from typing import Any

from zmr.core.plan import COMPRESSIONS
from zmr.job.api import JobSpec, Pipeline
from zmr.job.loader import load_runnable, with_reducer_as_combiner
from zmr.job.planning import BAD_UTF8_POLICIES
from zmr.storage.formats import USER_INPUT_FORMATS, USER_OUTPUT_FORMATS


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


def plan_options(args: argparse.Namespace) -> dict[str, Any]:
    """The planning flags as keyword arguments of ``plan_job`` / ``Client.submit``."""
    return dict(reducers=args.reducers, split_size=args.split_size,
                memory_budget=args.memory_budget, on_bad_utf8=args.on_bad_utf8,
                compression=args.compression, skip_bad_records=args.skip_bad_records,
                task_memory=args.task_memory, input_format=args.input_format,
                output_format=args.output_format)
