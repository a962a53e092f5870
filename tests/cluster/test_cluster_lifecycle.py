"""Parallelism, workers joining mid-job, and clean exits of worker processes."""

from __future__ import annotations

import json
import os
import signal
import time

from tests.helpers import JOBS, PATIENT_S, write_lines
from zmr.runners.local import LocalCluster


def _intervals(status, kind):
    """(worker, start, end) of each successful attempt, as the coordinator saw it."""
    return [(a[1], a[2], a[3]) for t in status["tasks"] if t["task"] == kind
            for a in t["attempts"] if a[4] == "succeeded"]


def _recorded(marks, kind):
    """(worker pid, start, end) of each task, as the task itself recorded it."""
    records = [json.loads(p.read_text()) for p in marks.glob(f"{kind}-*.json")]
    return [(r["worker"], r["start"], r["end"]) for r in records]


def _overlap_on_different_workers(intervals) -> bool:
    return any(w1 != w2 and s1 < e2 and s2 < e1
               for i, (w1, s1, e1) in enumerate(intervals)
               for (w2, s2, e2) in intervals[i + 1:])


def _timing_job(tmp_path, marks) -> str:
    source = open(os.path.join(JOBS, "timing.py")).read()
    path = tmp_path / "timing_here.py"
    path.write_text(source.replace('"/tmp/zmr-timing-marks"', repr(str(marks))))
    return str(path)


def test_maps_and_reduces_run_in_parallel_on_different_workers(cluster3, tmp_path):
    marks = tmp_path / "marks"
    marks.mkdir()
    inputs = write_lines(tmp_path / "in", files=3, lines_per_file=10)
    job = cluster3.client.submit(_timing_job(tmp_path, marks), [inputs],
                                 str(tmp_path / "out"), reducers=3,
                                 combine_files=False)      # a map per file
    status = job.wait(timeout_s=PATIENT_S)
    maps, reduces = _recorded(marks, "map"), _recorded(marks, "reduce")
    assert len(maps) == status["maps_total"] and len(reduces) == 3
    assert _overlap_on_different_workers(maps)          # really ran at the same time
    assert _overlap_on_different_workers(reduces)
    # and a reduce starts only once every map has finished
    assert min(start for _, start, _ in reduces) >= max(end for _, _, end in maps)
    assert _overlap_on_different_workers(_intervals(status, "map"))


def test_default_splits_and_reducers_run_in_parallel(cluster3, tmp_path):
    """MIT 6.5840's map-parallelism test with the defaults (no combine_files=False, no
    reducers): 3 files of ~90 KB are cut for the 3 slots; their map output is cut into 3
    partitions, which, being tiny, are coalesced into fewer reduce tasks (the reduce
    parallelism of an explicit count is the test above)."""
    marks = tmp_path / "marks"
    marks.mkdir()
    inputs = write_lines(tmp_path / "in", files=3, lines_per_file=5000)
    status = cluster3.client.submit(_timing_job(tmp_path, marks), [inputs],
                                    str(tmp_path / "out")).wait(timeout_s=PATIENT_S)
    maps, reduces = _recorded(marks, "map"), _recorded(marks, "reduce")
    assert len(maps) == status["maps_total"] >= 3 and status["partitions"] == 3
    assert len(reduces) == status["reduces_total"] < 3
    assert _overlap_on_different_workers(maps)


def test_worker_joining_mid_job_gets_work(tmp_path):
    with LocalCluster(workers=1, base_dir=str(tmp_path / "c")) as cluster:
        inputs = write_lines(tmp_path / "in", files=8, lines_per_file=5)
        job = cluster.client.submit(os.path.join(JOBS, "slow.py"), [inputs],
                                    str(tmp_path / "out"), reducers=2,
                                    combine_files=False)      # a map per file
        while job.status()["maps_done"] == 0:
            time.sleep(0.05)
        cluster.add_worker()
        status = job.wait(timeout_s=PATIENT_S)
        workers = {a[1] for t in status["tasks"] for a in t["attempts"]}
        assert workers == {"local-1", "local-2"}


