"""Multi-step jobs are coordinator jobs: they finish without the client that submitted
them, survive a coordinator kill -9 without running a finished step again, show as one
job with steps, and can be cancelled."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import PATIENT_S, ROOT, output_bytes, wait_through_restart, write_lines
from zmr.core.errors import JobCancelledError
from zmr.runners.inline import run_inline
from zmr.runners.local import LocalCluster

#: Word count, then words by count; each map drops a mark file (how many times each
#: step's maps ran), and step 2's reducers wait in reducer_final, so a test can act while
#: step 2 runs.
JOB = """
import os
import time
import uuid

from zmr import Step

MARKS = {marks!r}
SLEEP_S = {sleep_s!r}


def _mark(step):
    open(os.path.join(MARKS, f"{{step}}-{{uuid.uuid4().hex}}"), "w").close()


def words(key, line):
    for word in line.split():
        yield word, 1


def total(word, ones):
    yield word, sum(ones)


def by_count(word, count):
    yield count, word


def together(count, words):
    yield count, sorted(words)


def slow():
    time.sleep(SLEEP_S)


STEPS = [
    Step(mapper=words, mapper_init=lambda: _mark("s1"), reducer=total, num_reducers=2,
         combine_files=False),
    Step(mapper=by_count, mapper_init=lambda: _mark("s2"), reducer=together,
         reducer_final=slow, num_reducers=2),
]
"""


def _job(tmp_path: Path, sleep_s: float) -> tuple[str, Path]:
    marks = tmp_path / "marks"
    marks.mkdir()
    path = tmp_path / "two_steps.py"
    path.write_text(JOB.format(marks=str(marks), sleep_s=sleep_s))
    return str(path), marks


def _marks(marks: Path, step: str) -> int:
    return sum(1 for p in marks.iterdir() if p.name.startswith(step + "-"))


def _inline(job: str, inputs: str, tmp_path: Path) -> dict[str, bytes]:
    run_inline(job, [inputs], str(tmp_path / "inline"))
    return output_bytes(str(tmp_path / "inline"))


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get(
        "PYTHONPATH", "")}


def _until(condition, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_zmr_submit_returns_at_once_and_the_job_still_completes(tmp_path):
    job, _ = _job(tmp_path, 0.0)
    inputs = write_lines(tmp_path / "in", files=3, lines_per_file=40)
    out = tmp_path / "out"
    with LocalCluster(workers=2, base_dir=str(tmp_path / "c")) as cluster:
        done = subprocess.run([sys.executable, "-m", "zmr", "submit", job, "--config",
                               cluster.config_path, "--input", inputs, "--output", str(out)],
                              capture_output=True, text=True, timeout=PATIENT_S, env=_env())
        assert done.returncode == 0, done.stderr
        assert done.stderr == ""               # no waiting, no "submits the steps" notice
        job_id = done.stdout.strip()
        status = cluster.client.wait(job_id, timeout_s=PATIENT_S)   # the submitter is long gone
        history = cluster.client.history()
        logged = {a["job_id"] for a in cluster.client.logs(job_id)}
        listing = subprocess.run([sys.executable, "-m", "zmr", "status", "--config",
                                  cluster.config_path], capture_output=True, text=True,
                                 timeout=PATIENT_S, env=_env())
    assert (status["state"], status["step"], status["steps"]) == ("SUCCEEDED", 2, 2)
    assert status["step_jobs"] == [f"{job_id}.s1", f"{job_id}.s2"]
    assert [(j["job_id"], j["steps"]) for j in history] == [(job_id, 2)]
    assert logged == {f"{job_id}.s1", f"{job_id}.s2"}      # every step's attempts
    entries = [line for line in listing.stdout.splitlines() if not line.startswith(" ")]
    assert len(entries) == 1 and "two_steps (2 steps)" in entries[0]      # one job, done
    assert not (out / "_steps").exists()
    assert output_bytes(str(out)) == _inline(job, inputs, tmp_path)


def test_coordinator_kill_9_during_step_2_resumes_without_rerunning_step_1(tmp_path):
    job, marks = _job(tmp_path, 3.0)
    inputs = write_lines(tmp_path / "in", files=3, lines_per_file=40)
    out = tmp_path / "out"
    with LocalCluster(workers=2, base_dir=str(tmp_path / "c"), heartbeat_interval_s=0.2,
                      liveness=3) as cluster:
        handle = cluster.client.submit(job, [inputs], str(out))

        def step_2_reducing() -> bool:
            s = handle.status()
            return s["step"] == 2 and s["maps_total"] and s["maps_done"] == s["maps_total"]
        _until(step_2_reducing)                     # step 2's reducers sleep now
        step_1_maps = _marks(marks, "s1")
        cluster.restart_coordinator()
        status = wait_through_restart(handle)
        step_1 = cluster.client.job(f"{handle.job_id}.s1")
    assert status["state"] == "SUCCEEDED"
    assert status["step_jobs"] == [f"{handle.job_id}.s1", f"{handle.job_id}.s2"]
    assert step_1_maps == 3 == _marks(marks, "s1")     # step 1 never ran again
    assert all(len(t["attempts"]) == 1 for t in step_1["tasks"])
    assert output_bytes(str(out)) == _inline(job, inputs, tmp_path)


def test_cancel_stops_a_multi_step_job_and_removes_its_outputs(tmp_path):
    job, _ = _job(tmp_path, 30.0)
    inputs = write_lines(tmp_path / "in", files=2, lines_per_file=10)
    out = tmp_path / "out"
    with LocalCluster(workers=2, base_dir=str(tmp_path / "c")) as cluster:
        handle = cluster.client.submit(job, [inputs], str(out))
        _until(lambda: handle.status()["step"] == 2)
        done = subprocess.run([sys.executable, "-m", "zmr", "cancel", handle.job_id,
                               "--config", cluster.config_path], capture_output=True,
                              text=True, timeout=PATIENT_S, env=_env())
        assert done.returncode == 0, done.stderr
        with pytest.raises(JobCancelledError):
            handle.wait(timeout_s=PATIENT_S)
        status = handle.status()
    assert status["state"] == "CANCELLED"
    assert status["error"] == "step 2/2 of two_steps: cancelled by request"
    assert not out.exists()
