"""The plain-data forms of the coordinator's records: what the journal writes and reads
back (``job_record`` / ``job_from_record``) and what clients and the dashboard are shown
(``describe_*``).

Kept apart from ``model.py`` so the records' rules and their on-disk shape change
separately: a journal written by an older coordinator must still load (attempt states
are stored as the strings ``AttemptState`` has as values; a task's result as the JSON
shape of its MapManifest or ReduceResult, which older coordinators stored as it came).
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from zmr.coordinator.commands import JobChange
from zmr.coordinator.model import MAP, REDUCE, Attempt, Job, Task, WorkerInfo
from zmr.coordinator.states import FINAL_JOB_STATES, AttemptState, JobState, TaskState
from zmr.coordinator.usage import SlotTime, describe_usage
from zmr.core.plan import JobPlan
from zmr.core.specs import MapManifest, ReduceResult, Split
from zmr.job.counters import Counters


def job_record(job: Job, with_plan: bool = True, with_tasks: bool = True) -> dict[str, Any]:
    """Everything needed to rebuild ``job`` after a coordinator restart (not the code; the
    plan, which never changes and can be large, and the tasks, which the journal keeps one
    per row, only if asked for)."""
    record: dict[str, Any] = {
        "job_id": job.job_id, "name": job.name,
        "submitted_s": job.submitted_s, "state": job.state.value,
        "started_s": job.started_s, "finished_s": job.finished_s, "error": job.error,
        "counters": job.counters.to_dict(), "worker_failures": dict(job.worker_failures),
        "slot_time": job.slot_time.to_record(), "busy": job.busy,
        "rebalanced": job.rebalanced,
    }
    if job.error_kind:
        record["error_kind"] = job.error_kind
    if job.reduce_ranges:
        record["reduce_ranges"] = [list(r) for r in job.reduce_ranges]
    if with_tasks:
        record["tasks"] = [task_record(t) for t in job.tasks()]
    if with_plan:
        record["plan"] = job.plan.to_dict()
    return record


def task_record(task: Task) -> dict[str, Any]:
    record = {"kind": task.kind, "index": task.index, "state": task.state.value,
              "failures": task.failures, "error": task.error, "traceback": task.traceback,
              "result": task.result.to_dict() if task.result is not None else None,
              "output_worker": task.output_worker,
              "attempts": _attempts(task)}
    if task.split is not None:          # cut by rebalancing, or such a cut's remainder
        record["split"] = task.split.to_dict()
    if task.position is not None:
        record["position"] = list(task.position)
    return record


def header_json(job: Job) -> str:
    """The job's journal header (its record without plan and tasks), as JSON."""
    return to_json(job_record(job, with_plan=False, with_tasks=False))


def to_json(record: dict[str, Any]) -> str:
    return json.dumps(record, separators=(",", ":"))


def job_from_record(r: dict[str, Any], code: bytes) -> Job:
    job = Job(r["job_id"], r["name"], JobPlan.from_dict(r["plan"]), code, r["submitted_s"],
              JobState(r["state"]), started_s=r["started_s"], finished_s=r["finished_s"],
              error=r["error"], error_kind=r.get("error_kind", ""),
              counters=Counters(r["counters"]),
              worker_failures=dict(r["worker_failures"]),
              # absent from the journals of older coordinators: usage unknown ("-")
              slot_time=SlotTime.from_record(r.get("slot_time")), busy=r.get("busy"),
              rebalanced=int(r.get("rebalanced", 0)),
              reduce_ranges=[(int(a), int(b)) for a, b in r.get("reduce_ranges", [])])
    tasks = [_task_from_record(job.job_id, t) for t in r["tasks"]]
    maps = sorted((t for t in tasks if t.kind == MAP), key=lambda t: t.index)
    _with_cut_splits(job, maps)
    reduces = [t for t in tasks if t.kind == REDUCE]
    if job.reduce_ranges:
        # coalesced: the rows of the reduce tasks made before (one per partition) beyond
        # the coalesced ones are left in the journal, and mean nothing now
        reduces = reduces[:len(job.reduce_ranges)]
    job.set_tasks(maps, reduces)
    return job


