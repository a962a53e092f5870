"""The plain-data forms of a multi-step job: what the journal writes and reads back, and
how status replies, history and the dashboard show it (one job with ``step``/``steps``);
and the checks a client's submission of one passes.

Kept apart from ``pipelines.py`` as ``records.py`` is from ``model.py``: the on-disk and
on-wire shapes change separately from the rules.
"""

from __future__ import annotations

import json
from typing import Any

from zmr.coordinator.model import Job
from zmr.coordinator.pipelines import PipelineJob
from zmr.coordinator.records import describe_job, to_json
from zmr.coordinator.states import FINAL_JOB_STATES, JobState
from zmr.coordinator.usage import describe_steps_usage
from zmr.core.errors import ZmrError
from zmr.core.jsonable import from_json
from zmr.core.jsonable import to_json as plain
from zmr.core.plan import StepPlan
from zmr.job.counters import Counters
from zmr.protocol.messages import SubmitPipeline
from zmr.storage import layout
from zmr.storage.fs import is_uri


def record_json(pipeline: PipelineJob) -> str:
    """What changes as the pipeline runs (its steps and codes are written once apart)."""
    return to_json({"job_id": pipeline.job_id, "name": pipeline.name,
                    "state": pipeline.state.value, "submitted_s": pipeline.submitted_s,
                    "finished_s": pipeline.finished_s, "error": pipeline.error,
                    "step_jobs": list(pipeline.step_jobs)})


def steps_json(steps: tuple[StepPlan, ...], codes: tuple[bytes, ...]) -> str:
    """The steps' settings, and how to cut the one blob their codes are kept in."""
    return json.dumps({"steps": plain(list(steps)), "code_sizes": [len(c) for c in codes]})


def pipeline_from_record(record: str, steps: str, codes: bytes) -> PipelineJob:
    r, s = json.loads(record), json.loads(steps)
    plans = tuple(from_json(list[StepPlan], s["steps"]))
    return PipelineJob(r["job_id"], r["name"], plans, split_codes(codes, s["code_sizes"]),
                       r["submitted_s"], JobState(r["state"]),
                       step_jobs=list(r["step_jobs"]), finished_s=r["finished_s"],
                       error=r["error"], dirty=False)


def split_codes(blob: bytes, sizes: list[int]) -> tuple[bytes, ...]:
    """The steps' codes out of one blob holding them one after another."""
    codes, start = [], 0
    for size in sizes:
        codes.append(blob[start:start + size])
        start += size
    return tuple(codes)


def describe_pipeline(pipeline: PipelineJob, jobs: dict[str, Job], now: float,
                      brief: bool = False) -> dict[str, Any]:
    """The pipeline as one job: the current step's tasks and progress, the counters of
    every step so far, ``step`` and ``steps``; ``step_jobs`` names the internal jobs."""
    steps = [jobs[j] for j in pipeline.step_jobs if j in jobs]
    current = describe_job(steps[-1], now, brief) if steps else _nothing_yet()
    counters = Counters()
    for step in steps:
        counters.merge(step.total_counters().to_dict())
    end = pipeline.finished_s if pipeline.finished_s is not None else now
    return {**current, "job_id": pipeline.job_id, "name": pipeline.name,
            "state": _state(pipeline, steps), "output": pipeline.output,
            "elapsed_s": round(end - pipeline.submitted_s, 3), "error": pipeline.error,
            "counters": counters.to_dict(), "submitted_s": pipeline.submitted_s,
            "started_s": steps[0].started_s if steps else None,
            "finished_s": pipeline.finished_s,
            "inputs": pipeline.steps[0].plan.input_paths(),
            "params": dict(pipeline.steps[0].plan.params),
            "step": pipeline.current, "steps": pipeline.total,
            "step_jobs": list(pipeline.step_jobs),
            **describe_steps_usage(steps, now, brief)}


def _state(pipeline: PipelineJob, steps: list[Job]) -> str:
    """Final: the pipeline's; else the running step's (QUEUED until step 1 starts), and
    RUNNING between two steps."""
    if pipeline.final or not steps or steps[-1].state in FINAL_JOB_STATES:
        return pipeline.state.value
    return steps[-1].state.value


def _nothing_yet() -> dict[str, Any]:
    return {"maps_done": 0, "maps_total": 0, "map_progress": 0.0, "reduces_done": 0,
            "reduces_total": 0, "tasks": []}


def submitted_steps(msg: SubmitPipeline,
                   blobs: list[bytes]) -> tuple[tuple[StepPlan, ...], tuple[bytes, ...]]:
    """The steps of a submission and their codes, refused unless they hang together (a
    client's word is checked, never trusted)."""
    if not msg.steps or len(msg.code_sizes) != len(msg.steps):
        raise ZmrError("a multi-step job carries one code size per step, and steps")
    if len(blobs) != 1 or any(n < 0 for n in msg.code_sizes) or \
            sum(msg.code_sizes) != len(blobs[0]):
        raise ZmrError("a multi-step job carries its steps' codes as one blob of the "
                       "sizes it names")
    if any(step.plan.splits for step in msg.steps[1:]):
        raise ZmrError("only the first step of a multi-step job comes with splits")
    output = msg.steps[-1].plan.output
    if is_uri(output):
        raise ZmrError(f"a multi-step job writes its intermediate steps next to its output, "
                       f"which must be a directory, not {output}")
    # each step reads where the one before wrote (PlanStep): the layout is not the client's
    if any(step.plan.output != layout.step_output_dir(output, number)
           for number, step in enumerate(msg.steps[:-1], 1)):
        raise ZmrError(f"the steps of a multi-step job write to {output}/_steps/step-N")
    try:
        for step in msg.steps:
            step.plan.check()
    except ZmrError as exc:
        raise ZmrError(f"malformed job plan: {exc}") from None
    return tuple(msg.steps), split_codes(blobs[0], msg.code_sizes)
