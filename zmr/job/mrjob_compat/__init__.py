"""Running mrjob jobs unchanged: a module defining one ``MRJob`` subclass becomes a zmr job.

:func:`mrjob_class` finds the class in an imported job module (only if the module imported
mrjob: zmr never imports it otherwise), :func:`step_definitions` turns the job's
``steps()`` into the hooks and settings of zmr steps (see :mod:`.task` for how records,
protocols and the job instance are handled, :mod:`.jobconf` for ``JOBCONF``). What cannot
run here is refused at load, naming the step: shell-command steps (``*_cmd``,
``*_pre_filter``), jar and Spark steps, Hadoop input/output formats, partitioners and jars.

The job's own options (``configure_args``: ``add_passthru_arg``, ``add_file_arg``, and
mrjob's ``--jobconf``) are given on zmr's command line after the job's path, with zmr's
flags, as mrjob takes them after the script; they reach the job as ``self.options`` in
every task.
"""

from __future__ import annotations

import os
import sys
import types
from typing import Any

from zmr.core.errors import JobDefinitionError
from zmr.core.formats import FILES, LINES
from zmr.job.mrjob_compat.jobconf import settings_from_jobconf
from zmr.job.mrjob_compat.task import JobFactory, StepTask
from zmr.settings.job import MODULE_SETTINGS

#: Hooks of an MRStep that run a shell command: Hadoop Streaming runs them, zmr does not.
COMMAND_HOOKS = ("mapper_cmd", "mapper_pre_filter", "combiner_cmd", "combiner_pre_filter",
                 "reducer_cmd", "reducer_pre_filter")
#: Job methods naming Java classes or files Hadoop would load.
JAVA_PARTS = ("hadoop_input_format", "hadoop_output_format", "partitioner", "libjars",
              "archives", "dirs")
Definitions = tuple[dict[str, Any], str]      # a step's hooks and settings, and its label


def mrjob_class(module: types.ModuleType, path: str) -> type | None:
    """The ``MRJob`` subclass ``module`` defines, or None if it defines none."""
    mrjob_job = sys.modules.get("mrjob.job")
    if mrjob_job is None:
        return None
    found = [v for v in vars(module).values() if isinstance(v, type)
             and issubclass(v, mrjob_job.MRJob) and v.__module__ == module.__name__]
    leaves = [c for c in found if not any(o is not c and issubclass(o, c) for o in found)]
    if len(leaves) > 1:
        raise JobDefinitionError(f"{path}: defines {len(leaves)} MRJob classes "
                                 f"({', '.join(c.__name__ for c in leaves)}); an mrjob job "
                                 "module for zmr defines one")
    return leaves[0] if leaves else None


def is_mrjob_step(job: Any) -> bool:
    """Whether the zmr job (a JobSpec) is a step of an mrjob job."""
    return any(isinstance(getattr(getattr(job, hook), "__self__", None), StepTask)
               for hook in ("mapper", "reducer"))


def step_definitions(job_class: type, module: types.ModuleType, path: str,
                     args: list[str]) -> list[Definitions]:
    """Every step of the job as zmr hooks and settings (by module name)."""
    label = f"{path} ({job_class.__name__})"
    job = _instance(job_class, label, args)
    args = _with_local_files(job, args)
    factory = JobFactory(job_class, args, module.__name__)
    _refuse_java(job, label)
    steps = job.steps()
    if not steps:
        raise JobDefinitionError(f"{label}: the job has no steps (define mapper, reducer "
                                 "or steps())")
    for i, step in enumerate(steps):
        _refuse_step(step, f"{label}: step {i + 1}")
    base = settings_from_jobconf({**job.jobconf(), **(job.options.jobconf or {})}, label)
    base.update(_side_files(job, label))
    return [_step(job, factory, step, i, len(steps), base, f"{label}: step {i + 1}")
            for i, step in enumerate(steps)]


def _instance(job_class: type, label: str, args: list[str]) -> Any:
    try:
        job = job_class(args=list(args))
    except (ValueError, SystemExit) as exc:   # mrjob's parser error, or --help
        raise JobDefinitionError(f"{label}: job arguments {args!r}: {exc}") from None
    if job.options.args:
        raise JobDefinitionError(f"{label}: job arguments {args!r}: input paths go to "
                                 f"--input, not among the job's options "
                                 f"({', '.join(job.options.args)})")
    return job


