"""The SQLite journal: what is saved comes back, a save writes only what changed, and
journals written before tasks had their own rows (or by a coordinator whose attempt
states were bare strings) still load (and are rewritten once)."""

from __future__ import annotations

import json

import pytest

from tests.unit.coordinator.drive import done, plan, register, submit
from zmr.coordinator.journal import Journal
from zmr.coordinator.machine import CoordinatorState
from zmr.coordinator.records import job_record, task_record
from zmr.coordinator.states import AttemptState
from zmr.coordinator.stimuli import (
    AttemptSucceeded,
    Checkpoint,
    JobCancelled,
    Restored,
    TaskRequested,
    WorkerExpired,
)
from zmr.core.ids import AttemptId
from zmr.core.specs import MapManifest, PartitionIndexEntry
from zmr.protocol.messages import RequestTask


@pytest.fixture(autouse=True)
def validate_after_every_event():
    """Not here: that check takes the dirty tasks, which these tests want the journal to."""


def running_state(maps=50):
    s = CoordinatorState()
    job_id, _ = submit(s, plan(maps=maps))
    register(s, "w1", slots=2)
    return s, s.jobs[job_id]


def finish(s, job, index, now=1.0):
    result = MapManifest(index, 1, "/m", (PartitionIndexEntry(0, 1, 1, 1),))
    s.handle(AttemptSucceeded(now, done("w1", "map", index, 1, result, job_id=job.job_id)))


def save(journal, s, now=0.0):
    """Journal what changed, as the server does: the machine's answer to a Checkpoint."""
    (persist,) = s.handle(Checkpoint(now))
    journal.save(persist.changes)


def tasks_written(journal):
    before = journal.db.total_changes
    return lambda: journal.db.total_changes - before


def test_saved_jobs_come_back_with_their_tasks(tmp_path):
    s, job = running_state()
    finish(s, job, 0)
    journal = Journal(str(tmp_path))
    save(journal, s)
    journal.close()
    (loaded,) = Journal(str(tmp_path)).load()
    assert job_record(loaded) == job_record(job)
    assert loaded.done("map") == 1 and loaded.first_pending("map").index == 2


def test_every_attempt_state_survives_the_journal(tmp_path):
    s, job = running_state(maps=3)
    s.handle(WorkerExpired(1.0, "w1"))                 # both running attempts LOST
    register(s, "w2", slots=1, now=2.0)
    journal = Journal(str(tmp_path))
    save(journal, s)
    journal.close()
    (loaded,) = Journal(str(tmp_path)).load()
    assert [a.state for t in loaded.maps for a in t.attempts] == \
        [AttemptState.LOST, AttemptState.RUNNING, AttemptState.LOST]


def test_a_save_writes_the_changed_tasks_only(tmp_path):
    s, job = running_state()
    journal = Journal(str(tmp_path))
    save(journal, s)                             # the new job: header and every task
    changes = tasks_written(journal)
    finish(s, job, 0)
    s.handle(TaskRequested(1.0, RequestTask("w1", 1)))    # map 2 handed out
    save(journal, s)
    assert changes() == 2                        # map 0 and map 2 (the header is the same)
    changes = tasks_written(journal)
    s.handle(JobCancelled(2.0, job.job_id))
    save(journal, s)
    assert changes() == 1 + 49 + 1               # the header, every map but map 0, the reduce
    changes = tasks_written(journal)
    save(journal, s)
    assert changes() == 0


def test_attempt_logs_are_written_with_the_next_save_or_when_asked_for(tmp_path):
    journal = Journal(str(tmp_path))
    journal.save_log(AttemptId("job-0001", "map", 0, 1), "w1", "succeeded", "hello")
    assert journal.logs("job-0001")[0]["log"] == "hello"
    journal.save_log(AttemptId("job-0001", "map", 1, 1), "w1", "succeeded", "again")
    journal.close()
    assert [e["index"] for e in Journal(str(tmp_path)).logs("job-0001")] == [0, 1]


