"""A long-lived coordinator's history, kept bounded: which finished jobs the retention
policy (``[retention]`` history settings) forgets, and forgetting them.

The server asks :func:`to_prune` which finished jobs (a multi-step job counts once, with
its steps; sized by the journal's log bytes) are past the policy
(:func:`zmr.core.retention.to_forget`), and feeds the choice back as a ``HistoryPruned``
event; :func:`prune` (its handler) drops the records and answers with a
``ForgetJobs`` for the journal. Job numbers are never reused, so an id at or below the last
number that is no longer known was pruned (:func:`was_pruned`): ``zmr status`` and ``zmr
logs`` say so rather than "no such job".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from zmr.coordinator.commands import Command, ForgetJobs
from zmr.coordinator.pipelines import owner_of
from zmr.coordinator.records import job_number
from zmr.coordinator.states import FINAL_JOB_STATES
from zmr.core.retention import Item, Policy, to_forget

if TYPE_CHECKING:
    from zmr.coordinator.machine import CoordinatorState
    from zmr.coordinator.stimuli import HistoryPruned


def to_prune(state: CoordinatorState, log_bytes: Callable[[list[str]], dict[str, int]],
             policy: Policy, now_s: float) -> list[str]:
    """The finished jobs past ``policy``, oldest first; ``log_bytes`` sizes jobs' logs (the
    journal's). The newest job is never chosen: a restarted coordinator numbers new jobs
    after the highest id it finds, and ids must never be reused."""
    found = candidates(state)
    sizes = log_bytes([j for _, _, ids in found for j in ids])
    items = [Item(job_id, finished_s, sum(sizes[j] for j in ids))
             for job_id, finished_s, ids in found]
    newest = f"job-{state.last_job_number:04d}"
    return [j for j in to_forget(items, policy, now_s) if j != newest]


def candidates(state: CoordinatorState) -> list[tuple[str, float, list[str]]]:
    """Every finished job: (id, when it finished, the job ids whose rows it has: itself,
    or a multi-step job's steps)."""
    found = [(job.job_id, job.finished_s or job.submitted_s, [job.job_id])
             for job in state.jobs.values()
             if job.state in FINAL_JOB_STATES and not owner_of(job.job_id)]
    found += [(p.job_id, p.finished_s or p.submitted_s, list(p.step_jobs))
              for p in state.pipelines.values() if p.final]
    return found


def prune(state: CoordinatorState, ev: HistoryPruned) -> list[Command]:
    """Forget the finished jobs named (anything not finished, or unknown, is left alone)."""
    forgotten: list[str] = []
    for job_id in ev.job_ids:
        pipeline = state.pipelines.get(job_id)
        if pipeline is not None and pipeline.final:
            del state.pipelines[job_id]
            for step_id in pipeline.step_jobs:
                if state.jobs.pop(step_id, None) is not None:
                    forgotten.append(step_id)
            forgotten.append(job_id)
        elif job_id in state.jobs and state.jobs[job_id].state in FINAL_JOB_STATES:
            del state.jobs[job_id]
            forgotten.append(job_id)
    if not forgotten:
        return []
    state.jobs_changed()
    return [ForgetJobs(tuple(forgotten))]


def was_pruned(state: CoordinatorState, job_id: str) -> bool:
    """Whether ``job_id`` (or the multi-step job it is a step of) existed and was forgotten."""
    owner = owner_of(job_id) or job_id
    number = job_number(owner) if owner.startswith("job-") else 0
    known = owner in state.jobs or owner in state.pipelines
    return 0 < number <= state.last_job_number and not known


def unknown_job(state: CoordinatorState, job_id: str) -> str:
    """What to tell a client asking about a job the coordinator does not know."""
    if was_pruned(state, job_id):
        return (f"{job_id} finished long enough ago to be pruned from the coordinator's "
                "history ([retention] history_jobs, history_age_s and history_log_bytes); "
                "its output, if it succeeded, is where it was written")
    return f"no such job: {job_id}"
