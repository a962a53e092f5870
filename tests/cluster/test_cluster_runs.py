"""Jobs on a real 3-worker cluster equal the inline (sequential) results."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.helpers import EXAMPLES, JOBS, PATIENT_S, output_bytes, wait_until, write_lines
from zmr.client import Client
from zmr.runners.inline import run_inline
from zmr.runners.local import LocalCluster


@pytest.mark.parametrize("job,reducers", [("wordcount", 3), ("bigram", 2),
                                          ("inverted_index", 4), ("grep", 0),
                                          ("wordcount_vectorized", 2)])
def test_cluster_output_equals_inline(cluster3, tmp_path, job, reducers):
    inputs = write_lines(tmp_path / "in", files=3, lines_per_file=300)
    path = os.path.join(EXAMPLES, f"{job}.py")
    handle = cluster3.client.submit(path, [inputs], str(tmp_path / "cluster"),
                                    reducers=reducers, split_size="4KB")
    status = handle.wait(timeout_s=PATIENT_S)
    assert status["state"] == "SUCCEEDED" and status["maps_total"] > 3
    run_inline(path, [inputs], str(tmp_path / "inline"), reducers=reducers, split_size="4KB")
    assert output_bytes(str(tmp_path / "cluster")) == output_bytes(str(tmp_path / "inline"))
    assert os.path.exists(tmp_path / "cluster" / "_SUCCESS")


def test_defaults_use_every_slot_of_the_cluster(cluster3, tmp_path):
    """Without NUM_REDUCERS or a split size, a job is planned for the registered slots
    (3 workers of 1 slot): 3 partitions, 3 splits per slot of a 1 MB input; the output
    holds the lines of an inline run cut into the same partitions."""
    inputs = write_lines(tmp_path / "in", files=2, lines_per_file=20_000)
    path = os.path.join(EXAMPLES, "wordcount.py")
    with Client(cluster3.config_path) as client:      # not the cluster's own: asks it
        # all 3 registered (a worker late with its heartbeats on a busy machine is dropped
        # and registers again)
        wait_until(lambda: client.parallelism() == 3, "3 registered slots")
        assert cluster3.client.parallelism() == 3
        status = client.submit(path, [inputs], str(tmp_path / "cluster")).wait(
            timeout_s=PATIENT_S)
    # 3 partitions; their small map outputs may be coalesced into fewer reduce tasks
    assert (status["state"], status["partitions"]) == ("SUCCEEDED", 3)
    assert 1 <= status["reduces_total"] <= 3 and status["maps_total"] >= 9
    run_inline(path, [inputs], str(tmp_path / "inline"), reducers=3)
    lines = [sorted(b"".join(output_bytes(str(tmp_path / run)).values()).splitlines())
             for run in ("cluster", "inline")]
    assert lines[0] == lines[1]


def test_each_map_runs_exactly_once_without_failures(cluster3, tmp_path):
    marks = tmp_path / "marks"
    marks.mkdir()
    inputs = write_lines(tmp_path / "in", files=4, lines_per_file=100)
    job = cluster3.client.submit(_jobcount(tmp_path, marks), [inputs], str(tmp_path / "out"),
                                 split_size="1KB")
    status = job.wait(timeout_s=PATIENT_S)
    assert len(os.listdir(marks)) == status["maps_total"]
    # one attempt each, but for one queued for over a second behind a slow one on a busy
    # worker (a loaded machine), taken back before it started: it ends "killed"
    assert all(len([a for a in t["attempts"] if a[4] != "killed"]) == 1
               for t in status["tasks"])


def _jobcount(tmp_path, marks) -> str:
    """jobcount.py with the marks directory baked in (workers do not share our env)."""
    source = open(os.path.join(JOBS, "jobcount.py")).read()
    path = tmp_path / "jobcount_here.py"
    path.write_text(source.replace('os.environ["ZMR_TEST_MARKS"]', repr(str(marks))))
    return str(path)


def test_submit_wait_returns_after_success_marker(cluster3, tmp_path):
    inputs = write_lines(tmp_path / "in", files=2, lines_per_file=200)
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "zmr", "submit", os.path.join(EXAMPLES, "wordcount.py"),
         "--input", inputs, "--output", str(out), "--reducers", "2", "--wait",
         "--config", cluster3.config_path], capture_output=True, text=True, timeout=PATIENT_S)
    assert proc.returncode == 0, proc.stderr
    assert os.path.exists(out / "_SUCCESS") and proc.stdout.strip().startswith("job-")
    status = subprocess.run([sys.executable, "-m", "zmr", "status", proc.stdout.strip(),
                             "--json", "--config", cluster3.config_path],
                            capture_output=True, text=True, timeout=PATIENT_S)
    assert '"state": "SUCCEEDED"' in status.stdout


def test_failing_job_reports_the_users_traceback(cluster3, tmp_path):
    (tmp_path / "bad.py").write_text(
        "def mapper(k, v):\n    raise RuntimeError('boom in user code')\n")
    inputs = write_lines(tmp_path / "in", files=1, lines_per_file=5)
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "zmr", "submit", str(tmp_path / "bad.py"), "--input", inputs,
         "--output", str(out), "--wait", "--config", cluster3.config_path],
        capture_output=True, text=True, timeout=PATIENT_S)
    assert proc.returncode == 1
    assert "boom in user code" in proc.stderr and "bad.py" in proc.stderr
    assert "failed 4 times" in proc.stderr
    assert not out.exists()          # partial output removed


def test_job_is_not_successful_until_its_success_marker_exists(cluster3, tmp_path):
    """If _SUCCESS cannot be written (here a directory squats its temporary name), the job
    fails with that error and its output is removed: never "SUCCEEDED" without the marker."""
    inputs = write_lines(tmp_path / "in", files=1, lines_per_file=5)
    out = tmp_path / "out"
    job = cluster3.client.submit(os.path.join(JOBS, "slow.py"), [inputs], str(out))
    (out / "_SUCCESS.tmp").mkdir()                 # before the first task can finish
    proc = subprocess.run([sys.executable, "-m", "zmr", "wait", job.job_id, "--config",
                           cluster3.config_path], capture_output=True, text=True, timeout=PATIENT_S)
    assert proc.returncode == 1 and "_SUCCESS" in proc.stderr, proc.stderr
    assert job.status()["state"] == "FAILED"
    assert not (out / "_SUCCESS").exists() and not list(out.glob("part-*"))


def test_parts_appear_only_when_the_job_commits(tmp_path, monkeypatch):
    """FileOutputCommitter v1: while one map of a map-only job is held, the maps that
    finished have committed their parts, yet the output shows none of them."""
    import time

    gate = tmp_path / "gate"
    monkeypatch.setenv("ZMR_TEST_GATE", str(gate))
    inputs = write_lines(tmp_path / "in", files=4, lines_per_file=50)
    with open(os.path.join(inputs, "held.txt"), "w") as f:
        f.write("HOLD\n")
    out = tmp_path / "out"
    # its own cluster, so the workers see the gate; no backup of the held map
    with LocalCluster(workers=2, base_dir=str(tmp_path / "c"), speculative=False) as cluster:
        job = cluster.client.submit(os.path.join(JOBS, "held.py"), [inputs], str(out),
                                    reducers=0, combine_files=False)
        deadline = time.monotonic() + PATIENT_S
        # (one map may wait behind the held one, prefetched onto the same worker)
        while (done := job.status()["maps_done"]) < 3:
            assert time.monotonic() < deadline, job.status()
            time.sleep(0.05)
        assert job.status()["state"] == "RUNNING"
        assert [n for n in os.listdir(out) if not n.startswith("_")] == []
        assert len(os.listdir(out / "_temporary" / "committed")) >= done
        gate.touch()
        assert job.wait(timeout_s=PATIENT_S)["state"] == "SUCCEEDED"
    assert sorted(os.listdir(out)) == ["_SUCCESS"] + [f"part-{i:05d}" for i in range(5)]
