"""The in-process runner (``zmr run --inline``): every task, one after another, in this process.

It runs the very same task code as the cluster (``run_map_task``/``run_reduce_task``), so it is
both the debugging mode (user exceptions surface as themselves, like mrjob's inline runner)
and the oracle that cluster results are compared with in tests.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from typing import Any

from zmr.config import load_config
from zmr.core import coalescing
from zmr.core.errors import JobFailedError
from zmr.core.plan import JobPlan
from zmr.core.specs import MapManifest
from zmr.job.api import JobSpec, Pipeline
from zmr.job.counters import Counters
from zmr.job.inputs import Inputs, input_args
from zmr.job.loader import runnable
from zmr.job.pipeline import PipelineRun
from zmr.job.runtime import SKIPPED_COUNTER, skip_limit_problem
from zmr.job.shipping import working_directory
from zmr.runners.base import JobResult
from zmr.runners.run_log import InlineEvents
from zmr.settings.job import JobOptions, job_options
from zmr.storage import commit, quarantine
from zmr.storage.output_safety import check_job
from zmr.tasks.map_task import run_map_task
from zmr.tasks.reduce_task import run_reduce_task
from zmr.tasks.reuse import with_reuse_cache
from zmr.tasks.sampling import plan_sorted_job

INLINE_JOB_ID = "inline"
#: An inline run runs one task at a time: coalescing sizes its reduce tasks for one slot.
INLINE_SLOTS = 1


def run_inline(job: str | JobSpec | Pipeline, inputs: Inputs, output: str,
               options: JobOptions | None = None, **overrides: Any) -> JobResult:
    """Run ``job`` over ``inputs`` into ``output``, all in this process, under ``options``
    with keyword ``overrides`` (any :class:`JobOptions` field: ``reducers=4``,
    ``split_size="8MB"``, ``overwrite=True``, ...) on top. ``task_memory`` only caps the
    spill budget here: with no child process there is nothing to kill. A multi-step job
    runs its steps in order (see :func:`_run_steps`)."""
    started = time.monotonic()
    options = job_options(options, overrides)
    spec = runnable(job, options)
    inputs = input_args(inputs)
    # tasks run one at a time here: one slot, so one reducer (one part file, as a debugger
    # expects) unless NUM_REDUCERS says otherwise, and splits sized for one slot
    if isinstance(spec, Pipeline):
        return _run_steps(PipelineRun(spec, inputs, output, options), started)
    plan = plan_sorted_job(spec, inputs, output, options, parallelism=INLINE_SLOTS)
    overwrite = bool(options.resolved().overwrite)
    check_job([plan], spec.source, overwrite)
    events = InlineEvents()
    events.submitted(spec.name, plan)
    with _logging_end(events):
        result = _run_plan(spec, plan, overwrite, started, events)
    return _ended(events, result)


@contextlib.contextmanager
def _logging_end(events: InlineEvents) -> Iterator[None]:
    """A run that raises ends its event log as failed (cancelled: interrupted)."""
    try:
        yield
    except BaseException as exc:
        state = "CANCELLED" if isinstance(exc, KeyboardInterrupt) else "FAILED"
        events.ended(state, 0, 0, {}, f"{type(exc).__name__}: {exc}")
        raise


def _ended(events: InlineEvents, result: JobResult) -> JobResult:
    """The run's end logged (a multi-step job's totals: its steps') and named."""
    runs = result.steps or [result]
    events.ended("SUCCEEDED", sum(r.num_maps for r in runs),
                 sum(r.num_reducers for r in runs), result.counters)
    result.events = events.run_id
    return result


def _run_plan(spec: JobSpec, plan: JobPlan, overwrite: bool, started: float,
              events: InlineEvents | None = None) -> JobResult:
    """Every map task, then every reduce task, of one planned job (its events logged in
    ``events``; None: not logged)."""
    events = events or InlineEvents(keep=False)
    commit.prepare_output(plan.output, overwrite)
    counters = Counters()
    work_dir = tempfile.mkdtemp(prefix="zmr-inline-")
    try:
        first_task = time.monotonic()
        with working_directory(plan.files):
            busy_s, reduces, manifests = _run_tasks(spec, plan, work_dir, counters, events)
        quarantine.write(plan.output, ((m.map_index, m.quarantined) for m in manifests))
        events.quarantined(plan.output, sum(len(m.quarantined) for m in manifests))
        commit.mark_success(plan.output)
        wall_s = time.monotonic() - first_task
    except BaseException:
        commit.abort_output(plan.output)
        raise
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
    return JobResult(plan.output, plan.num_maps, reduces, time.monotonic() - started,
                     counters.to_dict(), partitions=plan.num_reducers,
                     **_usage(busy_s, wall_s, plan.num_maps))


