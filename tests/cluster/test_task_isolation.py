"""User code runs in child processes: a task that exits or hogs the GIL hurts only itself."""

from __future__ import annotations

import os
import re

import pytest

from tests.helpers import JOBS, PATIENT_S, read_output, write_lines
from zmr.core.errors import JobFailedError
from zmr.runners.inline import run_inline
from zmr.runners.local import LocalCluster


def _baked(tmp_path, name: str, marks) -> str:
    source = open(os.path.join(JOBS, name)).read()
    path = tmp_path / name
    path.write_text(source.replace('os.environ.get("ZMR_TEST_MARKS", "/tmp")', repr(str(marks))))
    return str(path)


def test_os_exit_in_mapper_fails_only_that_attempt(cluster3, tmp_path):
    marks = tmp_path / "marks"
    marks.mkdir()
    inputs = write_lines(tmp_path / "in", files=1, lines_per_file=20)
    before = {w["worker_id"] for w in cluster3.client.workers()}
    job = cluster3.client.submit(_baked(tmp_path, "exit_once.py", marks), [inputs],
                                 str(tmp_path / "out"))
    status = job.wait(timeout_s=PATIENT_S)
    (task,) = [t for t in status["tasks"] if t["task"] == "map"]
    assert [a[4] for a in task["attempts"]] == ["failed", "succeeded"]
    assert "task process died (exit code 3)" in task["error"]
    assert {w["worker_id"] for w in cluster3.client.workers()} == before    # nobody died
    assert sum(read_output(str(tmp_path / "out")).values()) == 20


def test_gil_holding_mapper_does_not_stop_heartbeats(tmp_path):
    with LocalCluster(workers=1, base_dir=str(tmp_path / "c"), heartbeat_interval_s=0.1,
                      liveness=3) as cluster:
        inputs = write_lines(tmp_path / "in", files=1, lines_per_file=2)
        job = cluster.client.submit(os.path.join(JOBS, "gil_hog.py"), [inputs],
                                    str(tmp_path / "out"))
        status = job.wait(timeout_s=PATIENT_S)
        assert all(len(t["attempts"]) == 1 for t in status["tasks"])    # never declared dead
        assert [w["worker_id"] for w in cluster.client.workers()] == ["local-1"]


def test_a_retry_runs_in_a_fresh_process_not_the_failed_attempts(tmp_path):
    """Hadoop gives a retried attempt a fresh JVM: the failed attempt's module globals must
    not make its retry "succeed". Inline, the first failure fails the job; on a cluster every
    attempt runs in a new process, so each fails as the first did and the job fails too."""
    job = os.path.join(JOBS, "fails_first_in_process.py")
    inputs = write_lines(tmp_path / "in", files=1, lines_per_file=5)
    with pytest.raises(RuntimeError, match="first attempt in process"):
        run_inline(job, [inputs], str(tmp_path / "inline"))
    # one worker with one slot: every retry lands where the failed attempt ran
    with LocalCluster(workers=1, base_dir=str(tmp_path / "c"), max_attempts=3) as cluster:
        handle = cluster.client.submit(job, [inputs], str(tmp_path / "out"))
        with pytest.raises(JobFailedError, match="first attempt in process"):
            handle.wait(timeout_s=PATIENT_S)
        (task,) = [t for t in handle.status()["tasks"] if t["task"] == "map"]
        assert [a[4] for a in task["attempts"]] == ["failed"] * 3
        logs = [entry["log"] for entry in handle.logs("map")]
    pids = {pid for log in logs for pid in re.findall(r"first attempt in process (\d+)", log)}
    assert len(pids) == 3, logs          # each attempt was its process's first
