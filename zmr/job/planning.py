"""Turning a job and its inputs into tasks: splits, reducer count, budgets.

Every setting comes from the run's :class:`JobOptions`, resolved once per job: a flag or
keyword argument beats the job module's setting, which beats the default
(:meth:`JobOptions.resolved`). What is checked here is what needs the job or the storage
layer to check: combinations with ``map_batch``, format options, Arrow type names.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from zmr.core.errors import ConfigError, InputError
from zmr.core.plan import JobPlan, StepPlan, side_file_name
from zmr.core.specs import Split
from zmr.job import params
from zmr.job.api import JobSpec
from zmr.job.fingerprint import map_code_digest
from zmr.job.inputs import Inputs, input_args, input_paths
from zmr.job.mrjob_compat import is_mrjob_step
from zmr.settings.job import JobOptions, set_
from zmr.storage.formats import ARROW, TEXT
from zmr.storage.fs import is_uri
from zmr.storage.fs import local_path as fs_local
from zmr.storage.input_formats import check_options
from zmr.storage.locality import hosts_holding
from zmr.storage.ordering import KeyOrder
from zmr.storage.sniff import check_contents
from zmr.storage.splits import list_inputs, plan_splits

#: With a hard --task-memory limit, the spill budget is capped at this share of it, so an
#: attempt spills well before the worker kills it (the rest is the interpreter, Arrow, input).
SPILL_SHARE_OF_TASK_MEMORY = 0.5


#: Format options that belong to an input (the rest, e.g. the output schema, to the job).
INPUT_OPTION_KEYS = ("columns", "records", "column_types")


def plan_job(job: JobSpec, inputs: Inputs, output: str, options: JobOptions | None = None,
             *, allow_empty_input: bool = False, parallelism: int = 1) -> JobPlan:
    """Discover inputs and cut them into splits under the settings in force, for
    ``parallelism`` slots (what the default split size and NUM_REDUCERS follow). The
    formats are "arrow" only between the steps of a multi-step job
    (:mod:`zmr.job.pipeline`). A job with ``INPUTS`` reads those (:func:`plan_inputs`)."""
    given = input_args(inputs)
    if job.inputs:
        return plan_inputs(job, given, output, options, allow_empty_input, parallelism)
    if not given:
        raise ConfigError(f"{job.source}: no input: give --input PATH (or define INPUTS "
                          "in the job module)")
    return plan_input(plan_settings(job, output, options, parallelism), given,
                      allow_empty_input)


def plan_inputs(job: JobSpec, given: Sequence[str], output: str,
                options: JobOptions | None, allow_empty: bool,
                parallelism: int = 1) -> JobPlan:
    """The plan of a job with ``INPUTS``: every input's splits, in ``INPUTS`` order, each
    cut under that input's settings and marked with its position."""
    options = options or JobOptions()
    if options.input_format is not None:
        raise ConfigError(f"--input-format {options.input_format}: {job.source} defines "
                          "INPUTS, and each input has its own format (Input(format=...))")
    whole = plan_settings(job, output, options, parallelism)
    splits: list[Split] = []
    input_options: list[dict[str, Any]] = []
    given_paths = input_paths(job, given)
    for index, paths in enumerate(given_paths):
        source = job.inputs[index]
        spec = dataclasses.replace(job.for_input(index),
                                   settings={**job.settings, **source.settings})
        step = plan_settings(spec, output, options, parallelism)
        try:
            cut = plan_input(step, list(paths), allow_empty).splits
        except InputError as exc:
            # which of the inputs: the paths may be a default the user never typed
            raise InputError(f"{job.source}: input {source.name!r}: {exc}") from None
        splits += [dataclasses.replace(split, input=index) for split in cut]
        input_options.append({k: v for k, v in step.plan.format_options.items()
                              if k in INPUT_OPTION_KEYS})
    job_options = {k: v for k, v in whole.plan.format_options.items()
                   if k not in INPUT_OPTION_KEYS}
    return dataclasses.replace(whole.plan, splits=splits, format_options=job_options,
                               input_options=input_options,
                               input_roots=absolute([p for paths in given_paths for p in paths]))


