"""The command line's exit codes, from real zmr processes: 0 success, 1 job failed, 2 usage
or job definition error, 3 cluster unreachable, 4 cancelled (130/143 for signals are in
test_embedded_run.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from tests.helpers import EXAMPLES, JOBS, PATIENT_S, write_lines
from zmr.config import write_config
from zmr.runners.local import LocalCluster
from zmr.transport.sockets import free_port

WORDCOUNT = os.path.join(EXAMPLES, "wordcount.py")


def _zmr(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "zmr", *args], capture_output=True,
                          text=True, timeout=180, env=env or dict(os.environ))


def test_success_usage_definition_and_failure(tmp_path):
    inputs = write_lines(tmp_path / "in", files=1, lines_per_file=20)
    (tmp_path / "bad.py").write_text("def mapper(k, v):\n    yield k v\n")
    (tmp_path / "boom").mkdir()
    (tmp_path / "boom" / "x.txt").write_text("fine\nboom\n")
    out = str(tmp_path / "out")
    assert _zmr("run", WORDCOUNT, "-i", inputs, "-o", out, "--inline").returncode == 0
    assert _zmr("run", WORDCOUNT, "-i", inputs, "--no-such-flag").returncode == 2
    assert _zmr("run", str(tmp_path / "bad.py"), "-i", inputs, "-o",
                str(tmp_path / "o2")).returncode == 2
    assert _zmr("run", WORDCOUNT, "-i", str(tmp_path / "missing"), "-o",
                str(tmp_path / "o3")).returncode == 2
    assert _zmr("run", WORDCOUNT, "-i", inputs, "-o", out).returncode == 2   # output exists
    assert _zmr("run", WORDCOUNT, "-i", inputs, "-o", str(tmp_path / "o4"),
                "--split-size", "lots").returncode == 2
    failed = _zmr("run", os.path.join(JOBS, "fails_on_boom.py"), "-i", str(tmp_path / "boom"),
                  "-o", str(tmp_path / "o5"), "--workers", "1")
    assert failed.returncode == 1 and "ValueError: bad record" in failed.stderr


def test_an_unreachable_cluster_exits_3(tmp_path):
    config = tmp_path / "cluster.toml"
    # nothing will answer, so a short [client] timeout_s only saves waiting out the default
    write_config(str(config), {("coordinator", "control_port"): free_port(),
                               ("client", "timeout_s"): 2.0})
    status = _zmr("status", env=dict(os.environ, ZMR_CONFIG=str(config)))
    assert status.returncode == 3 and "did not answer" in status.stderr


def test_a_cancelled_job_exits_4(tmp_path, monkeypatch):
    gate = tmp_path / "gate"
    monkeypatch.setenv("ZMR_TEST_GATE", str(gate))
    inputs = write_lines(tmp_path / "in", files=1, lines_per_file=20)
    gated = os.path.join(os.path.dirname(__file__), "..", "jobs", "gated.py")
    with LocalCluster(workers=1, base_dir=str(tmp_path / "c")) as cluster:
        env = dict(os.environ, ZMR_CONFIG=cluster.config_path)
        waiting = subprocess.Popen([sys.executable, "-m", "zmr", "submit", gated, "-i", inputs,
                                    "-o", str(tmp_path / "out"), "--wait"], env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        job_id = waiting.stdout.readline().strip()
        deadline = time.monotonic() + PATIENT_S
        while cluster.client.job(job_id)["state"] != "RUNNING":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        cluster.client.cancel(job_id)
        _, err = waiting.communicate(timeout=PATIENT_S)
        assert waiting.returncode == 4, err
        assert f"{job_id} CANCELLED" in err
