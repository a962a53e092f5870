"""Read-only views of the coordinator's state for everything outside the state machine:
the server, status replies, the dashboard snapshot.

They return plain JSON-ready data or frozen records and change nothing, so no caller
holds (or could change) a live ``Job``, ``Task`` or ``WorkerInfo``: every change still goes
through ``CoordinatorState.handle``. What the journal writes comes out of the door too (the
``Persist`` answer to a ``Checkpoint``), since taking the changes marks them written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from zmr.coordinator import policy, records
from zmr.coordinator.pipeline_records import describe_pipeline
from zmr.coordinator.pipelines import owner_of
from zmr.coordinator.states import FINAL_JOB_STATES, JobState
from zmr.core.ids import AttemptId
from zmr.core.plan import JobPlan

if TYPE_CHECKING:
    from zmr.coordinator.machine import CoordinatorState


LIVE_STATES = frozenset({JobState.QUEUED.value, JobState.RUNNING.value})


@dataclass(frozen=True)
class JobView:
    """A job's headline facts, for log lines."""

    job_id: str
    job_name: str
    state: str
    final: bool
    submitted_s: float
    finished_s: float | None
    output: str


def next_job_id(state: CoordinatorState) -> str:
    """The id the next ``JobSubmitted`` must carry."""
    return f"job-{state.last_job_number + 1:04d}"


def knows_job(state: CoordinatorState, job_id: str) -> bool:
    return job_id in state.jobs or job_id in state.pipelines


def log_job_ids(state: CoordinatorState, job_id: str) -> list[str]:
    """The jobs whose attempt logs ``job_id`` has: a multi-step job's are its steps'."""
    pipeline = state.pipelines.get(job_id)
    return list(pipeline.step_jobs) if pipeline is not None else [job_id]


def knows_worker(state: CoordinatorState, worker_id: str) -> bool:
    return worker_id in state.workers


def worker_token(state: CoordinatorState, worker_id: str) -> str | None:
    """The process token a registered worker gave (None: not registered)."""
    worker = state.workers.get(worker_id)
    return worker.token if worker is not None else None


def worker_host(state: CoordinatorState, worker_id: str) -> str:
    worker = state.workers.get(worker_id)
    return worker.host if worker is not None else ""


def worker_ids(state: CoordinatorState) -> list[str]:
    return list(state.workers)


def job_view(state: CoordinatorState, job_id: str) -> JobView | None:
    job = state.jobs.get(job_id)
    if job is None:
        return None
    return JobView(job.job_id, job.name, job.state.value, job.state in FINAL_JOB_STATES,
                   job.submitted_s, job.finished_s, job.plan.output)


def is_running_attempt(state: CoordinatorState, attempt: AttemptId, worker_id: str) -> bool:
    """Whether that attempt exists and runs on ``worker_id`` (anything else is stale, as an
    attempt of the same id given out by a coordinator on another state dir, or forged)."""
    found = state.running_attempt(attempt)
    return found is not None and found[2].worker_id == worker_id


def jobs_to_forget(state: CoordinatorState, job_ids: list[str]) -> list[str]:
    """Of the jobs a worker has data for, those that are over (or unknown to us)."""
    return [j for j in job_ids if j not in state.jobs or state.jobs[j].state in
            FINAL_JOB_STATES]


def unplaceable(state: CoordinatorState, *plans: JobPlan) -> str:
    """Why no registered worker could ever run a task of one of ``plans`` ("" if one
    could, or if no worker has registered yet)."""
    workers = list(state.workers.values())
    return next((p for p in (policy.unplaceable(plan.resources, workers) for plan in plans)
                 if p), "")


def describe_jobs(state: CoordinatorState, now: float, job_id: str = "",
                  brief: bool = False) -> list[dict[str, Any]]:
    """Every job (or the one named) as a status reply shows it, oldest first. A multi-step
    job is one entry; its step jobs are not listed apart (asked for by id, they answer)."""
    listed = _described(state, now, job_id, brief)
    for described in listed:
        described["warning"] = no_worker_warning(state, now, described)
    # ids are numbered in submission order (a restart reads pipelines after jobs)
    return sorted(listed, key=lambda d: records.job_number(d["job_id"]))


def _described(state: CoordinatorState, now: float, job_id: str,
               brief: bool) -> list[dict[str, Any]]:
    if job_id:
        pipeline = state.pipelines.get(job_id)
        if pipeline is not None:
            return [describe_pipeline(pipeline, state.jobs, now, brief)]
        return [records.describe_job(state.jobs[job_id], now, brief)]
    listed = [records.describe_job(j, now, brief) for j in state.jobs.values()
              if not owner_of(j.job_id)]
    return listed + [describe_pipeline(p, state.jobs, now, brief)
                     for p in state.pipelines.values()]


def no_worker_warning(state: CoordinatorState, now: float, job: dict[str, Any]) -> str:
    """Why a queued or running job cannot move ("" if it can, as far as workers go): no
    worker has been registered for longer than ``no_worker_warning_s`` of its life."""
    if job["state"] not in LIVE_STATES or state.workerless_since is None:
        return ""
    waited = now - max(state.workerless_since, job["submitted_s"])
    if waited <= state.no_worker_warning_s:
        return ""
    return (f"no live worker for {waited:.0f}s (over [coordinator] no_worker_warning_s = "
            f"{state.no_worker_warning_s:g}): the job waits until workers register; start "
            "some (python -m zmr.worker CONFIG, ./run_cluster.sh N) or check that they "
            "reach the coordinator")


def workerless_jobs(state: CoordinatorState, now: float) -> list[tuple[str, float]]:
    """(job id, seconds waited) of each live job that has had no worker for longer than
    ``no_worker_warning_s``: cheap enough for every tick (no job is described)."""
    if state.workerless_since is None:
        return []
    waited = ((job.job_id, now - max(state.workerless_since, job.submitted_s))
              for job in state.live_jobs())
    return [(job_id, w) for job_id, w in waited if w > state.no_worker_warning_s]


def describe_workers(state: CoordinatorState,
                     heartbeat_age_s: Callable[[str], float]) -> list[dict[str, Any]]:
    """Every registered worker, with how long ago it was heard from and how many attempts
    run in its slots (those queued behind them, prefetched, are ``queued``)."""
    return [dict(records.describe_worker(w),
                 heartbeat_age_s=round(heartbeat_age_s(w.worker_id), 3),
                 running=min(w.slots, len(w.held()))) for w in state.workers.values()]


def worker_description(state: CoordinatorState, worker_id: str) -> dict[str, Any] | None:
    worker = state.workers.get(worker_id)
    return None if worker is None else records.describe_worker(worker)


def snapshot(state: CoordinatorState, now: float,
             heartbeat_age_s: Callable[[str], float]) -> dict[str, Any]:
    """Everything the dashboard shows, as plain data."""
    return {"now": now, "jobs": describe_jobs(state, now),
            "workers": describe_workers(state, heartbeat_age_s)}
