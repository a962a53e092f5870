"""A cluster job's event log (``<state_dir>/events/JOB.jsonl``), read with ``zmr history JOB
--events`` after the cluster is gone: every task's assignment and end, a worker killed with
SIGKILL mid-job (its attempts retried elsewhere), a failed attempt and its retry, and the
job's end with the totals its status had."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

from tests.helpers import JOBS, PATIENT_S, ROOT, wait_until, write_lines
from zmr.runners.local import LocalCluster


def _history(config: str, *args: str, cwd: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "ZMR_CONFIG"}
    env["PYTHONPATH"] = os.path.abspath(ROOT)
    return subprocess.run([sys.executable, "-m", "zmr", "history", *args, "--config", config],
                          capture_output=True, text=True, timeout=PATIENT_S, env=env, cwd=cwd)


def _baked_exit_once(tmp_path) -> str:
    marks = tmp_path / "marks"
    marks.mkdir()
    source = open(os.path.join(JOBS, "exit_once.py")).read()
    path = tmp_path / "exit_once.py"
    path.write_text(source.replace('os.environ.get("ZMR_TEST_MARKS", "/tmp")',
                                   repr(str(marks))))
    return str(path)


def _running_on(job, worker: str) -> bool:
    return any(a[1] == worker and a[4] == "running"
               for t in job.status()["tasks"] for a in t["attempts"])


def test_the_event_log_tells_the_jobs_story_after_the_cluster_is_gone(tmp_path,
                                                                      monkeypatch):
    monkeypatch.setenv("ZMR_TEST_DELAY_S", "1.5")      # maps long enough to be killed in
    inputs = write_lines(tmp_path / "in", files=4, lines_per_file=30)
    base = tmp_path / "c"
    with LocalCluster(workers=2, base_dir=str(base), heartbeat_interval_s=0.2,
                      liveness=3) as cluster:
        slow = cluster.client.submit(os.path.join(JOBS, "slow.py"), [inputs],
                                     str(tmp_path / "out1"), combine_files=False)
        wait_until(lambda: _running_on(slow, "local-2"), "an attempt on local-2")
        cluster.workers["local-2"].send_signal(signal.SIGKILL)
        slow_status = slow.wait(timeout_s=PATIENT_S)
        flaky = cluster.client.submit(_baked_exit_once(tmp_path), [inputs],
                                      str(tmp_path / "out2"))
        flaky_status = flaky.wait(timeout_s=PATIENT_S)
        config = cluster.config_path
    assert slow_status["state"] == flaky_status["state"] == "SUCCEEDED"

    proc = _history(config, slow.job_id, "--events", "--json", cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    kinds = [e["event"] for e in events]
    assert kinds[0] == "job_submitted" and kinds[-1] == "job_ended"
    assert events[0]["splits"] == 4 and events[0]["name"] == "slow"
    lost = [e for e in events if e["event"] == "worker_lost"]
    assert [e["worker"] for e in lost] == ["local-2"] and lost[0]["attempts"]
    retried = [e for e in events if e["event"] == "task_assigned" and e["retry"]]
    assert {e["task"] for e in retried} >= {a.rsplit("-a", 1)[0] for a in lost[0]["attempts"]
                                            if a.startswith("map")}
    assert all(e["worker"] == "local-1" for e in retried)
    finished = [e for e in events if e["event"] == "task_finished"]
    maps = sorted(e["task"] for e in finished if e["task"].startswith("map"))
    assert maps == [f"map-{i:05d}" for i in range(4)]          # each map's winner once
    counters = slow_status["counters"]["zmr"]
    assert sum(e["records_in"] for e in finished if e["task"].startswith("map")) == \
        counters["MAP_INPUT_RECORDS"] == 120
    end = events[-1]
    assert end["state"] == "SUCCEEDED" and end["maps"] == 4
    assert end["counters"]["REDUCE_OUTPUT_RECORDS"] == counters["REDUCE_OUTPUT_RECORDS"]

    table = _history(config, flaky.job_id, "--events", cwd=str(tmp_path))
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    failed = [line for line in lines if " task_failed " in line]
    assert len(failed) == 1 and "task process died (exit code 3)" in failed[0]
    assert any(" task_assigned " in line and "a2 -> " in line and line.endswith("(retry)")
               for line in lines)
    assert " job_ended " in lines[-1] and "SUCCEEDED" in lines[-1] and \
        "1 failed attempts" in lines[-1]
