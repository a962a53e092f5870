"""A worker's disk between jobs: which jobs it holds data for, and deleting what a finished
job no longer needs.

Map outputs must outlive their task (reducers fetch them, a restarted worker offers them
again) but not their job: once the job is over, everything under ``<data_dir>/<job>/`` goes
except ``logs/``, which ``zmr logs`` and people debugging still read (Hadoop likewise purges
a job's local files at its end and keeps task logs by a separate retention).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

from zmr.core.retention import Item, Policy, to_forget
from zmr.storage import layout

#: What survives the end of a job in its directory.
KEPT = frozenset({layout.LOGS})


def jobs_on_disk(data_dir: str) -> list[str]:
    """Jobs with anything besides logs under the worker's data dir."""
    try:
        entries = sorted(os.scandir(data_dir), key=lambda e: e.name)
    except OSError:
        return []
    return [e.name for e in entries
            if e.is_dir(follow_symlinks=False) and _has_data(e.path)]


def _has_data(job_dir: str) -> bool:
    try:
        return any(name not in KEPT for name in os.listdir(job_dir))
    except OSError:
        return False


def purge_job(data_dir: str, job_id: str) -> None:
    """Delete a finished job's map outputs, spills and scratch space; keep its logs."""
    if not job_id or os.sep in job_id or job_id in (".", ".."):
        return                      # a job id never names anything outside data_dir
    job_dir = layout.job_work_dir(data_dir, job_id)
    try:
        names = os.listdir(job_dir)
    except OSError:
        return
    for name in names:
        if name in KEPT:
            continue
        path = os.path.join(job_dir, name)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            try:
                os.unlink(path)
            except OSError:
                pass


def prune_logs(data_dir: str, policy: Policy, now_s: float,
               running: frozenset[str] = frozenset()) -> list[str]:
    """Delete the attempt logs of finished jobs past ``policy`` (count, age, bytes: newest
    first, by when a job's log folder last changed); the jobs whose logs went, oldest
    first. A job with an attempt ``running`` here, or still holding map outputs (its job
    is not over), keeps its logs. A job's folder goes with its logs once nothing else is
    left in it, and at once when it is empty (its attempts printed nothing)."""
    live = running | frozenset(jobs_on_disk(data_dir))
    forget = to_forget(_log_folders(data_dir), policy, now_s, live)
    for job_id in forget:
        job_dir = layout.job_work_dir(data_dir, job_id)
        shutil.rmtree(os.path.join(job_dir, layout.LOGS), ignore_errors=True)
        _remove_if_empty(job_dir)
    for entry in _job_folders(data_dir):
        if entry.name not in running:
            _remove_if_empty(entry.path)
    return forget


def _remove_if_empty(job_dir: str) -> None:
    try:
        os.rmdir(job_dir)                       # only if empty: a new attempt may have begun
    except OSError:
        pass


def _job_folders(data_dir: str) -> list[os.DirEntry[str]]:
    """The job folders in a worker's data dir (its only folders; its files are the task
    processes' output)."""
    try:
        return [e for e in os.scandir(data_dir) if e.is_dir(follow_symlinks=False)]
    except OSError:
        return []


def _log_folders(data_dir: str) -> Iterator[Item]:
    for entry in _job_folders(data_dir):
        logs = os.path.join(entry.path, layout.LOGS)
        try:
            stat = os.stat(logs)
            files = list(os.scandir(logs))
        except OSError:
            continue
        yield Item(entry.name, stat.st_mtime, sum(_size(f) for f in files))


def _size(entry: os.DirEntry[str]) -> int:
    try:
        return entry.stat(follow_symlinks=False).st_size
    except OSError:
        return 0                                # deleted meanwhile


#: How much of an attempt's log travels to the coordinator with its result.
LOG_TAIL_BYTES = 64 * 1024




def read_log_tail(path: str, limit: int = LOG_TAIL_BYTES) -> str:
    """The last ``limit`` bytes of a log (what is usually wanted: the end, near the error),
    marked when cut; empty when there is no log."""
    try:
        with open(path, "rb") as f:
            size = f.seek(0, os.SEEK_END)
            f.seek(max(0, size - limit))
            tail = f.read()
    except OSError:
        return ""
    text = tail.decode("utf-8", errors="replace")
    if size > limit:
        text = f"[... first {size - limit:,} bytes cut; the whole log is {path} ...]\n" + text
    return text
