"""User code runs in child processes: a task that exits or hogs the GIL hurts only itself."""

from __future__ import annotations

import os

from tests.helpers import JOBS, PATIENT_S, read_output, write_lines
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
