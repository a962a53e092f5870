"""Job settings: the one table of what a run of a job can be told, and how.

Each field of :class:`JobOptions` is a setting (see :mod:`zmr.settings.setting`): its flag of
``zmr run``/``zmr submit``, its job-module name, its ``zmr.Step`` keyword, its type, rule,
default and help. :data:`HOOK_SETTINGS` are the two module settings that choose hooks when
the module is loaded (``COMBINER``, ``REDUCE``) rather than tune a run. The CLI, the job
loader, ``Step``, planning and the docs' settings tables are all generated from these.

Precedence, implemented once in :meth:`JobOptions.resolved`: a flag or keyword argument
beats the job module's (or step's) setting, which beats the default.

Adding a job setting is one field here and the code that uses it. A repeatable flag is a
field whose types include list, given ``action="append"`` by the CLI's flag builder
(``--param``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, TypeVar

from zmr.core.formats import (
    INPUT_FORMATS,
    OUTPUT_FORMATS,
    USER_INPUT_FORMATS,
    USER_OUTPUT_FORMATS,
    fixed_format,
)
from zmr.core.plan import COMPRESSIONS, resources
from zmr.settings.setting import Setting, option, settings_of
from zmr.settings.values import at_least, file_list, one_of, params, size

BAD_UTF8_POLICIES = ("strict", "replace")
PARTITIONERS = ("hash", "total_order")
_NOTHING: Mapping[str, Any] = MappingProxyType({})
_T = TypeVar("_T")


def set_(value: _T | None) -> _T:
    """The value of a resolved option whose default is not "none" (``JobOptions.resolved``
    fills it; its field's type still says "may be None", since a given option may be absent)."""
    if value is None:
        raise ValueError("an option with a default was not resolved (JobOptions.resolved)")
    return value


def input_format(value: Any, label: str) -> str:
    """One of the input formats, or ``fixed:N`` (N-byte binary records)."""
    if isinstance(value, str) and value.startswith("fixed:"):
        return fixed_format(value, label)
    return one_of(*INPUT_FORMATS)(value, label)


@dataclass(frozen=True)
class JobOptions:
    """The settings given for one run of a job (flags or keyword arguments); None means
    "not given", leaving the job module's setting or the default. Values are checked and
    converted when the options are made (``split_size="8MB"`` is 8388608)."""

    reducers: int | None = option(
        None, "number of reduce tasks; 0 = map-only; auto = one per slot",
        types=(int,), check=at_least(0), shown="auto",
        flag=("--reducers", "-r"), metavar="N", module="NUM_REDUCERS", step="num_reducers",
        doc="reduce tasks; `auto`: one per slot that runs the job (Spark's default "
            "parallelism: the workers' slots, 1 with `--inline`); `0` = map-only job "
            "(Hadoop's numReduceTasks=0): map output goes straight to the output, in "
            "emission order, one part file per map task (see \"Reducers\")")
    split_size: int | None = option(
        None, "input split size, e.g. 8MB; auto = about 3 splits per slot",
        types=(int, str), check=size, shown="auto",
        flag=("--split-size",), metavar="SIZE", module="SPLIT_SIZE", step="split_size",
        input="split_size",
        doc="input split size (`K`, `M`, `G`, with or without `B`/`iB`: powers of 1024); "
            "also the most bytes of small files packed into one split; `auto`: about 3 "
            "splits per slot, between 64 KB and 64 MB (see \"Inputs and splits\")")
    combine_files: bool | None = option(
        True, "pack small files and file tails into shared splits", types=(bool,),
        module="COMBINE_FILES", step="combine_files", input="combine_files",
        doc="pack small files and file tails into shared splits (see \"Inputs and "
            "splits\"); `False`: one split per file at least")
    memory_budget: int | None = option(
        "64MB", "per-task memory for the sort buffer, its spills and merges",
        types=(int, str), check=size,
        flag=("--memory",), metavar="SIZE", module="MEMORY_BUDGET", step="memory_budget",
        doc="memory a task may use beyond its fixed overhead (Python, pyarrow, the job "
            "code): the map-side buffer spills a sorted run when the buffered pairs, at "
            "their measured Python size, plus what the spill itself will need reach 70% "
            "of it; also sizes the merge factor of both sides")
    task_memory: int | None = option(
        None, "hard limit on a task attempt's resident memory; over it the attempt is "
              "killed and retried", types=(int, str), check=size, shown="none",
        flag=("--task-memory",), metavar="SIZE", module="TASK_MEMORY", step="task_memory",
        doc="hard limit on the resident memory (RSS) of each task attempt: over it the "
            "attempt is killed and retried (see Failures); also caps `MEMORY_BUDGET` at "
            "half of it")
    skip_bad_records: int | None = option(
        0, "skip up to N input records (in all) whose mapper call raises, logging where "
           "they are", types=(int,), check=at_least(0), flag=("--skip-bad-records",),
        metavar="N", module="SKIP_BAD_RECORDS", step="skip_bad_records",
        doc="skip up to N input records in all whose `mapper` call raises (see \"Skipping "
            "bad records\")")
    max_line_length: int | None = option(
        "128MB", "longest input line read; a longer one fails the task naming file, offset "
                 "and this setting", types=(int, str), check=size,
        flag=("--max-line-length",), metavar="SIZE", module="MAX_LINE_LENGTH",
        step="max_line_length",
        doc="longest line (in bytes, without its newline) of text, CSV or JSON-lines input; "
            "a line may be longer than the split size and the memory budget, but one longer "
            "than this fails its map task naming the file, the line's byte offset and this "
            "setting instead of exhausting memory (Hadoop's "
            "`mapreduce.input.linerecordreader.line.maxlength`, which skips such lines)")
    input_format: str | None = option(
        "text", f"format of the input files: {', '.join(USER_INPUT_FORMATS)} or fixed:N "
        "(N-byte binary records)", types=(str,), check=input_format,
        flag=("--input-format",), metavar="FORMAT",
        module="INPUT_FORMAT", step="input_format", input="format",
        doc="text, csv, jsonl, parquet, ipc, `fixed:N` (N-byte binary records; see the "
            "Sorting guide) (see \"Input and output formats\"); also "
            "`INPUT_COLUMNS`, `INPUT_RECORDS`, `CSV_COLUMN_TYPES`")
    input_columns: list[str] | None = option(
        None, "columns read from csv, jsonl, parquet or ipc input", types=(list,), shown="all",
        module="INPUT_COLUMNS", step="input_columns", input="columns",
        doc="columns read from csv, jsonl, parquet or ipc input "
            "(`[\"year\", \"temp\"]`)")
    input_records: str | None = option(
        "dict", "records of csv, jsonl, parquet or ipc input: dicts or tuples", types=(str,),
        module="INPUT_RECORDS", step="input_records", input="records",
        doc="records of csv, jsonl, parquet or ipc input: `\"dict\"` "
            "(column -> value) or `\"tuple\"` (in column order)")
    csv_column_types: dict[str, str] | None = option(
        None, "Arrow types of CSV columns", types=(dict,), shown="inferred",
        module="CSV_COLUMN_TYPES", step="csv_column_types", input="column_types",
        doc="Arrow types of CSV columns (`{\"temp\": \"int64\"}`; "
            "else pyarrow infers them per block)")
    output_format: str | None = option(
        "text", "format of the part files", types=(str,), check=one_of(*OUTPUT_FORMATS),
        flag=("--output-format",), metavar="FORMAT", choices=USER_OUTPUT_FORMATS,
        module="OUTPUT_FORMAT", doc="text, jsonl, csv, parquet; `value` or `key` (that field "
        "alone per line), `fixed` (bytes values back to back); also `OUTPUT_SCHEMA`")
    output_schema: dict[str, str] | None = option(
        None, "Arrow types of the key and value columns of Parquet output", types=(dict,),
        shown="inferred", module="OUTPUT_SCHEMA",
        doc="Arrow types of the `key` and `value` columns of Parquet output "
            "(`{\"key\": \"string\", \"value\": \"double\"}`)")
    compression: str | None = option(
        "none", "codec of intermediate files (map outputs, spills, merge runs)",
        types=(str,), check=one_of(*COMPRESSIONS), flag=("--compression",),
        metavar="CODEC", choices=COMPRESSIONS, module="COMPRESSION", step="compression",
        doc="codec of intermediate files (map outputs, spills, merge runs): `none`, `lz4` "
            "or `zstd` (see \"Small jobs, memory, compression\")")
    speculative: bool | None = option(
        True, "back up straggling attempts near a phase's end (on a cluster whose "
              "`tasks.speculative` is on)", types=(bool,), module="SPECULATIVE",
        step="speculative")
    rebalance: bool | None = option(
        True, "cut the unread remainder off a running map task's split when a slot is "
              "idle, and run it as a new map task (on a cluster whose `tasks.rebalance` "
              "is on)", types=(bool,), module="REBALANCE", step="rebalance",
        doc="dynamic work rebalancing: when a slot is idle and no task is pending, the "
            "unread remainder of a running map's split becomes a new map task (see "
            "\"Dynamic work rebalancing\"); `False`: never")
    resources: dict[str, int] | None = option(
        None, "what each task needs of a worker", types=(dict,), check=resources,
        shown="none", module="RESOURCES",
        doc="what each task needs of a worker (`{\"cpus\": 1, \"memory_mb\": 2048}`); tasks "
            "go only where they fit (see \"Placement\")")
    on_bad_utf8: str | None = option(
        "strict", "invalid UTF-8 in input: fail naming file and offset, or replace it "
                  "with U+FFFD", types=(str,), check=one_of(*BAD_UTF8_POLICIES),
        flag=("--on-bad-utf8",), metavar="POLICY", choices=BAD_UTF8_POLICIES,
        doc="invalid UTF-8 in input: `strict` fails naming the file and byte offset, "
            "`replace` puts U+FFFD in its place")
    params: dict[str, Any] | None = option(
        None, "a job parameter that job code reads with zmr.param(NAME) (repeatable)",
        types=(dict, list), check=params, shown="none", flag=("--param",),
        metavar="NAME=VALUE", module="PARAMS", step="params",
        doc="job parameters, read by job code with `zmr.param(\"NAME\", default, type)`: "
            "`--param NAME=VALUE` (repeatable), `params={...}` in Python; in a module or "
            "`Step`, `PARAMS = {\"NAME\": default}` declares them (`zmr.REQUIRED`: no "
            "default), so an unknown or missing one is an error at submit (see "
            "\"Parameters and files\")")
    sort_values: bool | None = option(
        False, "values reach the reducer sorted (mrjob's SORT_VALUES)", types=(bool,),
        shown="off", flag=("--sort-values",), module="SORT_VALUES", step="sort_values",
        doc="values reach the reducer sorted in zmr's key order (mrjob's `SORT_VALUES`), "
            "beyond memory too (see the Sorting guide)")
    group_by: int | None = option(
        0, "partition and group composite keys on their first N elements, sort on all",
        types=(int,), check=at_least(0), shown="whole key", flag=("--group-by",),
        metavar="N", module="GROUP_BY", step="group_by",
        doc="keys are tuples; partition and group on their first N elements, sort on all "
            "(Hadoop's grouping comparator; `0`: the whole key)")
    partitioner_name: str | None = option(
        "hash", "how map output keys are assigned to reducers", types=(str,),
        check=one_of(*PARTITIONERS), flag=("--partitioner",), metavar="NAME",
        choices=PARTITIONERS, module="PARTITIONER",
        doc="`hash` (FNV-1a of the key) or `total_order`: range-partition on keys sampled "
            "before the map phase, so the part files concatenated are sorted")
    sample_size: int | None = option(
        100000, "keys sampled for PARTITIONER = \"total_order\"", types=(int,),
        check=at_least(1), flag=("--sample-size",), metavar="N", module="SAMPLE_SIZE",
        step="sample_size",
        doc="map output keys sampled (from up to 10 splits) to cut the key ranges of "
            "`PARTITIONER = \"total_order\"` (Hadoop's InputSampler default)")
    files: list[str] | None = option(
        None, "a side file shipped to every worker, in the tasks' working directory under "
              "its base name (PATH#NAME renames it; repeatable)", types=(list,),
        check=file_list, shown="none", flag=("--file",), metavar="PATH[#NAME]",
        module="FILES", step="files",
        doc="side files (Hadoop's distributed cache, mrjob's `--file`): each shipped once "
            "per worker per job, checksummed, and visible to tasks in their working "
            "directory under its base name (`PATH#NAME`: under NAME); `--file` adds to the "
            "module's `FILES`, whose paths are relative to the job file (see \"Parameters "
            "and files\")")
    reuse: bool | None = option(
        False, "reuse the kept output of every map task whose inputs, map-side code and "
               "settings are unchanged since a run that kept it", types=(bool,),
        shown="off", flag=("--reuse",), module="REUSE", step="reuse",
        doc="rerun only what changed: a map task whose split (files, sizes, mtimes, byte "
            "ranges), map-side code (mapper, combiner, partitioner, hooks, the job's own "
            "modules they use, side files) and map-output settings match a kept output "
            "reuses it instead of running; each map run keeps its output for later runs, "
            "in the worker's `reuse_dir` (see \"Rerun only what changed\")")
    reuse_content: bool | None = option(
        False, "with --reuse, input files count as unchanged by the bytes each split reads "
               "(hashed), not by their size and mtime", types=(bool,), shown="off",
        flag=("--reuse-content",), module="REUSE_CONTENT", step="reuse_content",
        doc="with `--reuse`: an input file is unchanged when the bytes each of its splits "
            "reads hash the same (a file copied or touched still reuses; one rewritten "
            "with its old size and mtime does not), at the cost of reading each split once "
            "more; without it, when its size and modification time are")
    overwrite: bool | None = option(
        False, "replace an existing output directory if a zmr job wrote it or it is empty "
               "(otherwise it is refused, like Hadoop; a directory holding other files is "
               "never deleted)", types=(bool,), shown="off", flag=("--overwrite",))
    reducer_as_combiner: bool | None = option(
        False, "use the reducer as combiner too, in every step that has one (like "
               "COMBINER = \"reducer\")", types=(bool,), shown="off", flag=("--combiner",),
        doc="use the reducer as combiner too, in every step that has one (like "
            "`COMBINER = \"reducer\"`)")

    def __post_init__(self) -> None:
        for setting in OPTION_SETTINGS:
            value = getattr(self, setting.name)
            if value is not None:
                object.__setattr__(self, setting.name, setting.parse(value, setting.name))

    @classmethod
    def from_args(cls, args: Any) -> JobOptions:
        """The options given as flags (an argparse namespace whose job flags default to
        None); errors name the flag."""
        given = {}
        for setting in OPTION_SETTINGS:
            value = getattr(args, setting.name, None) if setting.flag else None
            if value is not None:
                given[setting.name] = setting.parse(value, setting.flag[0])
        return cls(**given)

    def resolved(self, settings: Mapping[str, Any] = _NOTHING) -> JobOptions:
        """Every option in force for a job whose module (or step) has ``settings`` (by
        module name): given > the job's setting > default. None is left only where the
        default is "none" (``task_memory``, ``input_columns``, ...)."""
        values = {}
        for setting in OPTION_SETTINGS:
            value = getattr(self, setting.name)
            module = setting.module
            if value is None and module is not None and module in settings:
                value = settings[module]
            values[setting.name] = setting.default if value is None else value
        return JobOptions(**values)

    def with_values(self, **given: Any) -> JobOptions:
        """These options with ``given`` ones replaced (an unknown name is a TypeError)."""
        return dataclasses.replace(self, **given)


OPTION_SETTINGS: tuple[Setting, ...] = settings_of(JobOptions)

#: Module settings that choose hooks while the module is loaded (zmr.job.loader).
HOOK_SETTINGS: tuple[Setting, ...] = (
    Setting("combiner", (str,), None, "`\"reducer\"`: reuse the reducer as combiner (it must "
            "be associative and commutative); `\"none\"`: no combiner, even if one is "
            "defined (with `REDUCE`: no map-side partials); `\"sum\"`, `\"min\"`, "
            "`\"max\"`, `\"first\"`: that built-in combines column-wise for your own reducer "
            "(see \"Built-in aggregations\")", shown="", module="COMBINER"),
    Setting("reduce", (str,), None, "a built-in reduction instead of reducer and combiner, "
            "column-wise with any mapper: `sum`, `count`, `min`, `max`, `mean`, `first`, "
            "`collect_list`, `collect_set` (see \"Built-in aggregations\")", shown="",
            module="REDUCE", step="reduce"),
)

JOB_SETTINGS: tuple[Setting, ...] = OPTION_SETTINGS + HOOK_SETTINGS
#: Job-module name -> setting.
MODULE_SETTINGS: dict[str, Setting] = {s.module: s for s in JOB_SETTINGS if s.module}
#: zmr.Step keyword -> setting (each has a module name too: a step is a small module).
STEP_SETTINGS: dict[str, Setting] = {s.step: s for s in JOB_SETTINGS if s.step}
#: zmr.Input keyword -> setting: what one input of a job with INPUTS may set for itself.
INPUT_SETTINGS: dict[str, Setting] = {s.input: s for s in JOB_SETTINGS if s.input}


def job_options(options: JobOptions | None, overrides: Mapping[str, Any]) -> JobOptions:
    """The options of a Python API call: ``options`` with keyword ``overrides`` on top."""
    return (options or JobOptions()).with_values(**overrides)
