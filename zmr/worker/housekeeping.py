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
