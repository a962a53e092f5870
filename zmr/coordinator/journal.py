"""The coordinator's durable state: every job and its tasks in SQLite (WAL mode), under the
coordinator's ``state_dir``.

A job is one row (its header: state, counters, times) and one row per task; the server
saves what changed (headers that differ, the tasks each job's tally marked dirty, attempt
logs received since) in one transaction, so a save costs what changed, not what exists. A
coordinator that is ``kill -9``'ed and started again with the same config reads them back:
finished jobs become history, running ones resume where they were (see
``recovery.restored``). The job's code and plan are stored once, at submission. A
multi-step job is a row of ``pipelines`` (its changing record; its steps' settings and
codes, written once), beside the rows of its step jobs in ``jobs``.

The journal never sees the machine's live records: it writes ``JobChange`` values (the
``Persist`` answer to a ``Checkpoint`` event) and reads back new ``Job`` records.
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
from collections.abc import Sequence
from typing import Any

from zmr.coordinator.commands import JobChange, PipelineChange
from zmr.coordinator.model import Job
from zmr.coordinator.pipeline_records import pipeline_from_record, steps_json
from zmr.coordinator.pipelines import PipelineJob
from zmr.coordinator.records import header_json, job_from_record, job_number
from zmr.coordinator.states import FINAL_JOB_STATES
from zmr.core.ids import AttemptId
from zmr.storage import layout

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
CREATE TABLE IF NOT EXISTS tasks (
    job_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    idx INTEGER NOT NULL,
    record TEXT NOT NULL,
    PRIMARY KEY (job_id, kind, idx)
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
);
CREATE TABLE IF NOT EXISTS pipelines (
    job_id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    record TEXT NOT NULL,
    steps TEXT NOT NULL,
    codes BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
)
"""