def _usage(busy_s: float, wall_s: float, splits: int) -> dict[str, Any]:
    """One slot (this process), busy while a task ran, from the first task to the end."""
    return {"utilisation": round(min(1.0, busy_s / wall_s), 4) if wall_s > 0 else None,
            "splits": splits, "busy_s": round(busy_s, 3), "slot_s": round(wall_s, 3),
            "slots": 1,
            "worker_busy_s": {INLINE_JOB_ID: round(busy_s, 3)}}


def _run_tasks(spec: JobSpec, plan: JobPlan, work_dir: str, counters: Counters,
               events: InlineEvents) -> tuple[float, int, list[MapManifest]]:
    """Every map, then every reduce task, one after the other; the seconds they ran for,
    how many reduce tasks ran and what the maps made."""
    manifests, busy_s = [], 0.0
    # --reuse: the cache of this host (the config of $ZMR_CONFIG, else the defaults)
    config = load_config(os.environ.get("ZMR_CONFIG")) if plan.reuse else None
    for i in range(plan.num_maps):
        begun = time.monotonic()
        map_spec = plan.map_spec(INLINE_JOB_ID, i, 1, work_dir)
        if config is not None:
            map_spec = with_reuse_cache(map_spec, config)
        with events.task("map", i) as outcome:
            manifests.append(run_map_task(map_spec, spec))
            outcome["counters"] = manifests[-1].counters
        busy_s += time.monotonic() - begun
        counters.merge(manifests[-1].counters)
    events.phase_ended()
    _check_skipped(plan.skip_bad_records, counters)
    ranges = reduce_ranges(plan, manifests)
    for index, (first, last) in enumerate(ranges):
        segments = [m.segment(r) for m in manifests for r in range(first, last)]
        begun = time.monotonic()
        with events.task("reduce", index) as outcome:
            result = run_reduce_task(plan.reduce_spec(INLINE_JOB_ID, index, 1, segments,
                                                      work_dir), spec)
            outcome["counters"] = result.counters
        busy_s += time.monotonic() - begun
        counters.merge(result.counters)
    return busy_s, len(ranges), manifests


def reduce_ranges(plan: JobPlan, manifests: list[MapManifest]) -> list[tuple[int, int]]:
    """The partitions each reduce task reads: coalesced as a cluster does
    (``zmr.core.coalescing``) with the one slot this process is, when NUM_REDUCERS was
    not given; else one task per partition. Part files differ from a cluster's then (a
    cluster has more slots), their content does not."""
    if not plan.coalesce or not manifests:
        return [(r, r + 1) for r in range(plan.num_reducers)]
    sizes = coalescing.partition_sizes([[e.length for e in m.partitions] for m in manifests],
                                       plan.num_reducers)
    return coalescing.coalesce(sizes, slots=INLINE_SLOTS, maps=len(manifests))


def _run_steps(run: PipelineRun, started: float) -> JobResult:
    """The steps of a multi-step job, in order. The result describes the last step's
    output (tasks), with the counters of all steps added up and each step's in ``steps``."""
    steps: list[JobResult] = []
    events = InlineEvents()
    try:
        with _logging_end(events):
            while (step := run.next_step()) is not None:
                if not steps:
                    events.submitted(run.name, step.plan, len(run.steps), run.output)
                events.step_started(len(steps) + 1, step.plan)
                begun = time.time()
                steps.append(_run_plan(step.spec, step.plan, False, time.monotonic(),
                                       events))
                events.step_ended(len(steps), steps[-1].num_maps, steps[-1].num_reducers,
                                  begun)
    except BaseException:
        run.abort()
        raise
    run.finish()
    counters = Counters()
    for result in steps:
        counters.merge(result.counters)
    busy_s = sum(step.busy_s or 0.0 for step in steps)
    return _ended(events, JobResult(
        run.output, steps[-1].num_maps, steps[-1].num_reducers, time.monotonic() - started,
        counters.to_dict(), steps, **_usage(busy_s, sum(step.slot_s or 0.0 for step in steps),
                                            sum(step.splits for step in steps))))


def _check_skipped(limit: int, counters: Counters) -> None:
    """Each map task was held to the limit alone; the job as a whole must be too."""
    problem = skip_limit_problem(limit, counters.get(SKIPPED_COUNTER))
    if problem:
        raise JobFailedError(problem)


class InlineRunner:
    """The :class:`~zmr.runners.base.Runner` that runs every task in this process."""

    def run(self, job: str | JobSpec | Pipeline, inputs: list[str], output: str,
            options: JobOptions) -> JobResult:
        return run_inline(job, inputs, output, options)
