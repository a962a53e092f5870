"""``zmr cluster start N`` / ``status`` / ``stop``: detached processes with pid files and
logs in a run folder; stop escalates from a graceful shutdown to SIGTERM to SIGKILL and
touches nothing it did not start."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys

from tests.helpers import EXAMPLES, PATIENT_S, standalone_config, write_lines
from zmr.client import Client


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
        status = _zmr(tmp_path, "status", check=False)
        assert "worker-1     pid" in status.stdout and "not running" in status.stdout
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
