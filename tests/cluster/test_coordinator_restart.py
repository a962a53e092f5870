"""kill -9 the coordinator mid-job and start it again: the job resumes from the SQLite
journal, workers re-register with what they hold, and no finished map runs again."""

from __future__ import annotations

import glob
import json
import os
import sqlite3
import time

from tests.helpers import (
    JOBS,
    PATIENT_S,
    marking_job,
    output_bytes,
    wait_through_restart,
    wait_until,
    write_lines,
)
from zmr.runners.inline import run_inline
from zmr.runners.local import LocalCluster
from zmr.storage import layout


def test_coordinator_kill_9_and_restart_resumes_without_rerunning_maps(tmp_path):
    marks = tmp_path / "marks"
    marks.mkdir()
    inputs = write_lines(tmp_path / "in", files=4, lines_per_file=50)
    job_path = marking_job(tmp_path, marks)
    with LocalCluster(workers=2, base_dir=str(tmp_path / "c"), heartbeat_interval_s=0.2,
                      liveness=3) as cluster:
        job = cluster.client.submit(job_path, [inputs], str(tmp_path / "out"), reducers=2,
                                    combine_files=False)      # a map per file
        while job.status()["maps_done"] < 4:
            time.sleep(0.05)
        cluster.restart_coordinator()               # reducers are sleeping in reducer_final
        status = wait_through_restart(job)
        cluster.wait_for_workers(2, timeout_s=PATIENT_S)   # the same workers came back
    assert status["state"] == "SUCCEEDED"
    assert len(os.listdir(marks)) == 4              # every map ran exactly once
    # (a map queued behind a slow one may be taken back before it starts: "killed")
    assert all(len([a for a in t["attempts"] if a[4] != "killed"]) == 1
               for t in status["tasks"] if t["task"] == "map")
    assert "RERUN_MAPS" not in status["counters"].get("zmr.job", {})
    assert status["counters"]["zmr"]["MAP_INPUT_RECORDS"] == 200
    run_inline(os.path.join(JOBS, "slow_reduce.py"), [inputs], str(tmp_path / "inline"),
               reducers=2)
    assert output_bytes(str(tmp_path / "out")) == output_bytes(str(tmp_path / "inline"))


def _journaled_running_maps(state_dir: str) -> int:
    """Map tasks the coordinator's journal records as running (read-only: it is live)."""
    db = sqlite3.connect(f"file:{layout.journal_path(state_dir)}?mode=ro", uri=True)
    try:
        rows = db.execute("SELECT record FROM tasks WHERE kind = 'map'").fetchall()
    except sqlite3.OperationalError:            # not created yet
        return 0
    finally:
        db.close()
    return sum(json.loads(record)["state"] == "RUNNING" for (record,) in rows)


def test_attempts_that_finish_while_the_coordinator_is_down_succeeded_and_workers_register_once(
        tmp_path, monkeypatch):
    """Issue 25 finding 9: maps that finish during the outage are adopted when their
    workers come back: their attempts succeeded (not killed, not in KILLED_ATTEMPTS), and
    each worker registers once with the new coordinator, not once more when it hears the
    new coordinator's first beat."""
    gate = tmp_path / "gate"
    monkeypatch.setenv("ZMR_TEST_GATE", str(gate))          # the maps wait for it
    inputs = write_lines(tmp_path / "in", files=2, lines_per_file=50)
    base = tmp_path / "c"
    # a map per worker; on a busy machine workers may take long to come back, and the
    # attempts of those that have not by the end of the restore grace would be lost
    settings = {("worker", "prefetch"): 0, ("coordinator", "restore_grace_s"): PATIENT_S}
    with LocalCluster(workers=2, base_dir=str(base), heartbeat_interval_s=0.2, liveness=3,
                      settings=settings) as cluster:
        job = cluster.client.submit(os.path.join(JOBS, "gated.py"), [inputs],
                                    str(tmp_path / "out"), reducers=2, combine_files=False)
        state_dir = cluster.settings[("coordinator", "state_dir")]
        wait_until(lambda: _journaled_running_maps(state_dir) == 2, "both maps journaled")
        # ...and running: each worker unpacked the job
        wait_until(lambda: len(glob.glob(str(base / "workers" / "*" / job.job_id))) == 2,
                   "both maps started")
        logs = [base / "logs" / f"{w}.log" for w in cluster.workers]
        before = [len(p.read_text()) for p in logs]     # what they said until now
        cluster.kill_coordinator()
        gate.touch()                                  # the maps finish during the outage
        wait_until(lambda: len(glob.glob(layout.map_index_glob(str(base / "workers" / "*"))))
                   == 2, "both map outputs written")
        wait_until(lambda: all("silent for" in p.read_text()[start:]
                               for p, start in zip(logs, before)),
                   "the workers noticing the coordinator is gone")
        cluster.start_coordinator()
        status = wait_through_restart(job)
    assert status["state"] == "SUCCEEDED", status.get("error")
    counters = status["counters"]["zmr.job"]
    assert counters["RECOVERED_MAPS"] == 2 and "KILLED_ATTEMPTS" not in counters, counters
    maps = [t for t in status["tasks"] if t["task"] == "map"]
    assert [[a[4] for a in t["attempts"]] for t in maps] == [["succeeded"], ["succeeded"]]
    for log, start in zip(logs, before):   # registered once: not again on the first beat
        assert "coordinator restarted (beat" not in log.read_text()[start:]
    run_inline(os.path.join(JOBS, "gated.py"), [inputs], str(tmp_path / "inline"),
               reducers=2, combine_files=False)
    assert output_bytes(str(tmp_path / "out")) == output_bytes(str(tmp_path / "inline"))
