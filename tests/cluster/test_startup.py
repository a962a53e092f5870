"""Start-up in any order and coordinators that come back after any delay: workers keep
retrying registration with capped exponential backoff (Hadoop NodeManagers and Spark
workers do the same) instead of giving up after a few seconds.

Here real processes retry on real sockets through a few seconds of silence; that the
tries go on, the wait capped, through silences of any length (an hour, simulated) is
tested on the worker's state machine (``tests/worker/test_state.py``), without waiting."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import urllib.request

import pytest

from tests.helpers import (
    JOBS,
    PATIENT_S,
    marking_job,
    output_bytes,
    wait_through_restart,
    wait_until,
    write_lines,
)
from zmr.config import write_config
from zmr.core.errors import ZmrError
from zmr.runners.inline import run_inline
from zmr.runners.local import LocalCluster

#: Several tries on a fresh socket at 0.2 s beats (0.4, 0.8, 1.6, 3.2 s apart).
SILENCE_S = 3.0
SILENT = re.compile(r"silent for (\d+\.\d)s, registering again")


def _silent_for(cluster: LocalCluster, worker_id: str) -> float:
    """The longest coordinator silence the worker's log says it retried through."""
    with open(os.path.join(cluster.logs_dir, f"{worker_id}.log"), errors="replace") as f:
        return max((float(s) for s in SILENT.findall(f.read())), default=0.0)


def _retrying_past(cluster: LocalCluster, seconds: float) -> None:
    """Wait until every worker has retried through ``seconds`` of silence, alive."""
    for worker_id, proc in cluster.workers.items():
        wait_until(lambda w=worker_id: _silent_for(cluster, w) > seconds,
                    f"{worker_id} to retry past {seconds}s", interval_s=0.2)
        assert proc.poll() is None, f"{worker_id} exited with {proc.returncode}"


def test_workers_started_before_their_coordinator_register_once_it_is_up(tmp_path):
    inputs = write_lines(tmp_path / "in", files=3, lines_per_file=20)
    cluster = LocalCluster(workers=0, base_dir=str(tmp_path / "c"), heartbeat_interval_s=0.2)
    os.makedirs(cluster.logs_dir)
    write_config(cluster.config_path, cluster.settings)
    try:
        cluster.add_worker()
        cluster.add_worker()
        early = dict(cluster.workers)
        _retrying_past(cluster, SILENCE_S)
        cluster.start()                              # the coordinator, at last
        # the same processes: a second one under an id would fight the first for it
        assert cluster.workers == early
        cluster.wait_for_workers(2, timeout_s=PATIENT_S)
        job = cluster.client.submit(os.path.join(JOBS, "slow_reduce.py"), [inputs],
                                    str(tmp_path / "out"), reducers=2, combine_files=False)
        status = job.wait(timeout_s=PATIENT_S)
    finally:
        cluster.stop()
    assert status["state"] == "SUCCEEDED"
    run_inline(os.path.join(JOBS, "slow_reduce.py"), [inputs], str(tmp_path / "inline"),
               reducers=2)
    assert output_bytes(str(tmp_path / "out")) == output_bytes(str(tmp_path / "inline"))


def test_a_coordinator_back_after_a_silence_gets_its_workers_and_finishes_the_job(tmp_path):
    marks = tmp_path / "marks"
    marks.mkdir()
    inputs = write_lines(tmp_path / "in", files=4, lines_per_file=50)
    with LocalCluster(workers=2, base_dir=str(tmp_path / "c"), heartbeat_interval_s=0.2,
                      liveness=3) as cluster:
        job = cluster.client.submit(marking_job(tmp_path, marks), [inputs],
                                    str(tmp_path / "out"), reducers=2,
                                    combine_files=False)      # a map per file
        wait_until(lambda: job.status()["maps_done"] == 4, "the maps")
        cluster.kill_coordinator()                  # reducers are sleeping in reducer_final
        _retrying_past(cluster, SILENCE_S)
        cluster.start_coordinator()
        status = wait_through_restart(job)
        cluster.wait_for_workers(2, timeout_s=PATIENT_S)   # the same workers came back
    assert status["state"] == "SUCCEEDED"
    assert len(os.listdir(marks)) == 4              # no finished map ran again
    assert all(len(t["attempts"]) == 1 for t in status["tasks"] if t["task"] == "map")
    assert status["counters"]["zmr"]["MAP_INPUT_RECORDS"] == 200
    run_inline(os.path.join(JOBS, "slow_reduce.py"), [inputs], str(tmp_path / "inline"),
               reducers=2)
    assert output_bytes(str(tmp_path / "out")) == output_bytes(str(tmp_path / "inline"))


