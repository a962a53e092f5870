"""A job's plan: the tasks of one job and the settings they run with, fixed at submission.

It is the one object every layer shares: planning (``zmr.job.planning``) makes it, the
coordinator journals it and cuts task specs from it, runners pass it around."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from zmr.core.errors import ConfigError
from zmr.core.formats import OUTPUT_FORMATS, TEXT
from zmr.core.jsonable import JsonValue, from_json, omitted_when_default
from zmr.core.specs import MapTaskSpec, OutputIdentity, ReduceTaskSpec, Segment, Split

#: Intermediate compression codecs (Arrow IPC buffer compression); see docs/benchmarks.md.
COMPRESSIONS = ("none", "lz4", "zstd")
DEFAULT_COMPRESSION = "none"
DEFAULT_MAX_LINE = 128 << 20     # the max_line_length setting's default (settings/job.py)


@dataclass(frozen=True)
class JobPlan(JsonValue):
    """The tasks of one job, fixed at submission."""

    splits: list[Split]
    num_reducers: int
    memory_budget: int
    on_bad_utf8: str
    output: str
    speculative: bool = True         # backup attempts for stragglers (cluster runs)
    compression: str = DEFAULT_COMPRESSION   # codec of map outputs, spills and merge runs
    skip_bad_records: int = 0        # job-wide limit of records skipped because map raised
    task_memory: int = 0             # hard RSS limit per attempt in bytes; 0 = none
    resources: dict[str, int] = field(default_factory=dict)  # per task: cpus, memory_mb
    output_format: str = TEXT        # "arrow" for an intermediate step of a multi-step job
    format_options: dict[str, Any] = field(default_factory=dict)  # input columns, schema...
    params: dict[str, Any] = field(default_factory=dict)   # zmr.param() values (job.params)
    # secondary sort, grouping, total-order cuts (zmr.storage.ordering.KeyOrder.to_dict)
    ordering: dict[str, Any] = field(default_factory=dict)
    # a job with INPUTS: each input's columns, records, types (by Split.input), the rest
    # (the output schema) in format_options
    input_options: list[dict[str, Any]] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)    # side file name -> client path
    max_line_length: int = DEFAULT_MAX_LINE    # longest input line read, in bytes
    # the inputs as given, made absolute (paths, directories, globs): what an output must
    # stay out of (zmr.storage.output_safety), checked again by the coordinator
    input_roots: list[str] = field(default_factory=list)
    # NUM_REDUCERS was not given: partitions whose map outputs turn out small are merged
    # into fewer reduce tasks once every map has run (zmr.core.coalescing)
    coalesce: bool = field(default=False, metadata=omitted_when_default())
    # the slots planning expected to run the job (an embedded cluster's size, a live
    # cluster's registered slots at submit, 1 inline): what the default split size and
    # NUM_REDUCERS were sized for, and what utilisation is measured against
    parallelism: int = 1
    # dynamic work rebalancing: a running map's unread remainder may become a new map task
    # (cluster runs whose ``tasks.rebalance`` is on; see coordinator/rebalance.py)
    rebalance: bool = True
    # --reuse: the digest of the map-side code (zmr.job.fingerprint); "" = off
    reuse: str = field(default="", metadata=omitted_when_default())
    # --reuse-content: input files fingerprinted by the bytes a split reads
    reuse_content: bool = field(default=False, metadata=omitted_when_default())

    @property
    def num_maps(self) -> int:
        return len(self.splits)

    def input_paths(self, limit: int = 20) -> list[str]:
        """The input files, in split order (at most ``limit``, then how many more)."""
        paths = list(dict.fromkeys(p.path for s in self.splits for p in s.pieces()))
        if len(paths) > limit:
            return paths[:limit] + [f"... and {len(paths) - limit} more files"]
        return paths

    def map_spec(self, job_id: str, map_index: int, attempt: int, work_dir: str,
                 incarnation: str = "") -> MapTaskSpec:
        """Attempt ``attempt`` of map ``map_index``; a coordinator names its
        ``incarnation``, which the output then carries (:meth:`map_identity`)."""
        split = self.splits[map_index]
        options = self.format_options
        if self.input_options:
            options = {**options, **self.input_options[split.input]}
        identity = self.map_identity(incarnation, job_id, map_index) if incarnation else None
        return MapTaskSpec(job_id, map_index, attempt, split, self.num_reducers,
                           work_dir, self.output, self.memory_budget, self.on_bad_utf8,
                           self.compression, self.skip_bad_records,
                           self.task_memory, self.output_format, options,
                           self.params, self.ordering, self.max_line_length, identity,
                           reuse=self.reuse, reuse_content=self.reuse_content)

    def map_identity(self, incarnation: str, job_id: str, map_index: int) -> OutputIdentity:
        """What an output of map ``map_index`` of this job must say it was computed for."""
        return OutputIdentity(incarnation, job_id, map_index,
                              self.splits[map_index].fingerprint())

    def reduce_spec(self, job_id: str, partition: int, attempt: int,
                    segments: list[Segment] | tuple[Segment, ...],
                    work_dir: str) -> ReduceTaskSpec:
        return ReduceTaskSpec(job_id, partition, attempt, tuple(segments), work_dir,
                              self.output, self.memory_budget, self.compression,
                              self.task_memory, self.output_format, self.format_options,
                              self.params, self.ordering)

    def check(self) -> JobPlan:
        """The plan itself if its settings follow the rules planning applies (ConfigError
        otherwise): what a decoded submission must pass besides its shape."""
        resources(self.resources, "plan: RESOURCES")
        output_format_name(self.output_format)
        if self.parallelism < 1:
            raise ConfigError(f"plan: parallelism must be at least 1, got {self.parallelism}")
        inputs = max(1, len(self.input_options))
        wrong = [s.input for s in self.splits if not 0 <= s.input < inputs]
        if wrong:
            raise ConfigError(f"plan: a split reads input {wrong[0]}, but the plan has "
                              f"{inputs} input(s)")
        for name in self.files:
            side_file_name(name, "plan: files")
        return self

    @classmethod
    def from_dict(cls, d: Any) -> JobPlan:
        """A plan from JSON (the journal), its fields checked by shape and its settings by
        the rules planning applies."""
        plan: JobPlan = from_json(cls, d)
        return plan.check()


@dataclass(frozen=True)
class StepPlan(JsonValue):
    """A job's settings with what it takes to cut its splits later, without its code: every
    step of a multi-step job is resolved when it is submitted (the coordinator never runs
    job code), but a later step's input exists only once the step before has succeeded.
    ``plan`` has no splits until ``zmr.job.planning.plan_input`` cuts them (the first
    step's are cut at once). ``split_size`` None: sized to the input and the slots
    (``zmr.storage.sizing``); ``auto_reducers``: NUM_REDUCERS was not given, so
    ``plan.num_reducers`` is the slot count and follows it (:meth:`for_slots`)."""

    plan: JobPlan
    split_size: int | None
    input_format: str = TEXT
    combine_files: bool = True
    auto_reducers: bool = False
    # --reuse: each file's split size follows its own size, not the whole input's
    cut_alone: bool = field(default=False, metadata=omitted_when_default())

    def for_slots(self, parallelism: int) -> StepPlan:
        """This step planned for ``parallelism`` slots: the coordinator, which plans a
        later step of a multi-step job, knows its live slots better than the client did
        at submission."""
        plan = replace(self.plan, parallelism=parallelism,
                       num_reducers=parallelism if self.auto_reducers
                       else self.plan.num_reducers)
        return replace(self, plan=plan)


RESOURCE_KINDS = ("cpus", "memory_mb")


def resources(value: Any, label: str) -> dict[str, int]:
    """``RESOURCES = {"cpus": 1, "memory_mb": 2048}``: what one task needs of a worker;
    ``label`` names the setting in errors."""
    if not isinstance(value, dict):
        raise ConfigError(f"{label} must be a dict such as "
                          f"{{'cpus': 1, 'memory_mb': 2048}}, got {value!r}")
    for kind, amount in value.items():
        if kind not in RESOURCE_KINDS:
            raise ConfigError(f"{label} has unknown key {kind!r} "
                              f"(known: {', '.join(RESOURCE_KINDS)})")
        if type(amount) is not int or amount < 1:
            raise ConfigError(f"{label}[{kind!r}] must be an integer >= 1, "
                              f"got {amount!r}")
    return dict(value)


def output_format_name(output_format: str) -> str:
    if output_format not in OUTPUT_FORMATS:
        raise ConfigError(f"output format must be one of {', '.join(OUTPUT_FORMATS)}, "
                          f"got {output_format!r}")
    return str(output_format)


def side_file_name(name: str, label: str) -> str:
    """The name a side file has in a task's working directory: a plain file name."""
    if not name or name in (".", "..") or "/" in name or "\\" in name or "\0" in name:
        raise ConfigError(f"{label}: {name!r} is not a file name (PATH#NAME takes a name "
                          "without directories)")
    return name
