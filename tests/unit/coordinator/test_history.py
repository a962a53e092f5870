"""A long-lived coordinator's history stays bounded: the retention policy forgets the
oldest finished jobs (records, journal rows, attempt logs), never a live job or the
newest one, and a pruned job is reported as pruned."""

from __future__ import annotations

import sqlite3

import pytest

from tests.unit.coordinator.drive import plan, register, submit
from zmr.coordinator import history
from zmr.coordinator.commands import ForgetJobs
from zmr.coordinator.journal import Journal
from zmr.coordinator.machine import CoordinatorState
from zmr.coordinator.stimuli import Checkpoint, HistoryPruned, JobCancelled
from zmr.core.ids import AttemptId
from zmr.core.retention import Policy

LOG = "x" * 1000


@pytest.fixture(autouse=True)
def validate_after_every_event():
    """Not here: the journal needs the dirty tasks the check would take."""


def many_jobs(tmp_path, jobs=300, maps=10):
    """``jobs`` finished jobs of ``maps`` maps and a reduce each (3,311 task rows, 3,000 log rows),
    job i finished at time i, and one live job after them; journaled."""
    s, journal = CoordinatorState(), Journal(str(tmp_path))
    for i in range(jobs):
        job_id, _ = submit(s, plan(maps=maps), now=float(i))
        for m in range(maps):
            journal.save_log(AttemptId(job_id, "map", m, 1), "w1", "failed", LOG)
        s.handle(JobCancelled(float(i), job_id))
    live, _ = submit(s, plan(maps=maps), now=float(jobs))
    register(s, "w1", now=float(jobs))
    (persist,) = s.handle(Checkpoint(float(jobs)))
    journal.save(persist.changes)
    return s, journal, live


def rows(journal, table):
    return journal.db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


def prune(s, journal, policy, now):
    chosen = history.to_prune(s, journal.log_bytes, policy, now)
    commands = s.handle(HistoryPruned(now, tuple(chosen)))
    for command in commands:
        assert isinstance(command, ForgetJobs)
        journal.forget(command.job_ids)
    return chosen


def test_count_keeps_the_newest_finished_jobs_in_memory_and_in_the_journal(tmp_path):
    s, journal, live = many_jobs(tmp_path)
    assert rows(journal, "tasks") == 301 * 11 and rows(journal, "attempt_logs") == 3000
    chosen = prune(s, journal, Policy(50, 1e9, 1 << 40), now=400.0)
    assert len(chosen) == 250 and chosen[0] == "job-0001" and chosen[-1] == "job-0250"
    assert sorted(s.jobs) == [f"job-{i:04d}" for i in range(251, 302)]   # 50 + the live one
    assert rows(journal, "jobs") == 51 and rows(journal, "tasks") == 51 * 11
    assert rows(journal, "attempt_logs") == 500
    assert prune(s, journal, Policy(50, 1e9, 1 << 40), now=400.0) == []   # stable
    journal.close()
    restored = Journal(str(tmp_path)).load()                    # a restart sees the same
    assert [j.job_id for j in restored] == [f"job-{i:04d}" for i in range(251, 302)]


def test_age_and_log_bytes_bound_the_history(tmp_path):
    s, journal, live = many_jobs(tmp_path, jobs=100)
    prune(s, journal, Policy(1000, 30.0, 1 << 40), now=100.0)    # finished at 70..99 stay
    assert len(s.jobs) == 31 and "job-0070" not in s.jobs and "job-0071" in s.jobs
    prune(s, journal, Policy(1000, 1e9, 10 * 10 * len(LOG)), now=100.0)   # 10 jobs' logs
    assert sorted(s.jobs) == [f"job-{i:04d}" for i in range(91, 102)]
    size = sum(len(r[0]) for r in sqlite3.connect(journal.path).execute(
        "SELECT log FROM attempt_logs"))
    assert size == 10 * 10 * len(LOG)


def test_live_jobs_and_the_newest_job_are_never_pruned(tmp_path):
    s, journal, live = many_jobs(tmp_path, jobs=5)
    s.handle(JobCancelled(10.0, live))                          # now the newest is finished
    chosen = prune(s, journal, Policy(1, 0.5, 1), now=1000.0)   # everything is too old
    assert live not in chosen and sorted(s.jobs) == [live]
    fresh, _ = submit(s, plan(maps=1), now=1001.0)
    assert fresh == "job-0007"                                  # ids are never reused
    assert prune(s, journal, Policy(1, 0.5, 1), now=2000.0) == [live]
    assert sorted(s.jobs) == [fresh]                            # live, unfinished


def test_a_pruned_job_is_told_apart_from_one_that_never_was(tmp_path):
    s, journal, _ = many_jobs(tmp_path, jobs=20)
    prune(s, journal, Policy(5, 1e9, 1 << 40), now=100.0)
    assert history.was_pruned(s, "job-0003") and history.was_pruned(s, "job-0003.s1")
    assert "pruned from the coordinator's history" in history.unknown_job(s, "job-0003")
    assert history.unknown_job(s, "job-0999") == "no such job: job-0999"
    assert history.unknown_job(s, "bogus") == "no such job: bogus"
    assert not history.was_pruned(s, "job-0020")
