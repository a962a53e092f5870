"""Jobs given to the Python API: plain functions (lambdas and closures too), an imported job
module, or a job file's path; and the keyword arguments of ``zmr.run``/``Client.run``
sorted into hooks and job options.

Functions travel to workers with cloudpickle, by value: a closure carries what it closed
over (the current centroids of a k-means round, say), and a function from one of the
user's own modules (not an installed package) is shipped with its code, so workers need not
be able to import that module.
"""

from __future__ import annotations

import dataclasses
import inspect
import os
import sys
import sysconfig
import types
from collections.abc import Callable
from typing import Any

import cloudpickle

from zmr.core.errors import ConfigError, JobDefinitionError
from zmr.job.api import HOOK_NAMES, JobSpec, Pipeline
from zmr.job.loader import (
    _check_hook,
    _job_from_definitions,
    job_from_module,
    pipeline_from_module,
)
from zmr.settings.job import OPTION_SETTINGS, JobOptions, job_options

Job = str | os.PathLike[str] | types.ModuleType | JobSpec | Pipeline
OPTION_NAMES = tuple(s.name for s in OPTION_SETTINGS)
#: Keywords that pick hooks rather than options: ``reduce="sum"``, ``combiner="reducer"``.
HOOK_KEYWORDS = ("reduce",)


def job_and_options(job: Job | None, options: JobOptions | None, given: dict[str, Any]
                    ) -> tuple[str | JobSpec | Pipeline, JobOptions]:
    """The job to run and its options, from an API call's ``job`` argument (or the hook
    functions among its keywords) and the rest of its keywords (:class:`JobOptions` fields;
    None means "not given"). An unknown keyword is a ConfigError naming it."""
    given = {name: value for name, value in given.items() if value is not None}
    hooks = {name: given.pop(name) for name in (*HOOK_NAMES, *HOOK_KEYWORDS) if name in given}
    unknown = sorted(set(given) - set(OPTION_NAMES))
    if unknown:
        raise ConfigError(f"unknown job setting {unknown[0]!r} (hooks: "
                          f"{', '.join(HOOK_NAMES)}; settings: {', '.join(OPTION_NAMES)})")
    options = job_options(options, given)
    if job is not None and hooks:
        raise ConfigError(f"give a job ({job!r:.80}) or hook functions "
                          f"({', '.join(hooks)}), not both")
    if job is None:
        return job_from_functions(**hooks), options
    return _job_reference(job), options


def _job_reference(job: Job) -> str | JobSpec | Pipeline:
    if isinstance(job, types.ModuleType):
        path = getattr(job, "__file__", None) or f"<module {job.__name__}>"
        _ship_by_value([job])
        if hasattr(job, "STEPS"):
            return pipeline_from_module(job, path)
        return job_from_module(job, path)
    if isinstance(job, os.PathLike):
        return os.fspath(job)
    if isinstance(job, (str, JobSpec, Pipeline)):
        return job
    raise ConfigError(f"job must be a job file's path, a job module, or given as mapper=... "
                      f"functions; got {type(job).__name__}")


def job_from_functions(**hooks: Any) -> JobSpec:
    """A validated single-step job from hook functions (``mapper``, ``reducer``, ...;
    ``combiner="reducer"`` and ``reduce="sum"`` as in a job module)."""
    first = hooks.get("mapper") or hooks.get("map_batch")
    if first is None:
        raise JobDefinitionError("no mapper: give mapper=f(key, value) or map_batch=f(batch)")
    source = _source_of(first)
    defs = dict(hooks)
    if isinstance(defs.get("combiner"), str):
        defs["COMBINER"] = defs.pop("combiner")
    if "reduce" in defs:
        defs["REDUCE"] = defs.pop("reduce")
    for name, fn in hooks.items():     # each function's own file:line, before the job's
        if name in HOOK_NAMES and not (name == "combiner" and isinstance(fn, str)):
            _check_hook(_source_of(fn), name, fn)
    _ship_by_value([inspect.getmodule(f) for f in hooks.values() if callable(f)])
    spec = _job_from_definitions(defs, source, source)
    # module_file "": functions ship pickled (job.shipping); importing their file again on
    # a worker would find a driver script, not a job module
    return dataclasses.replace(spec, name=_name(first), module_file="")


def _source_of(fn: Callable[..., Any]) -> str:
    """Where the function was written, for error messages: its file (a notebook cell's
    file in Jupyter), else its name."""
    try:
        return inspect.getsourcefile(fn) or f"<function {_name(fn)}>"
    except TypeError:
        return f"<function {_name(fn)}>"


def _name(fn: Callable[..., Any]) -> str:
    name = getattr(fn, "__name__", type(fn).__name__)
    return "lambda" if name == "<lambda>" else name


def _ship_by_value(modules: list[types.ModuleType | None]) -> None:
    """Pickle the functions of these modules by value when they are the user's own (not
    zmr's, not installed, not ``__main__``, which cloudpickle ships by value already)."""
    for module in modules:
        if module is not None and _is_users(module):
            cloudpickle.register_pickle_by_value(module)


def _is_users(module: types.ModuleType) -> bool:
    path = getattr(module, "__file__", None)
    if (not path or module.__name__ == "__main__" or module.__name__.split(".")[0] == "zmr"
            or module.__name__ not in sys.modules):
        return False
    installed = {sysconfig.get_paths()[key] for key in ("stdlib", "purelib", "platlib")}
    return not any(os.path.abspath(path).startswith(root + os.sep) for root in installed)