def plan_settings(job: JobSpec, output: str, options: JobOptions | None = None,
                  parallelism: int = 1) -> StepPlan:
    """Every setting of ``job`` resolved, without looking at its input: a plan without
    splits, and how to cut them (:func:`plan_input`). NUM_REDUCERS not given is
    ``parallelism``, the slots that will run the job (Spark's default parallelism)."""
    if parallelism < 1:
        raise ConfigError(f"parallelism must be at least 1, got {parallelism}")
    given = options or JobOptions()
    o = given.resolved(job.settings)
    _check_for_job(job, o)
    output = output if is_uri(output) else os.path.abspath(fs_local(output))
    limit = o.task_memory or 0
    reducers = parallelism if o.reducers is None else o.reducers
    files = side_files(job, given.files)
    plan = JobPlan([], reducers, spill_budget(set_(o.memory_budget), limit),
                   set_(o.on_bad_utf8), output, set_(o.speculative), set_(o.compression),
                   set_(o.skip_bad_records), limit, dict(o.resources or {}),
                   set_(o.output_format), _format_options(job, o),
                   params.resolve(job.settings.get("PARAMS"), given.params, job.source),
                   _key_order(job, o).to_dict(), max_line_length=set_(o.max_line_length),
                   files=files, parallelism=parallelism,
                   # NUM_REDUCERS not given: the partitions whose map outputs turn out
                   # small are coalesced into fewer reduce tasks at run time
                   coalesce=o.reducers is None and reducers > 0,
                   rebalance=set_(o.rebalance),
                   reuse=map_code_digest(job, files) if o.reuse else "",
                   reuse_content=bool(o.reuse and o.reuse_content))
    # with --reuse, each file is cut on its own (see zmr.storage.splits.plan_splits), so
    # that one new file leaves the other files' splits, and their kept outputs, as they were
    return StepPlan(plan, o.split_size, set_(o.input_format),
                    bool(o.combine_files) and not o.reuse, auto_reducers=o.reducers is None,
                    cut_alone=bool(o.reuse))


def plan_input(step: StepPlan, inputs: list[str], allow_empty: bool = False) -> JobPlan:
    """``step``'s plan with the splits of ``inputs``. Needs no job code, only files: the
    coordinator plans the later steps of a multi-step job with it."""
    splits = _plan_input(inputs, step, allow_empty)
    return dataclasses.replace(step.plan, splits=splits, input_roots=absolute(inputs))


def absolute(paths: Sequence[str]) -> list[str]:
    """Input paths as given, absolute (URIs as they are): the coordinator, which checks
    them against the output, does not share this process's current directory."""
    return [path if is_uri(path) else os.path.abspath(fs_local(path)) for path in paths]


def side_files(job: JobSpec, given: list[str] | None) -> dict[str, str]:
    """Name in the tasks' working directory -> path here, of the module's ``FILES``
    (relative to the job file) and then the ``--file``/``files=`` given (relative to the
    current directory), mrjob's ``PATH#NAME`` renaming either. Each must be a readable
    file and each name is used once: an error names the file."""
    top = os.path.dirname(os.path.abspath(job.source)) if job.module_file else os.getcwd()
    entries = [(f"{job.source}: FILES", top, f) for f in job.settings.get("FILES") or []]
    entries += [("--file", os.getcwd(), f) for f in given or []]
    files: dict[str, str] = {}
    for label, base, entry in entries:
        path, _, name = entry.partition("#")
        path = os.path.join(base, os.path.expanduser(path))
        name = side_file_name(name or os.path.basename(path), f"{label} {entry}")
        if not os.path.isfile(path):
            raise ConfigError(f"{label} {entry}: no such file ({path})")
        if name in files and files[name] != path:
            raise ConfigError(f"{label} {entry}: a side file named {name!r} is already "
                              f"shipped ({files[name]}); rename one with PATH#NAME")
        files[name] = os.path.abspath(path)
    return files


def _check_for_job(job: JobSpec, o: JobOptions) -> None:
    """What a map_batch job cannot do: it reads batches of lines or records, not a previous
    step's pairs; and an mrjob job's formats are its protocols'."""
    _check_mrjob_formats(job, o)
    if job.map_batch is None:
        return
    if o.skip_bad_records:
        # a batch call that raises cannot say which of its records was bad
        raise ConfigError(f"{job.source}: skip_bad_records covers mapper calls, not map_batch")
    if o.input_format == ARROW:
        raise ConfigError(f"{job.source}: map_batch reads text lines; a later step of a "
                          "multi-step job needs mapper(key, value)")