def test_workers_exit_cleanly_when_told_to_stop(tmp_path):
    cluster = LocalCluster(workers=2, base_dir=str(tmp_path / "c"))
    cluster.start()
    procs = list(cluster.workers.values())
    cluster.client.shutdown_cluster("test")
    for proc in [*procs, cluster.coordinator]:
        assert proc.wait(timeout=PATIENT_S) == 0
    cluster.stop()


def test_embedded_cluster_dies_with_a_killed_zmr_run(tmp_path):
    import subprocess
    import sys

    inputs = write_lines(tmp_path / "in", files=4, lines_per_file=5)
    env = dict(os.environ, ZMR_TEST_DELAY_S="30")
    run = subprocess.Popen([sys.executable, "-m", "zmr", "run", os.path.join(JOBS, "slow.py"),
                            "--input", inputs, "--output", str(tmp_path / "out"),
                            "--workers", "2", "-q"], env=env)
    deadline = time.monotonic() + PATIENT_S
    children = []
    while time.monotonic() < deadline and len(children) < 3:
        children = _children(run.pid)
        time.sleep(0.1)
    assert len(children) >= 3                       # coordinator + 2 workers
    run.send_signal(signal.SIGKILL)
    run.wait()
    deadline = time.monotonic() + PATIENT_S
    while time.monotonic() < deadline and any(os.path.exists(f"/proc/{p}") for p in children):
        time.sleep(0.1)
    assert not any(os.path.exists(f"/proc/{p}") for p in children)


def test_a_killed_workers_task_processes_do_not_linger(tmp_path, monkeypatch):
    """kill -9 of a worker: its running attempt (a fork server child, not the worker's),
    the fork server and the resource tracker all go within seconds: no orphans."""
    monkeypatch.setenv("ZMR_TEST_DELAY_S", "60")     # read by slow.py when the job is loaded
    with LocalCluster(workers=1, base_dir=str(tmp_path / "c")) as cluster:
        inputs = write_lines(tmp_path / "in", files=1, lines_per_file=3)
        job = cluster.client.submit(os.path.join(JOBS, "slow.py"), [inputs],
                                    str(tmp_path / "out"))
        while not any(t["attempts"] for t in job.status()["tasks"]):
            time.sleep(0.05)
        worker = cluster.workers["local-1"]
        descendants = _descendants(worker.pid)
        deadline = time.monotonic() + PATIENT_S  # until the attempt's process has started
        while len(descendants) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
            descendants = _descendants(worker.pid)
        assert len(descendants) >= 3            # fork server, resource tracker, the attempt
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        deadline = time.monotonic() + PATIENT_S
        while _alive(descendants) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _alive(descendants) == []


def _descendants(pid: int) -> list[int]:
    children = _children(pid)
    return children + [d for c in children for d in _descendants(c)]


def _alive(pids: list[int]) -> list[int]:
    alive = []
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] != "Z":
                    alive.append(pid)
        except OSError:
            pass
    return alive


def _children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(entry))
            except OSError:
                pass
    return out


def test_cancel_kills_running_attempts_and_removes_output(cluster3, tmp_path):
    inputs = write_lines(tmp_path / "in", files=3, lines_per_file=5)
    os.environ["ZMR_TEST_DELAY_S"] = "30"        # read by slow.py when the job is loaded
    try:
        job = cluster3.client.submit(os.path.join(JOBS, "slow.py"), [inputs],
                                     str(tmp_path / "out"))
    finally:
        del os.environ["ZMR_TEST_DELAY_S"]
    while not any(t["attempts"] for t in job.status()["tasks"]):
        time.sleep(0.05)
    started = time.monotonic()
    job.cancel()
    assert job.status()["state"] == "CANCELLED"
    while any(w["free_slots"] == 0 for w in cluster3.client.workers()) and \
            time.monotonic() - started < 10:
        time.sleep(0.1)
    assert time.monotonic() - started < 10     # slots freed in seconds, not after 30 s
    assert not (tmp_path / "out").exists()