def test_a_worker_gives_up_only_when_told_to(tmp_path):
    cluster = LocalCluster(workers=1, base_dir=str(tmp_path / "c"), heartbeat_interval_s=0.2,
                           give_up_after_s=2.0)
    cluster.start()
    try:
        cluster.kill_coordinator()
        proc = cluster.workers["local-1"]
        assert proc.wait(timeout=PATIENT_S) == 0
        with open(os.path.join(cluster.logs_dir, "local-1.log")) as f:
            assert "[worker] give_up_after_s = 2" in f.read()
    finally:
        cluster.stop()


def _zmr(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "zmr", *args], capture_output=True, text=True,
                          timeout=PATIENT_S)


def test_a_job_without_workers_says_so_everywhere_until_one_comes(tmp_path):
    inputs = write_lines(tmp_path / "in", files=2, lines_per_file=10)
    with LocalCluster(workers=0, base_dir=str(tmp_path / "c"),
                      settings={("coordinator", "no_worker_warning_s"): 1.0}) as cluster:
        # no worker registered or coming: planned for one worker's slots (worker.slots)
        assert cluster.client.parallelism() == 1
        job = cluster.client.submit(os.path.join(JOBS, "slow_reduce.py"), [inputs],
                                    str(tmp_path / "out"))
        wait_until(lambda: job.status()["warning"], "the no-worker warning")
        status = _zmr("status", job.job_id, "--config", cluster.config_path)
        assert "warning: no live worker for" in status.stdout
        assert "no_worker_warning_s = 1" in status.stdout
        logs = _zmr("logs", job.job_id, "--config", cluster.config_path)
        assert f"zmr: warning: {job.job_id}: no live worker" in logs.stderr
        port = cluster.client.config.dashboard.port
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/jobs", timeout=PATIENT_S) as r:
            assert "no live worker" in json.load(r)["jobs"][0]["warning"]
        coordinator_log = os.path.join(cluster.logs_dir, "coordinator.log")
        wait_until(lambda: f"job={job.job_id}: no live worker" in open(coordinator_log).read(),
                   "the coordinator's log line")
        cluster.add_worker()
        assert job.wait(timeout_s=PATIENT_S)["warning"] == ""
        wait_until(lambda: "workers registered again" in open(coordinator_log).read(),
                   "the all-clear in the log")


def test_an_embedded_worker_that_dies_at_start_is_an_error_with_its_log(tmp_path):
    """``zmr run``'s cluster waits as long as its workers live, and no longer: a worker that
    cannot start (here: its shuffle port is taken) ends the run at once with the end of
    its log, and the logs outlive the run."""
    squatter = socket.socket()
    squatter.bind(("127.0.0.1", 0))
    squatter.listen()
    port = squatter.getsockname()[1]
    cluster = LocalCluster(workers=1, base_dir=None, settings={
        ("worker", "shuffle_ports"): f"{port}-{port}"})
    try:
        with pytest.raises(ZmrError) as error:
            cluster.start()
    finally:
        squatter.close()
    message = str(error.value)
    assert "worker local-1 exited with code 2 while starting" in message
    assert f'[worker] shuffle_ports = "{port}-{port}": cannot bind' in message  # the tail
    assert os.path.isfile(os.path.join(cluster.logs_dir, "local-1.log"))    # kept
    assert not os.path.exists(os.path.join(cluster.base_dir, "workers"))
    shutil.rmtree(cluster.base_dir)


def test_an_embedded_cluster_whose_picked_port_was_taken_picks_others(tmp_path):
    """Ports are picked free before the coordinator binds them; another process (a second
    ``zmr run``, any outgoing connection) may take one meanwhile: start() tries again."""
    cluster = LocalCluster(workers=1, base_dir=str(tmp_path / "c"))
    taken = socket.socket()
    taken.bind(("127.0.0.1", cluster.settings["coordinator", "report_port"]))
    taken.listen()
    try:
        with cluster:
            assert len(cluster.client.workers()) == 1
            assert cluster.client.config.coordinator.report_port != taken.getsockname()[1]
    finally:
        taken.close()
