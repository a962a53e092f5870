"""The coordinator's durable state: every job and its tasks in SQLite (WAL mode), under the
coordinator's ``state_dir``.

After each handled event the server writes the jobs whose record changed, in one
transaction. A coordinator that is ``kill -9``'ed and started again with the same config
reads them back: finished jobs become history, running ones resume where they were (see
``CoordinatorState.restore``). The job's code is stored once, at submission.
"""

from __future__ import annotations

import json
import os
import sqlite3
from typing import Any

from zmr.coordinator.model import Job
from zmr.coordinator.states import FINAL_JOB_STATES

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    job_id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    name TEXT NOT NULL,
    state TEXT NOT NULL,
    record TEXT NOT NULL,
    code BLOB NOT NULL,
    plan TEXT
);
CREATE TABLE IF NOT EXISTS attempt_logs (
    job_id TEXT NOT NULL,
    task TEXT NOT NULL,
    idx INTEGER NOT NULL,
    attempt INTEGER NOT NULL,
    worker TEXT NOT NULL,
    outcome TEXT NOT NULL,
    log TEXT NOT NULL,
    PRIMARY KEY (job_id, task, idx, attempt)
)
"""


class Journal:
    """Job records in ``<state_dir>/journal.sqlite``."""

    def __init__(self, state_dir: str) -> None:
        os.makedirs(state_dir, exist_ok=True)
        self.path = os.path.join(state_dir, "journal.sqlite")
        self.db = sqlite3.connect(self.path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")   # WAL + NORMAL: durable across crashes
        self.db.executescript(SCHEMA)
        columns = {row[1] for row in self.db.execute("PRAGMA table_info(jobs)")}
        if "plan" not in columns:         # a journal from before plans were stored apart
            self.db.execute("ALTER TABLE jobs ADD COLUMN plan TEXT")
        self._saved: dict[str, str] = {}
        self._final: set[str] = set()
        self._has_plan: set[str] = set()     # rows whose plan column is written

    def save(self, jobs: list[Job]) -> None:
        """Write the jobs whose record changed since they were last written."""
        changed = []
        for job in jobs:
            if job.job_id in self._final:
                continue                  # a finished job never changes again
            record = json.dumps(job.to_record(with_plan=False), separators=(",", ":"))
            if self._saved.get(job.job_id) != record:
                changed.append((job, record))
        if not changed:
            return
        with self.db:
            self.db.execute("BEGIN")
            for job, record in changed:
                plan = None if job.job_id in self._has_plan else json.dumps(job.plan.to_dict())
                self.db.execute(
                    "INSERT INTO jobs (job_id, seq, name, state, record, code, plan) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(job_id) DO UPDATE SET "
                    "state = excluded.state, record = excluded.record, "
                    "plan = COALESCE(excluded.plan, jobs.plan)",
                    (job.job_id, _seq(job.job_id), job.name, job.state.value, record, job.code,
                     plan))
                self._saved[job.job_id] = record
                self._has_plan.add(job.job_id)
                if job.state in FINAL_JOB_STATES:
                    self._final.add(job.job_id)
                    del self._saved[job.job_id]

    def save_log(self, job_id: str, task: str, index: int, attempt: int, worker: str,
                 outcome: str, log: str) -> None:
        """Keep what an attempt printed (its tail), once, apart from the job records: logs
        are for people, and rewriting them with every job change would cost for nothing."""
        self.db.execute("INSERT OR IGNORE INTO attempt_logs VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (job_id, task, index, attempt, worker, outcome, log))

    def logs(self, job_id: str, task: str = "", index: int | None = None) -> list[dict[str, Any]]:
        """The logs of a job's attempts, optionally of one kind of task or one task."""
        query = "SELECT task, idx, attempt, worker, outcome, log FROM attempt_logs WHERE job_id=?"
        args: list[Any] = [job_id]
        if task:
            query += " AND task=?"
            args.append(task)
        if index is not None:
            query += " AND idx=?"
            args.append(index)
        rows = self.db.execute(query + " ORDER BY task, idx, attempt", args).fetchall()
        return [{"task": t, "index": i, "attempt": a, "worker": w, "outcome": o, "log": text}
                for t, i, a, w, o, text in rows]

    def load(self) -> list[Job]:
        """Every job ever journaled, oldest first."""
        rows = self.db.execute("SELECT record, code, plan FROM jobs ORDER BY seq").fetchall()
        jobs = [Job.from_record(_with_plan(json.loads(record), plan), bytes(code))
                for record, code, plan in rows]
        self._has_plan.update(job.job_id for job, (_, _, plan) in zip(jobs, rows) if plan)
        for job in jobs:
            if job.state in FINAL_JOB_STATES:
                self._final.add(job.job_id)
            else:
                self._saved[job.job_id] = json.dumps(job.to_record(with_plan=False),
                                                     separators=(",", ":"))
        return jobs

    def close(self) -> None:
        self.db.close()


def _with_plan(record: dict[str, Any], plan: str | None) -> dict[str, Any]:
    if plan is not None:
        record["plan"] = json.loads(plan)
    return record


def _seq(job_id: str) -> int:
    try:
        return int(job_id.rsplit("-", 1)[1])
    except (IndexError, ValueError):
        return 0