def _refuse_java(job: Any, label: str) -> None:
    for name in JAVA_PARTS:
        value = getattr(job, name)()
        if value and not (name == "partitioner" and job.sort_values()):
            raise JobDefinitionError(f"{label}: {name}() is {value!r}: Hadoop (Java) "
                                     "classes and archives cannot run on zmr")


def _side_files(job: Any, label: str) -> dict[str, Any]:
    """``FILES``: shipped as zmr side files, which tasks find in their working directory."""
    files = list(job.files())
    if not files:
        return {}
    if "FILES" not in MODULE_SETTINGS:
        raise JobDefinitionError(f"{label}: FILES = {files!r} needs zmr's side files "
                                 "(--file), which this zmr does not have yet")
    here = os.path.dirname(os.path.abspath(job.mr_job_script() or "."))
    return {"FILES": [os.path.join(here, os.path.expanduser(f)) for f in files]}


def _with_local_files(job: Any, args: list[str]) -> list[str]:
    """``add_file_arg`` options with absolute paths, so tasks find the files wherever they
    run on this machine (or on a shared filesystem)."""
    if not job._file_arg_dests:
        return args
    from mrjob.options import _parse_raw_args
    out: list[str] = []
    for dest, option, values in _parse_raw_args(job.arg_parser, args):
        if dest in job._file_arg_dests:
            values = [os.path.abspath(os.path.expanduser(v.split("#")[0])) for v in values]
        out += ([option] if option else []) + [str(v) for v in values]
    return out


def _step(job: Any, factory: JobFactory, step: Any, i: int, total: int,
          base: dict[str, Any], where: str) -> Definitions:
    reduces = step["reducer"] is not None
    engine_sorts = "SORT_VALUES" in MODULE_SETTINGS
    task = StepTask(factory, i, last=i == total - 1, reduces=reduces,
                    sort_values_here=bool(job.sort_values()) and not engine_sorts)
    defs: dict[str, Any] = dict(base)
    defs.update(settings_from_jobconf(step["jobconf"] or {}, where))
    if i == 0 or step.has_explicit_mapper or step.has_explicit_combiner:
        defs.update(mapper=task.mapper, mapper_init=task.mapper_init,
                    mapper_final=task.mapper_final)
    if reduces:
        defs.update(reducer=task.reducer, reducer_init=task.reducer_init,
                    reducer_final=task.reducer_final)
        if job.sort_values() and engine_sorts:
            defs["SORT_VALUES"] = True
    else:
        defs["NUM_REDUCERS"] = 0            # a map-only step, as Hadoop runs it
    if not defs.get("SORT_VALUES"):
        # zmr's secondary sort takes no combiner (it would group on the whole sort key);
        # Hadoop's contract lets a combiner run zero times, which gives the same output
        defs.update(_combiner(step, task, reduces, where))
    if i == total - 1:
        defs["OUTPUT_FORMAT"] = LINES
    if i == 0 and step["mapper_raw"] is not None:
        defs["INPUT_FORMAT"] = FILES
    return defs, where


def _refuse_step(step: Any, where: str) -> None:
    mrjob_step = sys.modules["mrjob.step"]
    if not isinstance(step, mrjob_step.MRStep):
        raise JobDefinitionError(f"{where} is a {type(step).__name__}: zmr runs MRStep "
                                 "steps (Python mappers, combiners and reducers) only")
    for name in COMMAND_HOOKS:
        if step[name]:
            raise JobDefinitionError(f"{where}: {name} runs the shell command "
                                     f"{step[name]!r}; zmr runs Python steps only")


def _combiner(step: Any, task: StepTask, reduces: bool, where: str) -> dict[str, Any]:
    if step["combiner"] is None:
        return {}
    if not reduces:
        raise JobDefinitionError(f"{where} has a combiner but no reducer; zmr combines map "
                                 "output on its way to a reducer only")
    if step["combiner_init"] or step["combiner_final"]:
        # zmr may combine any subset of a key's values any number of times, within any
        # task, so there is no "combiner task" to start and end; Hadoop's contract lets a
        # combiner run zero times, which gives the same output
        print(f"zmr: {where}: combiner_init/combiner_final have no zmr equivalent; this "
              "step runs without its combiner", file=sys.stderr)
        return {}
    return {"combiner": task.combiner}
