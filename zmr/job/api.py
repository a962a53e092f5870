"""The job contract: a plain module with well-known hook names, validated when loaded.

A job module defines ``mapper(key, value)`` (or the vectorised ``map_batch(batch)``) and
optionally ``reducer``, ``combiner``, ``partitioner``, ``mapper_init``/``mapper_final``,
``reducer_init``/``reducer_final`` and settings (``NUM_REDUCERS``, ``SPLIT_SIZE``,
``COMBINER``, ``REDUCE``, ...: each is listed once, with its type and rule, in
:mod:`zmr.settings.job`). The vocabulary is mrjob's, applied to module-level functions
instead of methods. A multi-step job instead declares ``STEPS``, a list of
:class:`Step`, each with the same hooks and settings as keyword arguments. A job reading
several inputs, each in its own format with its own mapper (Hadoop's MultipleInputs),
declares ``INPUTS``, a list of :class:`Input`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from zmr.settings.job import INPUT_SETTINGS, STEP_SETTINGS

Pair = tuple[Any, Any]
HOOK_NAMES = (
    "mapper", "map_batch", "reducer", "combiner", "partitioner",
    "mapper_init", "mapper_final", "reducer_init", "reducer_final",
)
#: The hooks one input of a job with ``INPUTS`` may have of its own.
INPUT_HOOKS = ("mapper", "map_batch", "mapper_init", "mapper_final")


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
    inputs: tuple[InputSpec, ...] = ()   # INPUTS, each with its hooks; () = one input
    # the job file it was loaded from ("": built from functions, so it ships pickled) and
    # which step of that file's STEPS it is (0: a single-step module); see job.shipping
    module_file: str = ""
    step: int = 0

    def setting(self, name: str, default: Any = None) -> Any:
        return self.settings.get(name, default)

    def for_input(self, index: int) -> JobSpec:
        """The job as a map task of input ``index`` runs it: that input's map hooks (a
        split says which input it reads); the job itself if it has one input."""
        if not self.inputs:
            return self
        source = self.inputs[index]
        hooks = {name: getattr(source, name) for name in INPUT_HOOKS}
        return dataclasses.replace(self, inputs=(), **hooks)


@dataclass(frozen=True)
class InputSpec:
    """One loaded, validated input of a job with ``INPUTS``: its name, paths, map hooks
    (its own, else the module's) and settings by module name (``INPUT_FORMAT``, ...)."""

    name: str
    paths: tuple[str, ...]
    mapper: Callable[[Any, Any], Iterable[Pair]] | None
    map_batch: Callable[[Any], Any] | None = None
    mapper_init: Callable[[], Any] | None = None
    mapper_final: Callable[[], Iterable[Pair] | None] | None = None
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, init=False)
class Input:
    """One input of a job reading several (Hadoop's MultipleInputs), in ``INPUTS``::

        INPUTS = [zmr.Input("rankings/*.parquet", format="parquet", mapper=map_rankings),
                  zmr.Input("visits/", format="csv", mapper=map_visits)]

    ``paths``: a file, directory or glob, or a list of them (as ``--input`` takes).
    ``name`` (default ``input1``, ``input2``, ... by position) is how ``--input
    NAME=PATH`` replaces its paths. ``mapper`` or ``map_batch``, ``mapper_init`` and
    ``mapper_final`` are this input's hooks; those not given are the module's (or the first
    step's). The input settings go by their ``Input`` keywords (``format``, ``columns``,
    ``records``, ``column_types``, ``split_size``, ``combine_files``: the table in
    :mod:`zmr.settings.job`) and beat the module's. An unknown keyword is a TypeError at
    once; values are checked when the job is loaded, naming the file and the input."""

    paths: tuple[str, ...]
    name: str | None = None
    mapper: Any = None
    map_batch: Any = None
    mapper_init: Any = None
    mapper_final: Any = None
    settings: dict[str, Any] = field(default_factory=dict)   # Input keyword -> value

    def __init__(self, paths: str | Sequence[str], *, name: str | None = None,
                 **given: Any) -> None:
        listed = (paths,) if isinstance(paths, str) else tuple(paths)
        if not listed or not all(isinstance(p, str) and p for p in listed):
            raise TypeError(f"Input() takes a path, directory or glob (or a list of them) "
                            f"first, got {paths!r}")
        if name is not None and (not isinstance(name, str) or not name.isidentifier()):
            raise TypeError(f"Input(name=...) must be a name like 'visits', got {name!r}")
        object.__setattr__(self, "paths", listed)
        object.__setattr__(self, "name", name)
        for hook in INPUT_HOOKS:
            object.__setattr__(self, hook, given.pop(hook, None))
        unknown = [key for key in given if key not in INPUT_SETTINGS]
        if unknown:
            raise TypeError(f"Input() got an unexpected keyword argument {unknown[0]!r} "
                            f"(hooks: {', '.join(INPUT_HOOKS)}; settings: "
                            f"{', '.join(INPUT_SETTINGS)})")
        object.__setattr__(self, "settings", given)

    def module_settings(self) -> dict[str, Any]:
        """The settings given, under their job-module names (``format`` is
        ``INPUT_FORMAT``)."""
        return {str(INPUT_SETTINGS[key].module): value for key, value in self.settings.items()}


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
