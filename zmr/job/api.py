"""The job contract: a plain module with well-known hook names, validated when loaded.

A job module defines ``mapper(key, value)`` (or the vectorised ``map_batch(batch)``) and
optionally ``reducer``, ``combiner``,
``partitioner``, ``mapper_init``/``mapper_final``, ``reducer_init``/``reducer_final`` and
settings (``NUM_REDUCERS``, ``SPLIT_SIZE``, ``MEMORY_BUDGET``, ``TASK_MEMORY``, ``COMBINER``,
``REDUCE``, ``SKIP_BAD_RECORDS``, ...). The vocabulary is mrjob's, applied to module-level
functions instead of methods.
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