class Journal:
    """Job records in ``<state_dir>/journal.sqlite``."""

    def __init__(self, state_dir: str) -> None:
        os.makedirs(state_dir, exist_ok=True)
        self.path = layout.journal_path(state_dir)
        self.db = sqlite3.connect(self.path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")   # WAL + NORMAL: durable across crashes
        self.db.executescript(SCHEMA)
        columns = {row[1] for row in self.db.execute("PRAGMA table_info(jobs)")}
        if "plan" not in columns:         # a journal from before plans were stored apart
            self.db.execute("ALTER TABLE jobs ADD COLUMN plan TEXT")
        self.incarnation = self._incarnation()
        self._saved: dict[str, str] = {}     # live jobs' headers as last written
        self._final: set[str] = set()
        self._has_plan: set[str] = set()     # rows whose plan column is written
        self._logs: list[tuple[str, str, int, int, str, str, str]] = []
        self._pipelines_written: set[str] = set()   # rows whose steps and codes are in
        self._log_bytes: dict[str, int] = {}         # finished jobs' log sizes, once counted

    def _incarnation(self) -> str:
        """This journal's random id, made with it and kept: the coordinator's map outputs
        carry it, so a coordinator started on another (or an emptied) state dir, whose job
        ids start again at job-0001, adopts none of them (``core.specs.OutputIdentity``),
        while one restarted on this state dir adopts them all."""
        self.db.execute("INSERT OR IGNORE INTO meta VALUES ('incarnation', ?)",
                        (secrets.token_hex(8),))
        (value,) = self.db.execute(
            "SELECT value FROM meta WHERE key = 'incarnation'").fetchone()
        return str(value)

    def save(self, changes: Sequence[JobChange],
             pipelines: Sequence[PipelineChange] = ()) -> None:
        """Write what changed since the last save, in one transaction (a multi-step job's
        record and the step job it just submitted are written together)."""
        changed = [c for c in changes if c.job_id not in self._final and
                   (c.tasks or self._saved.get(c.job_id) != c.header)]
        if not changed and not self._logs and not pipelines:
            return
        with self.db:
            self.db.execute("BEGIN")
            for pipeline in pipelines:
                self._write_pipeline(pipeline)
            for change in changed:
                if self._saved.get(change.job_id) != change.header:
                    self._write_header(change)
                self.db.executemany(
                    "INSERT OR REPLACE INTO tasks VALUES (?, ?, ?, ?)",
                    [(change.job_id, kind, index, record)
                     for kind, index, record in change.tasks])
                self._saved[change.job_id] = change.header
                if change.final:          # a finished job never changes again
                    self._final.add(change.job_id)
                    del self._saved[change.job_id]
            self._write_logs()

    def _write_header(self, change: JobChange) -> None:
        plan = None if change.job_id in self._has_plan else json.dumps(change.plan.to_dict())
        self.db.execute(
            "INSERT INTO jobs (job_id, seq, name, state, record, code, plan) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(job_id) DO UPDATE SET "
            "state = excluded.state, record = excluded.record, "
            "plan = COALESCE(excluded.plan, jobs.plan)",
            (change.job_id, job_number(change.job_id), change.job_name, change.state,
             change.header, change.code, plan))
        self._has_plan.add(change.job_id)

    def _write_pipeline(self, change: PipelineChange) -> None:
        if change.job_id in self._pipelines_written:
            self.db.execute("UPDATE pipelines SET record = ? WHERE job_id = ?",
                            (change.record, change.job_id))
            return
        steps = steps_json(change.steps, change.codes)
        self.db.execute("INSERT OR REPLACE INTO pipelines VALUES (?, ?, ?, ?, ?)",
                        (change.job_id, job_number(change.job_id), change.record, steps,
                         b"".join(change.codes)))
        self._pipelines_written.add(change.job_id)

    def load_pipelines(self) -> list[PipelineJob]:
        """Every multi-step job ever journaled, oldest first (their steps are jobs, read
        back by ``load``)."""
        rows = self.db.execute("SELECT job_id, record, steps, codes FROM pipelines "
                               "ORDER BY seq").fetchall()
        self._pipelines_written.update(row[0] for row in rows)
        return [pipeline_from_record(record, steps, bytes(codes))
                for _, record, steps, codes in rows]

    def save_log(self, attempt: AttemptId, worker: str, outcome: str, log: str) -> None:
        """Keep what an attempt printed (its tail), once, apart from the job records: logs
        are for people, and rewriting them with every job change would cost for nothing.
        Written with the next ``save`` (one transaction for a burst of results, not one
        each); lost with a crash before it, as the results they came with are."""
        self._logs.append((*attempt, worker, outcome, log))

    def _write_logs(self) -> None:
        self.db.executemany("INSERT OR IGNORE INTO attempt_logs VALUES (?, ?, ?, ?, ?, ?, ?)",
                            self._logs)
        self._logs.clear()

    def logs(self, job_id: str, task: str = "", index: int | None = None) -> list[dict[str, Any]]:
        """The logs of a job's attempts, optionally of one kind of task or one task."""
        query = "SELECT task, idx, attempt, worker, outcome, log FROM attempt_logs WHERE job_id=?"
        args: list[Any] = [job_id]
        if self._logs:
            with self.db:
                self.db.execute("BEGIN")
                self._write_logs()
        if task:
            query += " AND task=?"
            args.append(task)
        if index is not None:
            query += " AND idx=?"
            args.append(index)
        rows = self.db.execute(query + " ORDER BY task, idx, attempt", args).fetchall()
        return [{"task": t, "index": i, "attempt": a, "worker": w, "outcome": o, "log": text}
                for t, i, a, w, o, text in rows]

    def forget(self, job_ids: Sequence[str]) -> None:
        """Delete every row of these (finished) jobs: retention. SQLite reuses the freed
        pages, so the file stops growing at its high-water mark."""
        rows = [(job_id,) for job_id in job_ids]
        with self.db:
            self.db.execute("BEGIN")
            self._write_logs()
            for table in ("jobs", "tasks", "attempt_logs", "pipelines"):
                self.db.executemany(f"DELETE FROM {table} WHERE job_id = ?", rows)
        for job_id in job_ids:
            self._final.discard(job_id)
            self._has_plan.discard(job_id)
            self._pipelines_written.discard(job_id)
            self._log_bytes.pop(job_id, None)

    def log_bytes(self, job_ids: Sequence[str]) -> dict[str, int]:
        """How many bytes of attempt logs each of these finished jobs keeps (counted once
        per job: a finished job's logs do not change)."""
        missing = [j for j in job_ids if j not in self._log_bytes]
        for job_id in missing:
            (total,) = self.db.execute("SELECT COALESCE(SUM(LENGTH(log)), 0) FROM "
                                       "attempt_logs WHERE job_id = ?", (job_id,)).fetchone()
            self._log_bytes[job_id] = int(total)
        return {j: self._log_bytes[j] for j in job_ids}

    def load(self) -> list[Job]:
        """Every job ever journaled, oldest first."""
        rows = self.db.execute("SELECT job_id, record, code, plan FROM jobs ORDER BY seq")
        tasks: dict[str, list[Any]] = {}
        # "map" sorts before "reduce": each job's maps, then its reduces, by index
        for job_id, record in self.db.execute(
                "SELECT job_id, record FROM tasks ORDER BY job_id, kind, idx"):
            tasks.setdefault(job_id, []).append(json.loads(record))
        jobs = []
        for job_id, record, code, plan in rows.fetchall():
            fields = _with_plan(json.loads(record), plan)
            # journals from before tasks had their rows keep them in the job's record; such
            # a header is written again (without them) by the next save
            current = "tasks" not in fields
            if job_id in tasks or current:
                fields["tasks"] = tasks.get(job_id, [])
            job = job_from_record(fields, bytes(code))
            jobs.append(job)
            self._has_plan.update([job_id] if plan else [])
            if job.state in FINAL_JOB_STATES:
                self._final.add(job_id)
            elif current:
                self._saved[job_id] = header_json(job)
        return jobs

    def close(self) -> None:
        if self._logs:
            with self.db:
                self.db.execute("BEGIN")
                self._write_logs()
        self.db.close()


def _with_plan(record: dict[str, Any], plan: str | None) -> dict[str, Any]:
    if plan is not None:
        record["plan"] = json.loads(plan)
    return record
