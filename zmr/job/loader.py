"""Job modules: find, load and validate them before any work starts; ship them with cloudpickle.

Every problem is reported as :class:`JobDefinitionError` naming the file and line: a syntax
error, an exception while importing, a missing or non-callable ``mapper``, a hook with the
wrong number of parameters, a setting of the wrong type.
"""

from __future__ import annotations

import dataclasses
import inspect
import itertools
import os
import sys
import traceback
import types
from collections.abc import Mapping
from typing import Any

import cloudpickle

from zmr.core.errors import ConfigError, JobDefinitionError
from zmr.job import params
from zmr.job.aggregations import AGGREGATIONS, Aggregation
from zmr.job.api import HOOK_NAMES, JobSpec, Pipeline, Step, identity_mapper
from zmr.job.mrjob_compat import mrjob_class, step_definitions
from zmr.settings.job import MODULE_SETTINGS, JobOptions
from zmr.settings.setting import Setting

#: Parameters each hook must accept.
HOOK_ARITY = {"mapper": 2, "map_batch": 1, "reducer": 2, "combiner": 2, "partitioner": 2,
              "mapper_init": 0, "mapper_final": 0, "reducer_init": 0, "reducer_final": 0}
_module_counter = itertools.count()


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
    module = _import_file(path)
    job_class = mrjob_class(module, path)
    if job_class is not None:
        return _from_mrjob(job_class, module, path, job_args or [])
    if job_args:
        raise JobDefinitionError(f"{path}: unrecognized arguments: {' '.join(job_args)} "
                                 "(only an mrjob job takes options of its own)")
    if hasattr(module, "STEPS"):
        return pipeline_from_module(module, path)
    return job_from_module(module, path)


def _from_mrjob(job_class: type, module: types.ModuleType, path: str,
                args: list[str]) -> JobSpec | Pipeline:
    """An mrjob job: one step is a job, more are a pipeline (zmr.job.mrjob_compat)."""
    steps = step_definitions(job_class, module, path, args)
    if len(steps) == 1:
        return _job_from_definitions(steps[0][0], path, steps[0][1])
    jobs = []
    for defs, where in steps:
        defs.setdefault("mapper", identity_mapper)      # a reducer-only step
        jobs.append(_job_from_definitions(defs, path, where))
    return Pipeline(jobs[0].name, path, tuple(jobs))


def _import_file(path: str) -> types.ModuleType:
    try:
        with open(path, encoding="utf-8") as f:
            source = f.read()
        code = compile(source, path, "exec")
    except SyntaxError as exc:
        raise JobDefinitionError(
            f"{path}:{exc.lineno}: syntax error: {exc.msg}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise JobDefinitionError(f"{path}: cannot read job module: {exc}") from None
    name = f"zmr_job_{os.path.splitext(os.path.basename(path))[0]}_{next(_module_counter)}"
    module = types.ModuleType(name)
    module.__file__ = path
    sys.modules[name] = module    # needed for cloudpickle's pickling by value, and dataclasses
    sys.path.insert(0, os.path.dirname(path))   # so a job can import its sibling helpers
    try:
        exec(code, module.__dict__)
    except BaseException as exc:  # noqa: BLE001 - anything the module raises is a bad job
        del sys.modules[name]
        raise JobDefinitionError(_import_failure(path, exc)) from None
    finally:
        sys.path.remove(os.path.dirname(path))
    return module


def _import_failure(path: str, exc: BaseException) -> str:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == path]
    where = f"{path}:{frames[-1].lineno}" if frames else path
    detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return f"{where}: error while importing the job module: {detail}"


def job_from_module(module: types.ModuleType, path: str) -> JobSpec:
    """Build a validated :class:`JobSpec` from a module's hooks and settings."""
    return _job_from_definitions(vars(module), path, path)


def _job_from_definitions(defs: Mapping[str, Any], path: str, where: str) -> JobSpec:
    """A validated job from hooks and settings by name (a module's, or a Step's);
    ``where`` starts every message ("file" or "file: step 2")."""
    hooks = {name: defs.get(name) for name in HOOK_NAMES}
    if (hooks["mapper"] is None) == (hooks["map_batch"] is None):
        raise JobDefinitionError(f"{where}: job module defines no mapper(key, value)"
                                 if hooks["mapper"] is None else
                                 f"{where}: define mapper or map_batch, not both")
    for name, fn in hooks.items():
        if fn is not None:
            _check_hook(path, name, fn)
    settings = _settings(defs, where)
    if settings.get("COMBINER") is not None:
        hooks["combiner"] = _combiner_from_setting(where, settings["COMBINER"], hooks)
    aggregation = None
    if settings.get("REDUCE") is not None:
        aggregation = _aggregation(where, settings["REDUCE"], hooks)
        hooks["combiner"], hooks["reducer"] = aggregation.combiner, aggregation.reducer
    name = os.path.splitext(os.path.basename(path))[0]
    return JobSpec(name=name, source=path, settings=settings, aggregation=aggregation, **hooks)


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
    jobs = tuple(_step_job(step, i, path) for i, step in enumerate(steps, 1))
    return Pipeline(jobs[0].name, path, _with_job_params(jobs, _settings(vars(module), path)))


