"""The SQLite journal: what is saved comes back, a save writes only what changed, and
journals written before tasks had their own rows still load (and are rewritten once)."""

from __future__ import annotations

import json

import pytest

from zmr.coordinator.journal import Journal
from zmr.coordinator.machine import CoordinatorState
from zmr.coordinator.records import job_record, task_record
from zmr.core.plan import JobPlan
from zmr.core.specs import Split
from zmr.protocol.messages import Register, RequestTask, TaskDone


@pytest.fixture(autouse=True)
def validate_after_every_event():
    """Not here: that check takes the dirty tasks, which these tests want the journal to."""


def running_state(maps=50):
    s = CoordinatorState()
    plan = JobPlan([Split(f"/in/{i}", 0, 10) for i in range(maps)], 1, 1 << 20, "strict", "/o")
    job_id, _ = s.submit("wc", plan, b"code", 0.0)
    s.register(Register("w1", "h", "tcp://w1:1", 2, 1, 100), 0.0)
    s.request_task(RequestTask("w1", 2), 0.0)
    return s, s.jobs[job_id]


def finish(s, job, index, now=1.0):
    result = {"map_index": index, "attempt": 1, "path": "/m", "partitions": [[0, 1, 1, 1]],
              "counters": {}}
    s.task_done(TaskDone("w1", job.job_id, "map", index, 1, result, 0.0, 1.0), now)


def tasks_written(journal):
    before = journal.db.total_changes
    return lambda: journal.db.total_changes - before


def test_saved_jobs_come_back_with_their_tasks(tmp_path):
    s, job = running_state()
    finish(s, job, 0)
    journal = Journal(str(tmp_path))
    journal.save(list(s.jobs.values()))
    journal.close()
    (loaded,) = Journal(str(tmp_path)).load()
    assert job_record(loaded) == job_record(job)
    assert loaded.done("map") == 1 and loaded.first_pending("map").index == 2


def test_a_save_writes_the_changed_tasks_only(tmp_path):
    s, job = running_state()
    journal = Journal(str(tmp_path))
    journal.save(list(s.jobs.values()))          # the new job: header and every task
    changes = tasks_written(journal)
    finish(s, job, 0)
    s.request_task(RequestTask("w1", 1), 1.0)    # map 2 handed out
    journal.save(list(s.jobs.values()))
    assert changes() == 2                        # map 0 and map 2 (the header is the same)
    changes = tasks_written(journal)
    s.cancel(job.job_id, 2.0)
    journal.save(list(s.jobs.values()))
    assert changes() == 1 + 49 + 1               # the header, every map but map 0, the reduce
    changes = tasks_written(journal)
    journal.save(list(s.jobs.values()))
    assert changes() == 0


def test_attempt_logs_are_written_with_the_next_save_or_when_asked_for(tmp_path):
    journal = Journal(str(tmp_path))
    journal.save_log("job-0001", "map", 0, 1, "w1", "succeeded", "hello")
    assert journal.logs("job-0001")[0]["log"] == "hello"
    journal.save_log("job-0001", "map", 1, 1, "w1", "succeeded", "again")
    journal.close()
    assert [e["index"] for e in Journal(str(tmp_path)).logs("job-0001")] == [0, 1]


def test_a_journal_with_tasks_inside_the_job_record_loads_and_is_rewritten(tmp_path):
    s, job = running_state(maps=3)
    journal = Journal(str(tmp_path))
    journal.db.execute("INSERT INTO jobs VALUES (?, 1, 'wc', 'RUNNING', ?, ?, ?)",
                       (job.job_id, json.dumps(job_record(job, with_plan=False)), b"code",
                        json.dumps(job.plan.to_dict())))
    journal.close()
    journal = Journal(str(tmp_path))
    (loaded,) = journal.load()
    assert job_record(loaded) == job_record(job)
    journal.save([loaded])
    journal.close()
    journal = Journal(str(tmp_path))
    (record,) = journal.db.execute("SELECT record FROM jobs").fetchone()
    assert "tasks" not in json.loads(record)
    (again,) = journal.load()
    assert [task_record(t) for t in again.tasks()] == [task_record(t) for t in job.tasks()]