def _key_order(job: JobSpec, o: JobOptions) -> KeyOrder:
    """Secondary sort, grouping and total order, refused where they cannot hold."""
    order = KeyOrder(bool(o.sort_values), o.group_by or 0,
                     total_order=o.partitioner_name == "total_order")
    if order.regroups and (job.combiner is not None or job.aggregation is not None):
        # a map-side combine would group on the whole sort key, not on the group prefix
        raise ConfigError(f"{job.source}: SORT_VALUES and GROUP_BY work without a combiner "
                          "or REDUCE; remove COMBINER/combiner/REDUCE or the sorting setting")
    if order.total_order and job.partitioner is not None:
        raise ConfigError(f"{job.source}: PARTITIONER = \"total_order\" and a partitioner "
                          "function both choose partitions; keep one")
    if not order.plain and o.reducers == 0:
        raise ConfigError(f"{job.source}: SORT_VALUES, GROUP_BY and PARTITIONER = "
                          "\"total_order\" order the reduce input; a map-only job "
                          "(NUM_REDUCERS = 0) has none")
    return order


def _check_mrjob_formats(job: JobSpec, o: JobOptions) -> None:
    """An mrjob job reads lines (or whole files) for its INPUT_PROTOCOL and writes its
    OUTPUT_PROTOCOL's lines: other formats would hand it records it cannot read."""
    if not is_mrjob_step(job):
        return
    expected_in = job.settings.get("INPUT_FORMAT", TEXT)
    if o.input_format not in (expected_in, ARROW):
        raise ConfigError(f"{job.source}: an mrjob job reads lines with its INPUT_PROTOCOL; "
                          f"--input-format {o.input_format} does not apply")
    if o.output_format not in (job.settings.get("OUTPUT_FORMAT"), ARROW):
        raise ConfigError(f"{job.source}: an mrjob job writes the lines of its "
                          f"OUTPUT_PROTOCOL; --output-format {o.output_format} does not "
                          "apply")


def _plan_input(inputs: list[str], step: StepPlan, allow_empty: bool) -> list[Split]:
    """List the inputs once, check each file's first bytes fit the format, and cut (and
    pack) them into splits that know their hosts, sized for the plan's slots unless the
    step has a split size."""
    files = list_inputs(inputs)
    check_contents([f.path for f in files if f.size], step.input_format,
                   step.plan.on_bad_utf8)
    hosts = {f.path: hosts_holding(f.path, f.symlink) for f in files}
    splits = plan_splits(files, step.split_size, step.input_format,
                         combine=step.combine_files, hosts=hosts,
                         parallelism=step.plan.parallelism, cut_alone=step.cut_alone)
    if not splits and not allow_empty:
        # almost always a wrong path or a failed upstream export: say so instead of
        # committing an empty output that looks like success
        names = [f.path for f in files[:5]]
        raise InputError(f"the input is empty: {', '.join(names)}"
                         f"{' ...' if len(files) > 5 else ''} hold no data (0 bytes)")
    return splits


def _format_options(job: JobSpec, o: JobOptions) -> dict[str, Any]:
    """What the input and output formats need beyond their names (see storage.formats and
    storage.input_formats)."""
    schema = o.output_schema or {}
    options = {"columns": o.input_columns, "records": o.input_records,
               "column_types": o.csv_column_types or {}, "schema": schema}
    check_options(options, job.source)
    if schema and (set(schema) != {"key", "value"} or not _arrow_types(schema.values())):
        raise ConfigError(f"{job.source}: OUTPUT_SCHEMA must map key and value to Arrow "
                          f"type names such as int64, double, string; got {schema!r}")
    return {k: v for k, v in options.items() if v}


def _arrow_types(names: Any) -> bool:
    try:
        return all(isinstance(n, str) and pa.type_for_alias(n) for n in names)
    except (ValueError, TypeError):
        return False


def spill_budget(budget: int, task_memory: int) -> int:
    """The spill budget is soft (estimated buffered bytes) and the task memory limit is hard
    (the process's RSS): a budget near the limit would get a well-behaved attempt killed
    instead of spilling, so it is capped at a share of the limit."""
    if not task_memory:
        return budget
    return max(1, min(budget, int(task_memory * SPILL_SHARE_OF_TASK_MEMORY)))
