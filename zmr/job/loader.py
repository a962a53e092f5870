"""Job modules: find, load and validate them before any work starts; ship them with cloudpickle.

Every problem is reported as :class:`JobDefinitionError` naming the file and line: a syntax
error, an exception while importing, a missing or non-callable ``mapper``, a hook with the
wrong number of parameters, a setting of the wrong type, a bad ``INPUTS`` entry.
"""

from __future__ import annotations

import dataclasses
import difflib
import inspect
import itertools
import os
import sys
import traceback
import types
from collections.abc import Mapping
from typing import Any

from zmr.core import pandas_probe
from zmr.core.errors import ConfigError, JobDefinitionError
from zmr.job import params
from zmr.job.aggregations import AGGREGATIONS, Aggregation, declared, unknown_name
from zmr.job.api import (
    HOOK_NAMES,
    INPUT_HOOKS,
    Input,
    InputSpec,
    JobSpec,
    Pipeline,
    Step,
    identity_mapper,
)
from zmr.job.mrjob_compat import mrjob_class, step_definitions
from zmr.settings.job import INPUT_SETTINGS, MODULE_SETTINGS, JobOptions
from zmr.settings.setting import Setting

#: Parameters each hook must accept.
HOOK_ARITY = {"mapper": 2, "map_batch": 1, "reducer": 2, "combiner": 2, "partitioner": 2,
              "mapper_init": 0, "mapper_final": 0, "reducer_init": 0, "reducer_final": 0}
_module_counter = itertools.count()
#: The start of every job module's name in ``sys.modules``.
JOB_MODULE_PREFIX = "zmr_job_"


def resolve_job_path(ref: str, jobs_dir: str = "jobs") -> str:
    """A path to a job file, or a bare name looked up as ``jobs/<name>.py``."""
    candidates = [ref]
    if os.sep not in ref and not ref.endswith(".py"):
        candidates.append(os.path.join(jobs_dir, ref + ".py"))
    for path in candidates:
        if os.path.isfile(path):
            return os.path.abspath(path)
    raise JobDefinitionError(f"job {ref!r} not found (looked for {', '.join(candidates)})")


def runnable(job: str | JobSpec | Pipeline, options: JobOptions) -> JobSpec | Pipeline:
    """The job a run of ``options`` executes: ``job`` loaded if it is a path or name, with
    its reducer as combiner too under ``--combiner`` (``reducer_as_combiner``)."""
    if isinstance(job, (JobSpec, Pipeline)):
        spec = job
    else:
        with params.using(options.params or {}):  # module-level zmr.param() sees them too
            spec = load_runnable(job)
    return with_reducer_as_combiner(spec) if options.reducer_as_combiner else spec


def load_job(ref: str) -> JobSpec:
    """Load and validate the single-step job module ``ref`` (a path, or a bare name in
    ``jobs/``); a multi-step one is refused (see :func:`load_runnable`)."""
    job = load_runnable(ref)
    if isinstance(job, Pipeline):
        raise JobDefinitionError(f"{job.source}: defines STEPS ({len(job.steps)} steps); "
                                 "run it with zmr run, zmr submit or Client.submit")
    return job


def load_runnable(ref: str, job_args: list[str] | None = None) -> JobSpec | Pipeline:
    """Load and validate the job module ``ref``: a single-step job, the steps of a
    multi-step one (a module defining ``STEPS``), or an mrjob job (a module defining an
    ``MRJob`` subclass), which alone takes ``job_args``, its own command-line options."""
    path = resolve_job_path(ref)
    module = import_file(path)
    job_class = mrjob_class(module, path)
    if job_class is not None:
        return _from_mrjob(job_class, module, path, job_args or [])
    if job_args:
        raise JobDefinitionError(f"{path}: unrecognized arguments: {' '.join(job_args)} "
                                 "(only an mrjob job takes options of its own)")
    return runnable_from_module(module, path)


def runnable_from_module(module: types.ModuleType, path: str) -> JobSpec | Pipeline:
    """The validated job an imported job module defines (``path`` names it in errors)."""
    if hasattr(module, "STEPS"):
        return pipeline_from_module(module, path)
    return job_from_module(module, path)