def job_change(job: Job, every_task: bool = False) -> JobChange:
    """What the journal must write of ``job``: its header and the tasks changed since
    the last time (``every_task``, or a job without a tally: all of them, and those
    changed stay marked for the next checkpoint)."""
    tasks = job.tally.take_dirty() if job.tally is not None and not every_task else \
        job.tasks()
    return JobChange(job.job_id, job.name, job.state.value, job.state in FINAL_JOB_STATES,
                     header_json(job),
                     tuple((t.kind, t.index, to_json(task_record(t))) for t in tasks),
                     job.plan, job.code)


def _with_cut_splits(job: Job, maps: list[Task]) -> None:
    """The plan is journaled as submitted (or as it was when first written): the maps
    whose split rebalancing cut, and the remainders it made, say what they read now."""
    cut = [(t.index, t.split) for t in maps if t.split is not None]
    if not cut:
        return
    splits = list(job.plan.splits)
    for index, split in cut:
        if index < len(splits):
            splits[index] = split
        elif index == len(splits):
            splits.append(split)
        else:
            raise ValueError(f"journal of {job.job_id}: map {index} follows map "
                             f"{len(splits) - 1}")
    job.plan = dataclasses.replace(job.plan, splits=splits)


def _task_from_record(job_id: str, r: dict[str, Any]) -> Task:
    attempts = [Attempt(n, w, s, f, AttemptState(o), spec)
                for n, w, s, f, o, spec in r["attempts"]]
    split = Split.from_dict(r["split"]) if r.get("split") is not None else None
    position = tuple(r["position"]) if r.get("position") is not None else None
    return Task(job_id, r["kind"], r["index"], TaskState(r["state"]), attempts, r["failures"],
                r["error"], r["traceback"], _result(r["kind"], r["result"]), r["output_worker"],
                split, position)


def _result(kind: str, record: Any) -> MapManifest | ReduceResult | None:
    if record is None:
        return None
    result: MapManifest | ReduceResult = (MapManifest if kind == MAP else
                                          ReduceResult).from_dict(record)
    return result


def describe_job(job: Job, now: float, brief: bool = False) -> dict[str, Any]:
    """The job as clients and the dashboard see it (``brief``: without its tasks)."""
    end = job.finished_s if job.finished_s is not None else now
    described = {
        "job_id": job.job_id, "name": job.name, "state": job.state.value,
        "output": job.plan.output, "maps_done": job.done(MAP),
        "maps_total": len(job.maps), "map_progress": job.map_progress(),
        "reduces_done": job.done(REDUCE),
        "reduces_total": len(job.reduces), "partitions": job.plan.num_reducers,
        "elapsed_s": round(end - job.submitted_s, 3),
        "error": job.error, "error_kind": job.error_kind,
        "counters": job.total_counters().to_dict(),
        "submitted_s": job.submitted_s, "started_s": job.started_s,
        "finished_s": job.finished_s, "inputs": job.plan.input_paths(),
        "params": dict(job.plan.params), **describe_usage(job, now, brief),
    }
    if not brief:
        described["tasks"] = [_describe_task(t) for t in job.tasks()]
    return described


def _describe_task(task: Task) -> dict[str, Any]:
    return {"task": task.kind, "index": task.index, "state": task.state.value,
            "error": task.error, "traceback": task.traceback, "attempts": _attempts(task)}


def _attempts(task: Task) -> list[list[Any]]:
    return [[a.number, a.worker_id, a.started_s, a.finished_s, a.state.value, a.speculative]
            for a in task.attempts]


def describe_worker(worker: WorkerInfo) -> dict[str, Any]:
    return {"worker_id": worker.worker_id, "host": worker.host, "slots": worker.slots,
            "cpus": worker.cpus, "memory_mb": worker.memory_mb,
            # slots, not counting prefetch: idle ones, and attempts waiting behind busy ones
            "free_slots": worker.idle_slots(), "queued": len(worker.queued()),
            "shuffle_endpoint": worker.shuffle_endpoint,
            "tasks_done": worker.tasks_done, "tasks_failed": worker.tasks_failed}


def job_number(job_id: str) -> int:
    """The NNNN of ``job-NNNN`` (0 for any other form): jobs are journaled in this order,
    and a restarted coordinator numbers new jobs after the last one."""
    try:
        return int(job_id.rsplit("-", 1)[1])
    except (IndexError, ValueError):
        return 0
