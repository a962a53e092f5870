"""The job contract: a plain module with well-known hook names, validated when loaded.

A job module defines ``mapper(key, value)`` (or the vectorised ``map_batch(batch)``) and
optionally ``reducer``, ``combiner``, ``partitioner``, ``mapper_init``/``mapper_final``,
``reducer_init``/``reducer_final`` and settings (``NUM_REDUCERS``, ``SPLIT_SIZE``,
``COMBINER``, ``REDUCE``, ...: each is listed once, with its type and rule, in
:mod:`zmr.settings.job`). The vocabulary is mrjob's, applied to module-level functions
instead of methods. A multi-step job instead declares ``STEPS``, a list of
:class:`Step`, each with the same hooks and settings as keyword arguments.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from zmr.settings.job import STEP_SETTINGS

Pair = tuple[Any, Any]
HOOK_NAMES = (
    "mapper", "map_batch", "reducer", "combiner", "partitioner",
    "mapper_init", "mapper_final", "reducer_init", "reducer_final",
)


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
    # the job file it was loaded from ("": built from functions, so it ships pickled) and
    # which step of that file's STEPS it is (0: a single-step module); see job.shipping
    module_file: str = ""
    step: int = 0

    def setting(self, name: str, default: Any = None) -> Any:
        return self.settings.get(name, default)


@dataclass(frozen=True, init=False)
class Step:
    """One step of a multi-step job: ``STEPS = [Step(mapper=..., reducer=...), Step(...)]``.

    Takes the hooks of a single-step module and the per-step settings by their ``Step``
    keywords (``num_reducers=1``, ``reduce="sum"``, ``split_size=...``: the table in
    :mod:`zmr.settings.job`); ``partitioner`` may also be the ``PARTITIONER`` setting's
    ``"hash"`` or ``"total_order"``, ``combiner`` the ``COMBINER`` setting's
    ``"reducer"`` or ``"none"``. An unknown keyword is a TypeError at once; values are
    checked when the job is loaded, naming the file and the step."""

    mapper: Any = None
    map_batch: Any = None
    reducer: Any = None
    combiner: Any = None
    partitioner: Any = None
    mapper_init: Any = None
    mapper_final: Any = None
    reducer_init: Any = None
    reducer_final: Any = None
    settings: dict[str, Any] = field(default_factory=dict)   # Step keyword -> value

    def __init__(self, **given: Any) -> None:
        for name in HOOK_NAMES:
            object.__setattr__(self, name, given.pop(name, None))
        unknown = [name for name in given if name not in STEP_SETTINGS]
        if unknown:
            raise TypeError(f"Step() got an unexpected keyword argument {unknown[0]!r} "
                            f"(hooks: {', '.join(HOOK_NAMES)}; settings: "
                            f"{', '.join(STEP_SETTINGS)})")
        object.__setattr__(self, "settings", given)

    def definitions(self) -> dict[str, Any]:
        """What was given, under the names a single-step module would use."""
        given = {name: getattr(self, name) for name in HOOK_NAMES}
        if isinstance(self.combiner, str):
            given["combiner"], given["COMBINER"] = None, self.combiner
        if isinstance(self.partitioner, str):     # "hash" or "total_order": a setting
            given["partitioner"], given["PARTITIONER"] = None, self.partitioner
        for keyword, value in self.settings.items():
            given[str(STEP_SETTINGS[keyword].module)] = value
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
