"""``zmr cluster start N`` / ``status`` / ``stop``: detached processes with pid files and
logs in a run folder; stop escalates from a graceful shutdown to SIGTERM to SIGKILL and
touches nothing it did not start."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys

from tests.helpers import (
    EXAMPLES,
    PATIENT_S,
    ROOT,
    standalone_config,
    wait_until,
    write_lines,
)
from zmr.client import Client

RUN_CLUSTER = os.path.join(ROOT, "run_cluster.sh")


def _config(tmp_path) -> str:
    return standalone_config(tmp_path)


def _zmr(tmp_path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "zmr", "cluster", *args,
                           "--run-dir", str(tmp_path / "run")], text=True,
                          capture_output=True, timeout=180, check=check)


def _pids(tmp_path) -> dict[str, int]:
    run = tmp_path / "run"
    return {f[:-4]: int((run / f).read_text()) for f in os.listdir(run) if f.endswith(".pid")}


def test_start_status_job_stop(tmp_path):
    config = _config(tmp_path)
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        started = _zmr(tmp_path, "start", "2", "--config", config).stdout
        assert started.count("started ") == 3, started
        pids = _pids(tmp_path)
        assert sorted(pids) == ["coordinator", "worker-1", "worker-2"]
        status = _zmr(tmp_path, "status").stdout       # the config is remembered
        assert status.count(" running ") == 3 and "2 worker(s) registered" in status, status
        # each member says the id it registers with, as zmr workers lists it
        assert f"worker-1     pid {pids['worker-1']:<8} running  as " \
            f"{socket.gethostname()}-worker-1  log" in status, status
        more = _zmr(tmp_path, "start", "1").stdout      # adds a worker, not a coordinator
        assert "started worker-3" in more and "coordinator" not in more, more
        with Client(config) as client:
            inputs = write_lines(tmp_path / "in", files=2, lines_per_file=50)
            job = client.submit(os.path.join(EXAMPLES, "wordcount.py"), [inputs],
                                str(tmp_path / "out"), reducers=2)
            assert job.wait(timeout_s=PATIENT_S)["state"] == "SUCCEEDED"
        stopped = _zmr(tmp_path, "stop").stdout
        assert stopped.split() == ["worker-3", "stopped", "worker-1", "stopped", "worker-2",
                                   "stopped", "coordinator", "stopped"] or \
            sorted(stopped.splitlines()) == sorted(f"{n} stopped" for n in
                                                   [*pids, "worker-3"]), stopped
        assert not _pids(tmp_path)
        assert bystander.poll() is None                  # not ours: left alone
        after = _zmr(tmp_path, "status", check=False)
        assert after.returncode == 3 and "not reachable" in after.stdout
    finally:
        bystander.kill()
        _zmr(tmp_path, "stop", check=False)


def test_stop_escalates_to_sigkill_and_skips_dead_pids(tmp_path):
    config = _config(tmp_path)
    try:
        _zmr(tmp_path, "start", "2", "--config", config, "--no-coordinator", "--timeout",
             "1", check=False)        # no coordinator: the workers never register
        pids = _pids(tmp_path)
        assert sorted(pids) == ["worker-1", "worker-2"]
        os.kill(pids["worker-1"], signal.SIGKILL)
        os.kill(pids["worker-2"], signal.SIGSTOP)        # deaf to SIGTERM
        stopped = _zmr(tmp_path, "stop", "--grace", "1", "--kill-after", "1").stdout
        assert "worker-1 gone" in stopped and "worker-2 killed" in stopped, stopped
        assert not _pids(tmp_path)
    finally:
        _zmr(tmp_path, "stop", "--grace", "1", "--kill-after", "1", check=False)


def test_start_refuses_a_different_config_while_running(tmp_path):
    config = _config(tmp_path)
    try:
        _zmr(tmp_path, "start", "0", "--config", config)
        other = _config(tmp_path / "other") if (tmp_path / "other").mkdir() is None else ""
        refused = _zmr(tmp_path, "start", "1", "--config", other, check=False)
        assert refused.returncode == 2 and "already runs processes" in refused.stderr
        bad = _zmr(tmp_path, "start", "-1", check=False)
        assert bad.returncode == 2 and ">= 0" in bad.stderr
    finally:
        _zmr(tmp_path, "stop", check=False)


def test_a_killed_worker_is_reported_dead_once_then_restarted_and_one_worker_stopped(
        tmp_path):
    """A kill -9ed worker stayed in zmr cluster status for ever, and no command stopped or
    restarted one worker (issue 26)."""
    config = _config(tmp_path)
    try:
        _zmr(tmp_path, "start", "2", "--config", config)
        pids = _pids(tmp_path)
        os.kill(pids["worker-1"], signal.SIGKILL)
        wait_until(lambda: not _alive(pids["worker-1"]), "the killed worker to be reaped")
        found = _zmr(tmp_path, "status", check=False)
        assert found.returncode == 1, found.stdout
        assert f"worker-1     pid {pids['worker-1']:<8} dead (not running; pid file " \
            "removed)" in found.stdout, found.stdout
        assert "worker-1" not in _pids(tmp_path)             # reported once, then forgotten
        again = _zmr(tmp_path, "status")
        assert "worker-1     pid" not in again.stdout and again.returncode == 0
        host = socket.gethostname()
        restarted = _zmr(tmp_path, "restart", "worker-1").stdout
        assert restarted.startswith(f"restarted worker-1 as {host}-worker-1 (pid "), restarted
        assert _pids(tmp_path)["worker-1"] != pids["worker-1"]
        assert {w["worker_id"] for w in Client(config).workers()} >= {f"{host}-worker-1"}
        stopped = _zmr(tmp_path, "stop", f"{host}-worker-2").stdout   # by its id too
        assert stopped == "worker-2 stopped\n", stopped
        assert not _alive(pids["worker-2"]) and sorted(_pids(tmp_path)) == [
            "coordinator", "worker-1"]
        unknown = _zmr(tmp_path, "restart", "worker-9", check=False)
        assert unknown.returncode == 2 and "no worker 'worker-9'" in unknown.stderr
        assert "worker-1, worker-2" in unknown.stderr
        more = _zmr(tmp_path, "start", "1").stdout    # a dead worker's number is not reused
        assert "started worker-3" in more, more
    finally:
        _zmr(tmp_path, "stop", check=False)


def _alive(pid: int) -> bool:
    """Running and not a zombie (a worker started detached is reaped by init)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_stop_stops_a_coordinator_started_by_hand_as_the_tutorial_does(tmp_path):
    """python -m zmr.coordinator CONFIG & then ./run_cluster.sh N: zmr cluster stop left
    the coordinator running (issue 26). It is asked to shut down (its workers with it) and
    named; another cluster's coordinator is left alone."""
    config = _config(tmp_path)
    (tmp_path / "other").mkdir()
    other = _config(tmp_path / "other")
    env = dict(os.environ, ZMR_RUN_DIR=str(tmp_path / "run"), PYTHON=sys.executable)
    coordinator, bystander = (subprocess.Popen(
        [sys.executable, "-m", "zmr.coordinator", c], stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True,
        env=dict(os.environ, ZMR_DASHBOARD_PORT="-1")) for c in (config, other))
    try:
        subprocess.run([RUN_CLUSTER, "2", config], env=env, check=True, timeout=PATIENT_S,
                       capture_output=True)
        workers = _pids(tmp_path)
        assert sorted(workers) == ["worker-1", "worker-2"]
        again = _zmr(tmp_path, "start", "1").stdout        # the coordinator is not doubled
        assert f"coordinator already running (pid {coordinator.pid}," in again, again
        stopped = subprocess.run([RUN_CLUSTER, "stop"], env=env, check=True, text=True,
                                 timeout=PATIENT_S, capture_output=True).stdout
        assert f"coordinator (pid {coordinator.pid}, not started by zmr cluster start) " \
            "stopped" in stopped, stopped
        assert coordinator.wait(timeout=PATIENT_S) == 0
        assert "worker-1 stopped" in stopped and "worker-3 stopped" in stopped, stopped
        assert not any(_alive(pid) for pid in workers.values())
        with Client(other) as client:
            assert bystander.poll() is None and client.workers() == []
        nothing = _zmr(tmp_path, "stop").stdout            # stopped: nothing left to stop
        assert nothing.startswith("nothing to stop in "), nothing
        # a folder that started nothing stops no coordinator, unless told its config
        empty = tmp_path / "empty"
        assert _zmr(empty, "stop").stdout.startswith("nothing to stop in ")
        assert bystander.poll() is None
        told = _zmr(empty, "stop", "--config", other).stdout
        assert f"coordinator (pid {bystander.pid}," in told, told
        assert bystander.wait(timeout=PATIENT_S) == 0
    finally:
        subprocess.run([RUN_CLUSTER, "stop"], env=env, timeout=PATIENT_S, capture_output=True)
        for proc in (coordinator, bystander):
            proc.kill()
            proc.wait()