def test_a_journal_with_tasks_inside_the_job_record_loads_and_is_rewritten(tmp_path):
    s, job = running_state(maps=3)
    finish(s, job, 0)
    record = job_record(job, with_plan=False)
    # as the coordinator before AttemptState wrote them: the states as bare strings
    assert record["tasks"][0]["attempts"][0][4] == "succeeded"
    journal = Journal(str(tmp_path))
    journal.db.execute("INSERT INTO jobs VALUES (?, 1, 'wc', 'RUNNING', ?, ?, ?)",
                       (job.job_id, json.dumps(record), b"code",
                        json.dumps(job.plan.to_dict())))
    journal.close()
    journal = Journal(str(tmp_path))
    (loaded,) = journal.load()
    assert job_record(loaded) == job_record(job)
    restarted = CoordinatorState()
    restarted.handle(Restored(5.0, (loaded,)))
    save(journal, restarted, now=5.0)
    journal.close()
    journal = Journal(str(tmp_path))
    (record,) = journal.db.execute("SELECT record FROM jobs").fetchone()
    assert "tasks" not in json.loads(record)
    (again,) = journal.load()
    assert [task_record(t) for t in again.tasks()] == [task_record(t) for t in job.tasks()]
    assert again.maps[0].attempts[0].state is AttemptState.SUCCEEDED


def test_results_journaled_as_the_dicts_workers_sent_load_as_typed_results(tmp_path):
    """Coordinators before typed messages stored a result as the worker's dict: such rows
    load as a MapManifest / ReduceResult, and a reduce's segments are cut from them."""
    s, job = running_state(maps=1)
    journal = Journal(str(tmp_path))
    save(journal, s)
    old = {"map_index": 0, "attempt": 1, "path": "/w/m0.arrow",
           "partitions": [[0, 10, 2, 77]], "counters": {"zmr": {"MAP_INPUT_RECORDS": 3}}}
    record = dict(task_record(job.maps[0]), state="SUCCEEDED", result=old,
                  output_worker="w1")
    journal.db.execute("UPDATE tasks SET record = ? WHERE kind = 'map'", (json.dumps(record),))
    journal.close()
    (loaded,) = Journal(str(tmp_path)).load()
    assert loaded.maps[0].result == MapManifest(0, 1, "/w/m0.arrow",
                                                (PartitionIndexEntry(0, 10, 2, 77),),
                                                {"zmr": {"MAP_INPUT_RECORDS": 3}})
    assert task_record(loaded.maps[0])["result"] == old
    assert loaded.total_counters().get("MAP_INPUT_RECORDS") == 3


def test_a_journal_keeps_its_incarnation_and_another_state_dir_has_another(tmp_path):
    """Map outputs carry the incarnation: a restart on the same state dir adopts them, a
    coordinator on another (or an emptied) state dir, whose job ids start again, does not."""
    first = Journal(str(tmp_path / "a"))
    incarnation = first.incarnation
    first.close()
    again = Journal(str(tmp_path / "a"))
    assert again.incarnation == incarnation and len(incarnation) == 16
    again.close()
    other = Journal(str(tmp_path / "b"))
    assert other.incarnation != incarnation
    other.close()


def test_cuts_and_remainders_of_rebalanced_maps_survive_the_journal(tmp_path):
    """The plan is written once, as it was then; a map whose split was cut (dynamic work
    rebalancing) and the remainder's new map come back from their task rows."""
    from zmr.coordinator.stimuli import ShrinkAnswered
    from zmr.core.plan import JobPlan
    from zmr.core.specs import Split
    from zmr.protocol.messages import ShrinkAnswer

    mb = 1 << 20
    s = CoordinatorState()
    job_id, _ = submit(s, JobPlan([Split("/in/big.txt", 0, 64 * mb)], 1, mb, "strict", "/out"))
    job = s.jobs[job_id]
    register(s, "w1")
    register(s, "w2", now=1.0)                      # asks w1 to cut at 32 MB
    journal = Journal(str(tmp_path))
    save(journal, s, 1.2)                           # the plan as submitted
    s.handle(ShrinkAnswered(1.5, ShrinkAnswer("w1", AttemptId(job_id, "map", 0, 1),
                                              32 * mb, True)))
    save(journal, s, 2.0)
    journal.close()
    (loaded,) = Journal(str(tmp_path)).load()
    assert loaded.plan.splits == job.plan.splits == [Split("/in/big.txt", 0, 32 * mb),
                                                     Split("/in/big.txt", 32 * mb, 32 * mb)]
    assert [t.input_position() for t in loaded.maps] == [(0, 0), (0, 32 * mb)]
    assert loaded.rebalanced == 1
    assert [t.state.value for t in loaded.maps] == ["RUNNING", "RUNNING"]
    assert job_record(loaded) == job_record(job)
