"""kill -9 the coordinator mid-job and start it again: the job resumes from the SQLite
journal, workers re-register with what they hold, and no finished map runs again."""

from __future__ import annotations

import os
import time

from tests.helpers import (
    JOBS,
    PATIENT_S,
    marking_job,
    output_bytes,
    wait_through_restart,
    write_lines,
)
from zmr.runners.inline import run_inline
from zmr.runners.local import LocalCluster


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