def _from_mrjob(job_class: type, module: types.ModuleType, path: str,
                args: list[str]) -> JobSpec | Pipeline:
    """An mrjob job: one step is a job, more are a pipeline (zmr.job.mrjob_compat)."""
    steps = step_definitions(job_class, module, path, args)
    jobs = []
    for defs, where in steps:
        if len(steps) > 1:
            defs.setdefault("mapper", identity_mapper)      # a reducer-only step
        # module_file "": shipped pickled, with the options it was given (a worker that
        # imported the file again would not have them)
        jobs.append(dataclasses.replace(_job_from_definitions(defs, path, where),
                                        module_file=""))
    return jobs[0] if len(jobs) == 1 else Pipeline(jobs[0].name, path, tuple(jobs))


def import_file(path: str, shown: str | None = None) -> types.ModuleType:
    """Import the job file ``path`` as a fresh module, its own directory importable while
    it runs (so it can import its sibling modules); ``shown`` is the name its code, errors
    and tracebacks carry (a worker imports a shipped copy but names the user's file)."""
    shown = shown or path
    try:
        with open(path, encoding="utf-8") as f:
            source = f.read()
        code = compile(source, shown, "exec")
    except SyntaxError as exc:
        raise JobDefinitionError(
            f"{shown}:{exc.lineno}: syntax error: {exc.msg}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise JobDefinitionError(f"{shown}: cannot read job module: {exc}") from None
    stem = os.path.splitext(os.path.basename(path))[0]
    name = f"{JOB_MODULE_PREFIX}{stem}_{next(_module_counter)}"
    module = types.ModuleType(name)
    module.__file__ = path
    sys.modules[name] = module    # needed for cloudpickle's pickling by value, and dataclasses
    sys.path.insert(0, os.path.dirname(path))   # so a job can import its sibling helpers
    try:
        exec(code, module.__dict__)
    except BaseException as exc:  # noqa: BLE001 - anything the module raises is a bad job
        del sys.modules[name]
        raise JobDefinitionError(_import_failure(shown, exc, os.path.dirname(path))) from None
    finally:
        sys.path.remove(os.path.dirname(path))
    pandas_probe.notice()           # a job that imported pandas hands pandas to Arrow
    return module


def _import_failure(path: str, exc: BaseException, real_dir: str) -> str:
    """Where the import failed: the job file's line, or else the deepest line of a local
    module (a sibling helper it imports), with what was raised."""
    frames = traceback.extract_tb(exc.__traceback__)
    local = (os.path.dirname(path) + os.sep, real_dir + os.sep)
    ours = [f for f in frames if f.filename == path] or \
        [f for f in frames if f.filename.startswith(local) and "site-packages" not in f.filename]
    where = f"{ours[-1].filename}:{ours[-1].lineno}" if ours else path
    detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return f"{where}: error while importing the job module: {detail}"


def job_from_module(module: types.ModuleType, path: str) -> JobSpec:
    """Build a validated :class:`JobSpec` from a module's hooks and settings."""
    _check_setting_names(vars(module), path)
    return _job_from_definitions(vars(module), path, path, vars(module).get("INPUTS"))


#: The capitalised module names zmr reads: the settings, and INPUTS.
KNOWN_MODULE_NAMES = frozenset(MODULE_SETTINGS) | {"INPUTS"}


def _check_setting_names(defs: Mapping[str, Any], path: str) -> None:
    """A capitalised module-level name that is almost a setting's (``NUM_REDUCER``,
    ``REDUCERS``, ``SPLITSIZE``) is a typo zmr would otherwise ignore, running the job
    with the default instead: refuse it, naming the setting meant. Constants of the job's
    own are left alone unless they are that close; one that is can start with ``_``."""
    for name, value in defs.items():
        if not name.isupper() or name in KNOWN_MODULE_NAMES or name.startswith("_"):
            continue
        # a close name whose setting could not take the value is the job's own constant
        # (PARTITIONS = 8 is not PARTITIONER; REDUCERS = 2 is NUM_REDUCERS, not REDUCE)
        meant = [m for m in difflib.get_close_matches(name, MODULE_SETTINGS, cutoff=0.8)
                 if MODULE_SETTINGS[m].accepts(value)]
        if meant:
            raise JobDefinitionError(
                f"{path}: {name} is not a zmr setting: did you mean {meant[0]}? (a "
                f"constant of your own with a name this close to a setting's: start it "
                f"with _)")


def _job_from_definitions(defs: Mapping[str, Any], path: str, where: str,
                          raw_inputs: Any = None, step: int = 0) -> JobSpec:
    """A validated job from hooks and settings by name (a module's, or a Step's), reading
    ``raw_inputs`` (``INPUTS``) if given; ``where`` starts every message ("file" or
    "file: step 2")."""
    hooks = {name: defs.get(name) for name in HOOK_NAMES}
    inputs = () if raw_inputs is None else _inputs(raw_inputs, hooks, path, where)
    if inputs and hooks["mapper"] in (None, identity_mapper) and hooks["map_batch"] is None:
        # every input has its own mapper: the job's stands for them where one is expected
        hooks["mapper"], hooks["map_batch"] = inputs[0].mapper, inputs[0].map_batch
    if (hooks["mapper"] is None) == (hooks["map_batch"] is None):
        raise JobDefinitionError(f"{where}: job module defines no mapper(key, value)"
                                 if hooks["mapper"] is None else
                                 f"{where}: define mapper or map_batch, not both")
    for name, fn in hooks.items():
        if fn is not None:
            _check_hook(path, name, fn)
    settings = _settings(defs, where)
    aggregation = _built_in(where, settings.get("REDUCE"), settings.get("COMBINER"), hooks)
    name = os.path.splitext(os.path.basename(path))[0]
    return JobSpec(name=name, source=path, settings=settings, aggregation=aggregation,
                   inputs=inputs, module_file=path, step=step, **hooks)


def _inputs(raw: Any, hooks: dict[str, Any], path: str, where: str) -> tuple[InputSpec, ...]:
    """``INPUTS``: a non-empty list of :class:`Input` with distinct names, each input's
    hooks and settings checked like a module's (its hooks default to ``hooks``)."""
    if (not isinstance(raw, (list, tuple)) or not raw
            or not all(isinstance(item, Input) for item in raw)):
        raise JobDefinitionError(f"{where}: INPUTS must be a non-empty list of zmr.Input, "
                                 f"got {raw!r:.200}")
    inputs = tuple(_input(item, i, hooks, path, where) for i, item in enumerate(raw, 1))
    names = [source.name for source in inputs]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise JobDefinitionError(f"{where}: INPUTS has two inputs named {twice[0]!r} "
                                 "(give each its own name=...)")
    return inputs


def _input(item: Input, number: int, hooks: dict[str, Any], path: str,
           where: str) -> InputSpec:
    name = item.name or f"input{number}"
    label = f"{where}: input {name!r}"
    own = {hook: getattr(item, hook) for hook in INPUT_HOOKS}
    for hook, fn in own.items():
        if fn is not None:
            _check_hook(path, hook, fn)
    if own["mapper"] is not None and own["map_batch"] is not None:
        raise JobDefinitionError(f"{label}: define mapper or map_batch, not both")
    if own["mapper"] is None and own["map_batch"] is None:
        # a reducer-only step's identity mapper is no mapper of the input's records
        mapper = hooks["mapper"] if hooks["mapper"] is not identity_mapper else None
        own["mapper"], own["map_batch"] = mapper, hooks["map_batch"]
        if mapper is None and own["map_batch"] is None:
            raise JobDefinitionError(f"{label} has no mapper, and the job defines none "
                                     "(give it mapper=...)")
    for hook in ("mapper_init", "mapper_final"):
        own[hook] = own[hook] if own[hook] is not None else hooks[hook]
    settings = {str(INPUT_SETTINGS[key].module): _checked(INPUT_SETTINGS[key], value,
                                                         f"{label}: {key}")
                for key, value in item.settings.items()}
    return InputSpec(name, item.paths, settings=settings, **own)


def pipeline_from_module(module: types.ModuleType, path: str) -> Pipeline:
    """A multi-step job: ``STEPS``, a non-empty list of :class:`Step`, and nothing at the
    top level that a single-step module would run (that would be ambiguous)."""
    steps = module.STEPS
    if (not isinstance(steps, (list, tuple)) or not steps
            or not all(isinstance(step, Step) for step in steps)):
        raise JobDefinitionError(f"{path}: STEPS must be a non-empty list of zmr.Step, "
                                 f"got {steps!r:.200}")
    clash = [name for name in (*HOOK_NAMES, *MODULE_SETTINGS)
             if name in vars(module) and name != "PARAMS"]
    if clash:
        raise JobDefinitionError(f"{path}: a module with STEPS may not also define {clash[0]} "
                                 "at the top level (give each Step its own hooks and settings)")
    inputs = vars(module).get("INPUTS")     # the job's input: the first step reads it
    jobs = tuple(_step_job(step, i, path, inputs if i == 1 else None)
                 for i, step in enumerate(steps, 1))
    return Pipeline(jobs[0].name, path, _with_job_params(jobs, _settings(vars(module), path)))


def _with_job_params(jobs: tuple[JobSpec, ...], top: dict[str, Any]) -> tuple[JobSpec, ...]:
    """Parameters belong to the whole job: each step is declared every parameter that the
    module or any step declares (its own default first), so each accepts the same ones."""
    union = params.declared_union(top.get("PARAMS"), *(j.settings.get("PARAMS") for j in jobs))
    if union is None:
        return jobs
    return tuple(dataclasses.replace(j, settings={
        **j.settings, "PARAMS": {**union, **j.settings.get("PARAMS", {})}}) for j in jobs)


#: Settings only the first step of a multi-step job may have: the later ones read pairs.
_FIRST_STEP_ONLY = ("INPUT_FORMAT", "INPUT_COLUMNS", "INPUT_RECORDS", "CSV_COLUMN_TYPES")


def _step_job(step: Step, number: int, path: str, inputs: Any = None) -> JobSpec:
    defs, where = step.definitions(), f"{path}: step {number}"
    mapped = "mapper" in defs or "map_batch" in defs
    if not mapped and "reducer" not in defs and "REDUCE" not in defs:
        raise JobDefinitionError(f"{where} defines neither a mapper nor a reducer")
    if number > 1 and "map_batch" in defs:
        raise JobDefinitionError(f"{where}: map_batch reads text lines; a later step gets "
                                 "the previous step's pairs and needs mapper(key, value)")
    given = [name for name in _FIRST_STEP_ONLY if name in defs]
    if number > 1 and given:
        raise JobDefinitionError(
            f"{where}: {MODULE_SETTINGS[given[0]].step} is a setting of the job's input, "
            f"which step 1 reads; step {number} reads the pairs of step {number - 1}")
    if not mapped:
        defs["mapper"] = identity_mapper        # a reducer-only step, as in mrjob
    return _job_from_definitions(defs, path, where, inputs, number)


def _built_in(where: str, reduce: str | None, combine: str | None,
              hooks: dict[str, Any]) -> Aggregation | None:
    """``REDUCE = "sum"``: the built-in is reducer and (unless ``COMBINER = "none"``)
    combiner; ``COMBINER = "sum"`` alone: it combines for the job's own reducer. Sets the
    hooks it replaces; the aggregation runs column-wise (zmr/tasks/aggregating.py)."""
    if reduce is not None:
        if hooks["reducer"] is not None or hooks["combiner"] is not None:
            raise JobDefinitionError(f"{where}: REDUCE = {reduce!r} replaces reducer and "
                                     "combiner; define one or the other")
        if reduce not in AGGREGATIONS:
            raise JobDefinitionError(f"{where}: {unknown_name('REDUCE', reduce, AGGREGATIONS)}")
        if combine not in (None, "none", reduce):
            raise JobDefinitionError(
                f"{where}: COMBINER = {combine!r} with REDUCE = {reduce!r}: a built-in "
                "reduction combines with itself; COMBINER may only be \"none\" (no map-side "
                "combining)")
        aggregation = declared(reduce, "REDUCE", on_map=combine != "none", on_reduce=True)
        hooks["reducer"] = aggregation.reducer
        hooks["combiner"] = aggregation.combiner if aggregation.on_map else None
        return aggregation
    if combine is None:
        return None
    if combine in ("reducer", "none"):
        hooks["combiner"] = hooks["reducer"] if combine == "reducer" else None
        if combine == "reducer" and hooks["reducer"] is None:
            raise JobDefinitionError(f"{where}: COMBINER = 'reducer' but the job defines no "
                                     "reducer")
        return None
    if combine not in COMBINER_BUILT_INS:
        if combine in AGGREGATIONS:
            raise JobDefinitionError(
                f"{where}: COMBINER = {combine!r} would hand the reducer {combine} partials "
                f"instead of values; a combiner for your own reducer may be "
                f"{', '.join(COMBINER_BUILT_INS)}; for {combine} declare REDUCE = {combine!r}")
        raise JobDefinitionError(f"{where}: "
                                 f"{unknown_name('COMBINER', combine, COMBINER_NAMES)}")
    aggregation = declared(combine, "COMBINER", on_map=True, on_reduce=False)
    hooks["combiner"] = aggregation.combiner
    return aggregation


#: Built-ins whose partial is a value, so they may combine for a Python reducer.
COMBINER_BUILT_INS = tuple(n for n, a in AGGREGATIONS.items() if a.partial_is_value)
COMBINER_NAMES = ("reducer", "none", *COMBINER_BUILT_INS)


def _check_hook(path: str, name: str, fn: Any) -> None:
    line = getattr(getattr(fn, "__code__", None), "co_firstlineno", None)
    where = f"{path}:{line}" if line else path
    if not callable(fn):
        raise JobDefinitionError(f"{where}: {name} must be a function, got {type(fn).__name__}")
    try:
        inspect.signature(fn).bind(*([None] * HOOK_ARITY[name]))
    except TypeError:
        raise JobDefinitionError(
            f"{where}: {name} must accept {HOOK_ARITY[name]} argument(s)") from None
    except ValueError:
        pass      # builtins without a signature: trust them


def _settings(defs: Mapping[str, Any], where: str) -> dict[str, Any]:
    """The module's settings (every name in the table it defines), each of the right type
    and obeying its rule, as the module wrote them (planning converts them)."""
    return {name: _checked(setting, defs[name], f"{where}: setting {name}")
            for name, setting in MODULE_SETTINGS.items() if name in defs}


def _checked(setting: Setting, value: Any, label: str) -> Any:
    if not setting.accepts(value):
        raise JobDefinitionError(f"{label} = {value!r} has the wrong type "
                                 f"(expected {setting.type_names})")
    try:
        setting.parse(value, label)
    except ConfigError as exc:
        raise JobDefinitionError(str(exc)) from None
    return value


def with_reducer_as_combiner(job: JobSpec | Pipeline) -> JobSpec | Pipeline:
    """``--combiner``: reuse the reducer as combiner (only right for associative and
    commutative reducers, like sums; the job author vouches for that with the flag). In a
    multi-step job, in every step that has a reducer."""
    if isinstance(job, Pipeline):
        if not any(step.reducer is not None for step in job.steps):
            raise JobDefinitionError(f"{job.source}: --combiner needs a reducer to reuse")
        return dataclasses.replace(job, steps=tuple(
            _reducer_as_combiner(s) if s.reducer is not None else s for s in job.steps))
    return _reducer_as_combiner(job)


def _reducer_as_combiner(job: JobSpec) -> JobSpec:
    if job.aggregation is not None:
        return job                      # REDUCE = "..." already combines with Arrow
    if job.reducer is None:
        raise JobDefinitionError(f"{job.source}: --combiner needs a reducer to reuse")
    return dataclasses.replace(job, combiner=job.reducer)
