"""The job contract: a plain module with well-known hook names, validated when loaded.

A job module defines ``mapper(key, value)`` (or the vectorised ``map_batch(batch)``) and
optionally ``reducer``, ``combiner``,
``partitioner``, ``mapper_init``/``mapper_final``, ``reducer_init``/``reducer_final`` and
settings (``NUM_REDUCERS``, ``SPLIT_SIZE``, ``MEMORY_BUDGET``, ``TASK_MEMORY``, ``COMBINER``,
``REDUCE``, ``SKIP_BAD_RECORDS``, ...). The vocabulary is mrjob's, applied to module-level
functions instead of methods. A multi-step job instead declares ``STEPS``, a list of
:class:`Step`, each with the same hooks and settings as keyword arguments.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

Pair = tuple[Any, Any]
HOOK_NAMES = (
    "mapper", "map_batch", "reducer", "combiner", "partitioner",
    "mapper_init", "mapper_final", "reducer_init", "reducer_final",
)
#: Module-level settings a job may declare, with the type each must have.
SETTING_TYPES: dict[str, type | tuple[type, ...]] = {
    "NUM_REDUCERS": int,
    "SPLIT_SIZE": (int, str),
    "MEMORY_BUDGET": (int, str),
    "TASK_MEMORY": (int, str),
    "COMBINER": str,
    "REDUCE": str,
    "SPECULATIVE": bool,
    "COMPRESSION": str,
    "SKIP_BAD_RECORDS": int,
    "RESOURCES": dict,
    "INPUT_FORMAT": str,
    "INPUT_COLUMNS": list,
    "INPUT_RECORDS": str,
    "CSV_COLUMN_TYPES": dict,
    "OUTPUT_FORMAT": str,
    "OUTPUT_SCHEMA": dict,
    "COMBINE_FILES": bool,
}


@dataclass(frozen=True)
class JobSpec:
    """A loaded, validated job: its hooks and settings, plus where it came from."""

    name: str
    source: str                      # path of the job module, for error messages
    mapper: Callable[[Any, Any], Iterable[Pair]] | None
    reducer: Callable[[Any, Iterator[Any]], Iterable[Pair]] | None = None
    combiner: Callable[[Any, Iterator[Any]], Iterable[Pair]] | None = None
    partitioner: Callable[[Any, int], int] | None = None
    mapper_init: Callable[[], Any] | None = None
    mapper_final: Callable[[], Iterable[Pair] | None] | None = None
    reducer_init: Callable[[], Any] | None = None
    reducer_final: Callable[[], Iterable[Pair] | None] | None = None
    map_batch: Callable[[Any], Any] | None = None
    aggregation: Any = None          # a zmr.job.aggregations.Aggregation for REDUCE = "..."
    settings: dict[str, Any] = field(default_factory=dict)

    def setting(self, name: str, default: Any = None) -> Any:
        return self.settings.get(name, default)


@dataclass(frozen=True, kw_only=True)
class Step:
    """One step of a multi-step job: ``STEPS = [Step(mapper=..., reducer=...), Step(...)]``.

    Takes the hooks of a single-step module and its settings in lower case
    (``num_reducers=1``, ``reduce="sum"``, ...); ``combiner`` may also be the
    ``COMBINER`` setting's ``"reducer"`` or ``"none"``. Checked when the job is loaded."""

    mapper: Any = None
    map_batch: Any = None
    reducer: Any = None
    combiner: Any = None
    partitioner: Any = None
    mapper_init: Any = None
    mapper_final: Any = None
    reducer_init: Any = None
    reducer_final: Any = None
    num_reducers: Any = None
    split_size: Any = None
    memory_budget: Any = None
    task_memory: Any = None
    reduce: Any = None
    speculative: Any = None
    compression: Any = None
    skip_bad_records: Any = None
    combine_files: Any = None

    def definitions(self) -> dict[str, Any]:
        """What was given, under the names a single-step module would use."""
        given = {name: getattr(self, name) for name in HOOK_NAMES}
        if isinstance(self.combiner, str):
            given["combiner"], given["COMBINER"] = None, self.combiner
        for setting in SETTING_TYPES:
            if setting != "COMBINER" and hasattr(self, setting.lower()):
                given[setting] = getattr(self, setting.lower())
        return {name: value for name, value in given.items() if value is not None}


@dataclass(frozen=True)
class Pipeline:
    """A loaded multi-step job: its steps in order, each a validated :class:`JobSpec`."""

    name: str
    source: str
    steps: tuple[JobSpec, ...]


def identity_mapper(key: Any, value: Any) -> Iterator[Pair]:
    """The mapper of a step that defines only a reducer: every pair as it is."""
    yield key, value
