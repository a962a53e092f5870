"""Turning a job and its inputs into tasks: splits, reducer count, budgets.

Precedence of every setting: command-line flag > job module setting > default.
"""

from __future__ import annotations

import os
from typing import Any

import pyarrow as pa

from zmr.core.errors import ConfigError, InputError
from zmr.core.plan import (
    COMPRESSIONS,
    DEFAULT_COMPRESSION,
    JobPlan,
    output_format_name,
    resources,
)
from zmr.core.specs import Split
from zmr.job.api import JobSpec
from zmr.storage.formats import ARROW, INPUT_FORMATS, TEXT
from zmr.storage.fs import is_uri
from zmr.storage.fs import local_path as fs_local
from zmr.storage.input_formats import check_options
from zmr.storage.locality import hosts_holding
from zmr.storage.splits import list_inputs, parse_size, plan_splits

DEFAULT_SPLIT_SIZE = 64 << 20        # Hadoop's classic block size
DEFAULT_MEMORY_BUDGET = 64 << 20     # map-side sort buffer (Hadoop's io.sort.mb was 100)
#: With a hard --task-memory limit, the spill budget is capped at this share of it, so an
#: attempt spills well before the worker kills it (the rest is the interpreter, Arrow, input).
SPILL_SHARE_OF_TASK_MEMORY = 0.5
DEFAULT_REDUCERS = 1                 # Hadoop's mapreduce.job.reduces default
BAD_UTF8_POLICIES = ("strict", "replace")


def _pick(flag: Any, job: JobSpec, setting: str, default: Any) -> Any:
    if flag is not None:
        return flag
    return job.setting(setting, default)


def _skip_limit(job: JobSpec, flag: int | None) -> int:
    skip = _pick(flag, job, "SKIP_BAD_RECORDS", 0)
    if type(skip) is not int or skip < 0:
        raise ConfigError(f"skip_bad_records must be an integer >= 0, got {skip!r}")
    if skip and job.map_batch is not None:
        # a batch call that raises cannot say which of its records was bad
        raise ConfigError(f"{job.source}: skip_bad_records covers mapper calls, not map_batch")
    return skip


def plan_job(job: JobSpec, inputs: list[str], output: str, *, reducers: int | None = None,
             split_size: int | str | None = None, memory_budget: int | str | None = None,
             on_bad_utf8: str = "strict", speculative: bool | None = None,
             compression: str | None = None,
             skip_bad_records: int | None = None,
             task_memory: int | str | None = None,
             allow_empty_input: bool = False, input_format: str | None = None,
             output_format: str | None = None, combine_files: bool | None = None
             ) -> JobPlan:
    """Discover inputs and cut them into splits; resolve every setting once. The formats
    are "arrow" only between the steps of a multi-step job (:mod:`zmr.job.pipeline`)."""
    num_reducers = _pick(reducers, job, "NUM_REDUCERS", DEFAULT_REDUCERS)
    if not isinstance(num_reducers, int) or num_reducers < 0:
        raise ConfigError(f"reducers must be an integer >= 0, got {num_reducers!r}")
    size = parse_size(_pick(split_size, job, "SPLIT_SIZE", DEFAULT_SPLIT_SIZE), "split size")
    budget = parse_size(_pick(memory_budget, job, "MEMORY_BUDGET", DEFAULT_MEMORY_BUDGET),
                        "memory budget")
    limit = _pick(task_memory, job, "TASK_MEMORY", None)
    limit = 0 if limit is None else parse_size(limit, "task memory")
    if on_bad_utf8 not in BAD_UTF8_POLICIES:
        raise ConfigError(f"on_bad_utf8 must be one of {BAD_UTF8_POLICIES}, got {on_bad_utf8!r}")
    speculate = _pick(speculative, job, "SPECULATIVE", True)
    codec = _pick(compression, job, "COMPRESSION", DEFAULT_COMPRESSION)
    if codec not in COMPRESSIONS:
        raise ConfigError(f"compression must be one of {', '.join(COMPRESSIONS)}, got {codec!r}")
    skip = _skip_limit(job, skip_bad_records)
    fmt = _input_format(job, _pick(input_format, job, "INPUT_FORMAT", TEXT))
    splits = _plan_input(inputs, size, fmt, _combine(job, combine_files), allow_empty_input)
    output = output if is_uri(output) else os.path.abspath(fs_local(output))
    return JobPlan(splits, num_reducers, spill_budget(budget, limit), on_bad_utf8,
                   output, bool(speculate), codec, skip, limit,
                   resources(job.setting("RESOURCES", {}), job.source),
                   output_format_name(_pick(output_format, job, "OUTPUT_FORMAT", TEXT)),
                   _format_options(job))


def _plan_input(inputs: list[str], split_size: int, input_format: str, combine: bool,
                allow_empty: bool) -> list[Split]:
    """List the inputs once and cut (and pack) them into splits that know their hosts."""
    files = list_inputs(inputs)
    hosts = {f.path: hosts_holding(f.path, f.symlink) for f in files}
    splits = plan_splits(files, split_size, input_format, combine=combine, hosts=hosts)
    if not splits and not allow_empty:
        # almost always a wrong path or a failed upstream export: say so instead of
        # committing an empty output that looks like success
        names = [f.path for f in files[:5]]
        raise InputError(f"the input is empty: {', '.join(names)}"
                         f"{' ...' if len(files) > 5 else ''} hold no data (0 bytes)")
    return splits


def _combine(job: JobSpec, flag: bool | None) -> bool:
    """``COMBINE_FILES`` (default on): pack small files and file tails into shared splits."""
    combine = _pick(flag, job, "COMBINE_FILES", True)
    if not isinstance(combine, bool):
        raise ConfigError(f"combine_files must be True or False, got {combine!r}")
    return combine


def _format_options(job: JobSpec) -> dict[str, Any]:
    """What the input and output formats need beyond their names (see storage.formats and
    storage.input_formats)."""
    options = {"columns": job.setting("INPUT_COLUMNS", None),
               "records": job.setting("INPUT_RECORDS", "dict"),
               "column_types": job.setting("CSV_COLUMN_TYPES", {}),
               "schema": job.setting("OUTPUT_SCHEMA", {})}
    check_options(options, job.source)
    schema = options["schema"]
    if schema and (set(schema) != {"key", "value"} or not _arrow_types(schema.values())):
        raise ConfigError(f"{job.source}: OUTPUT_SCHEMA must map key and value to Arrow "
                          f"type names such as int64, double, string; got {schema!r}")
    return {k: v for k, v in options.items() if v}


def _arrow_types(names: Any) -> bool:
    try:
        return all(isinstance(n, str) and pa.type_for_alias(n) for n in names)
    except (ValueError, TypeError):
        return False


def _input_format(job: JobSpec, input_format: str) -> str:
    if input_format not in INPUT_FORMATS:
        raise ConfigError(f"input format must be one of {', '.join(INPUT_FORMATS)}, "
                          f"got {input_format!r}")
    if input_format == ARROW and job.map_batch is not None:
        raise ConfigError(f"{job.source}: map_batch reads text lines; a later step of a "
                          "multi-step job needs mapper(key, value)")
    return input_format


def spill_budget(budget: int, task_memory: int) -> int:
    """The spill budget is soft (estimated buffered bytes) and the task memory limit is hard
    (the process's RSS): a budget near the limit would get a well-behaved attempt killed
    instead of spilling, so it is capped at a share of the limit."""
    if not task_memory:
        return budget
    return max(1, min(budget, int(task_memory * SPILL_SHARE_OF_TASK_MEMORY)))