def _with_job_params(jobs: tuple[JobSpec, ...], top: dict[str, Any]) -> tuple[JobSpec, ...]:
    """Parameters belong to the whole job: each step is declared every parameter that the
    module or any step declares (its own default first), so each accepts the same ones."""
    union = params.declared_union(top.get("PARAMS"), *(j.settings.get("PARAMS") for j in jobs))
    if union is None:
        return jobs
    return tuple(dataclasses.replace(j, settings={
        **j.settings, "PARAMS": {**union, **j.settings.get("PARAMS", {})}}) for j in jobs)


def _step_job(step: Step, number: int, path: str) -> JobSpec:
    defs, where = step.definitions(), f"{path}: step {number}"
    mapped = "mapper" in defs or "map_batch" in defs
    if not mapped and "reducer" not in defs and "REDUCE" not in defs:
        raise JobDefinitionError(f"{where} defines neither a mapper nor a reducer")
    if number > 1 and "map_batch" in defs:
        raise JobDefinitionError(f"{where}: map_batch reads text lines; a later step gets "
                                 "the previous step's pairs and needs mapper(key, value)")
    if not mapped:
        defs["mapper"] = identity_mapper        # a reducer-only step, as in mrjob
    return _job_from_definitions(defs, path, where)


def _aggregation(where: str, name: str, hooks: dict[str, Any]) -> Aggregation:
    if hooks["reducer"] is not None or hooks["combiner"] is not None:
        raise JobDefinitionError(f"{where}: REDUCE = {name!r} replaces reducer and combiner; "
                                 "define one or the other")
    if name not in AGGREGATIONS:
        raise JobDefinitionError(f"{where}: REDUCE = {name!r} is not one of "
                                 f"{', '.join(AGGREGATIONS)}")
    return AGGREGATIONS[name]


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


def _combiner_from_setting(path: str, value: str, hooks: dict[str, Any]) -> Any:
    if value == "reducer" and hooks["reducer"] is not None:
        return hooks["reducer"]
    if value == "none":
        return None
    raise JobDefinitionError(f"{path}: COMBINER = {value!r}: use \"reducer\" (reuse the "
                             "reducer, which must then be associative) or \"none\"")


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


def pack_job(job: JobSpec) -> bytes:
    """Serialise a job's code and settings (cloudpickle, by value: workers need no copy)."""
    for hook in HOOK_NAMES:     # a step's mapper may be zmr's identity_mapper: look further
        module = sys.modules.get(_code_module(getattr(job, hook)) or "")
        if module is not None and module.__name__.startswith("zmr_job_"):
            cloudpickle.register_pickle_by_value(module)
            break
    return cloudpickle.dumps(job)  # type: ignore[no-any-return]


def _code_module(hook: Any) -> str | None:
    """The module whose code ``hook`` runs: its own, or for a hook that is a method of an
    adapter running another module's code (an mrjob step), that module."""
    owner = getattr(hook, "__self__", None)
    return getattr(owner, "code_module", None) or getattr(hook, "__module__", None)


def unpack_job(blob: bytes) -> JobSpec:
    """Inverse of :func:`pack_job`; only ever called on blobs from authenticated submitters."""
    job = cloudpickle.loads(blob)
    if not isinstance(job, JobSpec):
        raise JobDefinitionError("job payload is not a zmr job")
    _restore_filenames(job)
    return job


def _restore_filenames(job: JobSpec) -> None:
    """cloudpickle names by-value code ``<dynamic-code>``; put the job file back so user
    tracebacks on workers point at the user's file and line."""
    hooks = [getattr(job, name) for name in HOOK_NAMES]
    functions = {id(f): f for f in hooks if isinstance(f, types.FunctionType)}
    for fn in list(functions.values()):
        functions.update({id(g): g for g in fn.__globals__.values()
                          if isinstance(g, types.FunctionType)})
    for fn in functions.values():
        if fn.__code__.co_filename == "<dynamic-code>":
            fn.__code__ = _with_filename(fn.__code__, job.source)


def _with_filename(code: types.CodeType, filename: str) -> types.CodeType:
    consts = tuple(_with_filename(c, filename) if isinstance(c, types.CodeType) else c
                   for c in code.co_consts)
    return code.replace(co_filename=filename, co_consts=consts)
